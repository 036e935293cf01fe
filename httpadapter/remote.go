package httpadapter

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
)

// BAS-IP's remote access server: a panel configured with a server URL
// POSTs {"identifier_number":"...","identifier_type":"card"|"input_code"|"qr"}
// for every credential presented to it and waits for the answer before it
// opens (up to 10 s):
//
//	{"handled":false}                                      the panel decides itself
//	{"handled":true,"access":{"granted":false}}
//	{"handled":true,"access":{"granted":true,"lock_number":N}}  0 both locks, 1..8 one
//
// The route is POST /api/v1/remote/access. Panels send no user credentials:
// each panel of the Panels registry has a secret, given as the URL's key
// parameter (/api/v1/remote/access?key=SECRET, the form a panel's URL
// setting can carry) or as "Authorization: Bearer SECRET". The secret is
// checked by panel.Registry.PanelBySecret (a SHA-256 compared in constant
// time); a caller whose secret is wrong gets 401 {"error":"Log In"} and,
// after Limits.LoginFailures wrong secrets from one address within
// Limits.LoginWindow, 429 until the window passes. Valid panels never wait
// on that throttle.
//
// The decision is access.Service.Decide's, once per request:
//   - identifier_type card is a card or, if no card has the number, a key
//     fob (ukey), and ukey the other way round; input_code is inputCode; qr
//     and license_plate are themselves. Any other type (a face, whose
//     match only the panel's recogniser knows) is not one Lintel decides:
//     {"handled":false}.
//   - The lock: the URL's lock parameter (1 or 2) names the door the
//     panel's reader serves; without it the decision is for the first
//     lock, or the second if the identifier opens only that one. A grant
//     asked without a lock parameter answers lock_number 0 (both locks)
//     when the credential, checked after the decision, opens the other
//     lock as well; otherwise it answers the lock decided.
//   - A credential Lintel does not know is denied, unless
//     Config.RemoteFallback is set: then it is {"handled":false}, so that
//     the panel decides from its own list. Everything Lintel knows is
//     decided by Lintel, denials included.
//
// Every decision lands in the journal (access.WithJournal) with Source
// "remote:SERIAL", shown in BAS-IP's log as
// access_granted_by_remote_server_api_call or
// access_denied_by_remote_server_api_call. A request Lintel does not handle
// decides nothing and journals nothing.

// maxRemoteBody bounds a remote access request's body.
const maxRemoteBody = 4 << 10

// remoteRequest is the body a panel posts.
type remoteRequest struct {
	Number *string `json:"identifier_number"`
	Type   *string `json:"identifier_type"`
}

// remoteAccess and remoteResponse are the answer.
type remoteAccess struct {
	Granted    bool `json:"granted"`
	LockNumber *int `json:"lock_number,omitempty"`
}

type remoteResponse struct {
	Handled bool          `json:"handled"`
	Access  *remoteAccess `json:"access,omitempty"`
}

// remote is the remote access server.
type remote struct {
	cfg      Config
	svc      *access.Service
	panels   *panel.Registry
	failures *throttle // wrong secrets, per address
}

func newRemote(cfg Config) *remote {
	return &remote{cfg: cfg, svc: cfg.Access, panels: cfg.Panels,
		failures: newThrottle(cfg.Limits, maxThrottleKeys, maxKnownUsers, cfg.Now)}
}

func (rm *remote) table() table {
	return table{api: rm, routes: []route{{http.MethodPost, "/api/v1/remote/access", "", rm.decide}}}
}

func (rm *remote) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rt.handle(w, r, &call{}); err != nil {
			rm.fail(w, r, err)
		}
	})
}

func (rm *remote) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrBadCredentials) {
		writeJSON(w, http.StatusUnauthorized, errorBody(MsgLogIn))
		return
	}
	answerPanelError(rm.cfg, w, r, err)
}

