package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/panel"
)

// BAS-IP's Link management channel, HTTP variant: the panel is the client.
//
//	POST /api/v0/devices/login    {"login":SERIAL,"password":P} → {"token":T}
//	PUT  /api/v0/devices/logs     Bearer T, {"events":[{"created_at","category","code","info"}]}
//	POST /api/v0/devices/pong     Bearer T, the heartbeat (about every 10 s)
//	POST /api/v0/devices/refresh  Bearer T
//
// Passwords and tokens are the Panels registry's (panel.Registry.Login,
// Authenticate): a token is valid on every server sharing the store. A
// wrong password counts against a login throttle of the channel's own
// (the Limits' bounds; user "panel:SERIAL"), is journaled by package
// panel, and is answered 401 {"error":"Wrong login or password"}; a
// missing or unknown token 401 {"error":"Log In"}.
//
// Content-Type is not reliable on this channel, so bodies are decoded by
// their content, bounded by maxLinkBody: a JSON object, or for the login a
// form (login=...&password=...). Pushed events are written idempotently
// (panel.Registry.PushLogs keys each by panel and content), so the backlog
// a panel replays when the channel is first enabled is stored once; the
// push is answered only once it is durable. Every authenticated call
// records the panel's heartbeat (panel.Registry.Seen); the answer to pong,
// refresh and logs is {"success":true}. A token stays valid for the
// registry's token life; refresh does not replace it, and a panel whose
// token expired logs in again on the 401.

// maxLinkBody bounds a Link channel body: a page of 100 events with their
// info fits many times over.
const maxLinkBody = 2 << 20

// linkLogin is the login's body.
type linkLogin struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type link struct {
	cfg    Config
	panels *panel.Registry
	logins *throttle
}

// newLink's throttle is its own: package panel journals a panel's failed
// login itself, with the serial as its source.
func newLink(cfg Config) *link {
	return &link{cfg: cfg, panels: cfg.Panels, logins: newThrottle(cfg.Limits, maxThrottleKeys, maxKnownUsers, cfg.Now)}
}

func (l *link) table() table {
	return table{api: l, prefix: "/api/v0/devices/", routes: []route{
		{http.MethodPost, "/api/v0/devices/login", "", l.login},
		{http.MethodPut, "/api/v0/devices/logs", Manager, l.logs},
		{http.MethodPost, "/api/v0/devices/pong", Manager, l.ok},
		{http.MethodPost, "/api/v0/devices/refresh", Manager, l.ok},
	}}
}

// serve authenticates the panel by its Bearer token (all routes but the
// login) and records its heartbeat.
func (l *link) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{}
		var err error
		if rt.need != "" {
			var serial string
			serial, err = l.panels.Authenticate(r.Context(), bearerToken(r))
			if err == nil {
				logUser(r, serial)
				c.acct = Account{Username: serial}
				if err := l.panels.Seen(r.Context(), serial); err != nil {
					l.cfg.Logger.WarnContext(r.Context(), "panel heartbeat not recorded", "panel", serial, "err", err)
				}
			}
		}
		if err == nil {
			err = rt.handle(w, r, c)
		}
		if err != nil {
			l.fail(w, r, err)
		}
	})
}

func (l *link) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrBadCredentials):
		writeJSON(w, http.StatusUnauthorized, errorBody(MsgWrongLogin))
	case errors.Is(err, panel.ErrBadToken):
		writeJSON(w, http.StatusUnauthorized, errorBody(MsgLogIn))
	case errors.Is(err, panel.ErrInvalidEvent), errors.Is(err, panel.ErrTooManyEvents):
		writeJSON(w, http.StatusBadRequest, errorBody(string(access.ErrWrongJSONBody)+": "+err.Error()))
	default:
		answerPanelError(l.cfg, w, r, err)
	}
}

// body reads a bounded body.
func (l *link) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readBody(w, r, maxLinkBody)
	return bytes.TrimSpace(body), err
}

func (l *link) login(w http.ResponseWriter, r *http.Request, _ *call) error {
	w.Header().Set("Cache-Control", "no-store") // the answer holds a token
	body, err := l.body(w, r)
	if err != nil {
		return err
	}
	var in linkLogin
	if len(body) > 0 && body[0] == '{' {
		if err := decodeObject(body, &in); err != nil {
			return err
		}
	} else if form, err := url.ParseQuery(string(body)); err == nil {
		in = linkLogin{Login: form.Get("login"), Password: form.Get("password")}
	}
	if in.Login == "" || in.Password == "" {
		return &panelError{http.StatusBadRequest, MsgRequiredParameters}
	}
	var token string
	_, err = l.logins.check(r, "panel:"+in.Login, func() (Account, error) {
		var err error
		token, err = l.panels.Login(r.Context(), in.Login, in.Password)
		if errors.Is(err, panel.ErrBadPassword) || errors.Is(err, panel.ErrNotFound) || errors.Is(err, panel.ErrInvalidSerial) {
			return Account{}, ErrBadCredentials
		}
		return Account{Username: in.Login}, err
	})
	if err != nil {
		return err
	}
	logUser(r, in.Login)
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
	return nil
}

func (l *link) logs(w http.ResponseWriter, r *http.Request, c *call) error {
	body, err := l.body(w, r)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := decodeObject(body, &top); err != nil {
		return err
	}
	events, err := decodeList[panel.LogEvent](top["events"], "events", panel.MaxPush)
	if err != nil {
		return err
	}
	if _, err := l.panels.PushLogs(r.Context(), c.acct.Username, events); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// ok answers pong and refresh, whose work (the heartbeat) serve did.
func (l *link) ok(w http.ResponseWriter, _ *http.Request, _ *call) error {
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