// authenticate finds the calling panel by its secret. Only a wrong secret
// meets the throttle: a valid panel takes no lock but the registry's.
func (rm *remote) authenticate(r *http.Request) (panel.Panel, error) {
	secret := r.URL.Query().Get("key")
	if secret == "" {
		secret = bearerToken(r)
	}
	p, err := rm.panels.PanelBySecret(r.Context(), secret)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, panel.ErrBadSecret) && !errors.Is(err, panel.ErrNotFound) {
		return panel.Panel{}, err
	}
	_, err = rm.failures.check(r, "remote", func() (Account, error) { return Account{}, ErrBadCredentials })
	return panel.Panel{}, err
}

func (rm *remote) decide(w http.ResponseWriter, r *http.Request, _ *call) error {
	p, err := rm.authenticate(r)
	if err != nil {
		return err
	}
	logUser(r, p.Serial)
	lock := access.Door(0)
	switch s := r.URL.Query().Get("lock"); s {
	case "":
	case "1", "2":
		lock = access.Door(s[0] - '0')
	default:
		return &panelError{http.StatusBadRequest, "Wrong lock"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRemoteBody))
	if err != nil {
		return errBadJSON
	}
	var req remoteRequest
	if err := decodeObject(body, &req); err != nil || req.Number == nil || req.Type == nil || *req.Number == "" {
		return errBadJSON
	}
	ctx := journal.WithSource(r.Context(), RemoteSource+":"+p.Serial)
	if err := rm.panels.Seen(ctx, p.Serial); err != nil {
		rm.cfg.Logger.WarnContext(ctx, "panel heartbeat not recorded", "panel", p.Serial, "err", err)
	}
	types := remoteTypes(*req.Type)
	if types == nil {
		writeJSON(w, http.StatusOK, remoteResponse{Handled: false})
		return nil
	}
	req1 := access.Request{Type: types[0], Number: *req.Number, Lock: lock, At: rm.cfg.Now()}
	// Probe without consuming (Check journals nothing) to find the type
	// and the lock, then decide once.
	if lock == 0 {
		req1.Lock = access.FirstDoor
	}
	probe, err := rm.svc.Check(ctx, req1)
	if err != nil {
		return err
	}
	if probe.Reason == access.UnknownCredential && len(types) > 1 {
		req1.Type = types[1]
		if probe, err = rm.svc.Check(ctx, req1); err != nil {
			return err
		}
		if probe.Reason == access.UnknownCredential {
			req1.Type = types[0] // unknown either way: journaled as the panel named it
		}
	}
	if probe.Reason == access.UnknownCredential && rm.cfg.RemoteFallback {
		writeJSON(w, http.StatusOK, remoteResponse{Handled: false})
		return nil
	}
	if probe.Reason == access.WrongLock && lock == 0 {
		req1.Lock = access.SecondDoor
	}
	d, err := rm.svc.Decide(ctx, req1)
	if err != nil {
		return err
	}
	res := remoteResponse{Handled: true, Access: &remoteAccess{Granted: d.Allow}}
	if d.Allow {
		n := int(req1.Lock)
		if lock == 0 {
			// Asked for no lock: open both if the credential opens the
			// other one too, as checked after this decision.
			other := req1
			other.Lock = access.FirstDoor + access.SecondDoor - req1.Lock
			if both, err := rm.svc.Check(ctx, other); err == nil && both.Allow {
				n = 0
			}
		}
		res.Access.LockNumber = &n
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// remoteTypes are the identifier types a remote request's type may be, in
// the order they are tried; nil for a type Lintel does not decide.
func remoteTypes(t string) []access.IdentifierType {
	switch strings.ToLower(t) {
	case "card":
		return []access.IdentifierType{access.Card, access.UKey}
	case "ukey":
		return []access.IdentifierType{access.UKey, access.Card}
	case "input_code", "inputcode":
		return []access.IdentifierType{access.InputCode}
	case "qr":
		return []access.IdentifierType{access.QR}
	case "license_plate":
		return []access.IdentifierType{access.LicensePlate}
	}
	return nil
}
