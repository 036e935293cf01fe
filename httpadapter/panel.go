package httpadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/journal"
)

// Message is an error message of the panel API, the "error" of its JSON
// error body. The request errors of package access are answered with the
// panel's texts: access.Message as it is, an *access.ItemError about a
// field as "Wrong JSON body: no value for `list_items[i].field`" (or
// "value `...` was of the wrong type"), and one about a whole item with
// its cause's text.
type Message string

// The panel API's messages. The vendor documents the first four; the
// others are ours.
const (
	MsgRequiredParameters Message = "Required parameters missed"              // 400: login without username or password
	MsgWrongLogin         Message = "Wrong login or password"                 // 400
	MsgLogIn              Message = "Log In"                                  // 401: no token, or an unknown or expired one
	MsgAdminRequired      Message = "Administrator rights required"           // 403: a manager on an admin route
	MsgTooManyLogins      Message = "Too many failed logins, try again later" // 429
	MsgBodyTooLarge       Message = "Request body too large"                  // 413
	MsgListTooLong        Message = "List is too long"                        // 400, followed by ": N, at most M"
	MsgWrongLimit         Message = "Wrong limit: an integer 1..1000"         // 400
	MsgNotFound           Message = "Not found"                               // 404
	MsgMethodNotAllowed   Message = "Method not allowed"                      // 405
	MsgInternal           Message = "Internal error"                          // 500
	MsgNotWritten         Message = "Request ended before it was written"     // 503: deadline passed or client gone; nothing written
)

// MsgLoginsBusy, ours too, answers a login with 429 and Retry-After while
// the server checks as many passwords at once as it may.
const MsgLoginsBusy Message = "Too many logins at once, try again later"

type panelAPI struct {
	cfg    Config
	svc    *access.Service
	logins *throttle

	sessions *sessions
}

func newPanel(cfg Config, logins *throttle) *panelAPI {
	return &panelAPI{cfg: cfg, svc: cfg.Access, logins: logins, sessions: newSessions(cfg.Limits.TokenTTL)}
}

func (p *panelAPI) table() table {
	t := table{api: p, prefix: "/api/v1/", routes: []route{
		{http.MethodGet, "/api/v1/login", "", p.login},
		{http.MethodPost, "/api/v1/logout", Manager, p.logout},
		{http.MethodPost, "/api/v1/access/decide", Manager, p.decide},
	}}
	entity := func(base string, upsert, del, get, list handlerFunc) {
		t.routes = append(t.routes,
			route{http.MethodPost, base + "/update", Admin, upsert},
			route{http.MethodPost, base + "/delete", Admin, del},
			route{http.MethodGet, base + "/{link_id}", Manager, get},
			route{http.MethodGet, base, Manager, list})
	}
	svc := p.svc
	entity("/api/v1/access/users/link", batch(p, "list_items", svc.UpsertUsers), batch(p, "link_ids", svc.DeleteUsers),
		getRoute(svc.GetUser), listRoute(svc.ListUsers))
	entity("/api/v1/access/identifiers/link", batch(p, "list_items", svc.UpsertIdentifiers), batch(p, "link_ids", svc.DeleteIdentifiers),
		getRoute(svc.GetIdentifier), listRoute(svc.ListIdentifiers))
	entity("/api/v1/access/timeprofile/link", batch(p, "list_items", svc.UpsertTimeProfiles), batch(p, "link_ids", svc.DeleteTimeProfiles),
		getRoute(svc.GetTimeProfile), listRoute(svc.ListTimeProfiles))
	entity("/api/v1/apartments/link", batch(p, "list_items", svc.UpsertApartments), batch(p, "link_ids", svc.DeleteApartments),
		getRoute(svc.GetApartment), listRoute(svc.ListApartments))
	entity("/api/v1/access/kone/link", batch(p, "list_items", svc.UpsertLiftRules), batch(p, "link_ids", svc.DeleteLiftRules),
		getRoute(svc.GetLiftRule), listRoute(svc.ListLiftRules))
	t.routes = append(t.routes, p.camdroidRoutes()...)
	if p.cfg.Journal != nil {
		t.routes = append(t.routes, route{http.MethodGet, "/api/v1/log/items", Manager, p.logItems})
	}
	return t
}

func errorBody[M ~string](msg M) map[string]string { return map[string]string{"error": string(msg)} }

// login answers GET /api/v1/login?username=U&password=MD5HEX.
func (p *panelAPI) login(w http.ResponseWriter, r *http.Request, _ *call) error {
	w.Header().Set("Cache-Control", "no-store") // the answer holds a token
	q := r.URL.Query()
	user, pass := q.Get("username"), q.Get("password")
	if user == "" || pass == "" {
		return &panelError{http.StatusBadRequest, MsgRequiredParameters}
	}
	acct, err := p.logins.check(r, user, func() (Account, error) {
		return p.cfg.Accounts.CheckPassword(r.Context(), user, strings.ToLower(pass))
	})
	if err != nil {
		return err
	}
	logUser(r, acct.Username)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	token := hex.EncodeToString(raw)
	p.sessions.add(token, acct, p.cfg.Now())
	writeJSON(w, http.StatusOK, struct {
		Token       string      `json:"token"`
		AccountType AccountType `json:"account_type"`
	}{token, acct.Type})
	return nil
}

// bearerToken is the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// serve checks the Bearer token and the account type a route needs
// (Manager: any account; none for the login), runs the handler and
// answers its error.
func (p *panelAPI) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{}
		err := p.authorize(r, rt.need, c)
		if err == nil {
			r = r.WithContext(journal.WithSource(r.Context(), c.acct.Username))
			err = rt.handle(w, r, c)
		}
		if err != nil {
			p.fail(w, r, err)
		}
	})
}

func (p *panelAPI) authorize(r *http.Request, need AccountType, c *call) error {
	if need == "" {
		return nil
	}
	acct, found := p.sessions.get(bearerToken(r), p.cfg.Now())
	if !found {
		return &panelError{http.StatusUnauthorized, MsgLogIn}
	}
	logUser(r, acct.Username)
	c.acct = acct
	if need == Admin && acct.Type != Admin {
		return &panelError{http.StatusForbidden, MsgAdminRequired}
	}
	return nil
}

func (p *panelAPI) logout(w http.ResponseWriter, r *http.Request, _ *call) error {
	p.sessions.remove(bearerToken(r))
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// readObject reads a bounded body and decodes it, as one JSON object,
// into v.
func (p *panelAPI) readObject(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r, p.cfg.Limits.MaxBodyBytes)
	if err != nil {
		return err
	}
	return decodeObject(body, v)
}

// readBody reads a body of at most limit bytes: a longer one is 413
// MsgBodyTooLarge, one cut short errBadJSON (no JSON either).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return nil, &panelError{http.StatusRequestEntityTooLarge, MsgBodyTooLarge}
	}
	if err != nil {
		return nil, errBadJSON
	}
	return body, nil
}

// fail is the panel API's one error mapper: request errors get the
// panel's 400 bodies, with wire paths ("list_items[3].name") for the
// fields of items; the adapter's own failures their status; anything
// else is logged and answered as an internal error.
func (p *panelAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	answerPanelError(p.cfg, w, r, err)
}

// answerPanelError answers err with the panel API's status and error
// body: the mapper of every BAS-IP route (the Link channel and the remote
// access server map their own errors first).
func answerPanelError(cfg Config, w http.ResponseWriter, r *http.Request, err error) {
	var (
		pe      *panelError
		field   *fieldError
		item    *access.ItemError
		tooMany *access.TooManyItemsError
		tooLong *listTooLongError
	)
	switch {
	case errors.As(err, &pe):
		writeJSON(w, pe.status, errorBody(pe.msg))
	case errors.Is(err, errThrottled):
		w.Header().Set("Retry-After", retryAfter(err))
		writeJSON(w, http.StatusTooManyRequests, errorBody(MsgTooManyLogins))
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", retryAfter(err))
		writeJSON(w, http.StatusTooManyRequests, errorBody(MsgLoginsBusy))
	case errors.Is(err, ErrBadCredentials):
		writeJSON(w, http.StatusBadRequest, errorBody(MsgWrongLogin))
	case errors.Is(err, errMethodNotAllowed):
		writeJSON(w, http.StatusMethodNotAllowed, errorBody(MsgMethodNotAllowed))
	case errors.Is(err, errNoRoute), errors.Is(err, access.ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorBody(MsgNotFound))
	case errors.As(err, &field):
		writeJSON(w, http.StatusBadRequest, errorBody(field.Error()))
	case errors.As(err, &item):
		msg := item.Err.Error() // a whole item's message, as the panel words it
		if item.Field != "" {
			msg = (&fieldError{path: fmt.Sprintf("list_items[%d].%s", item.Index, item.Field), missing: item.Missing}).Error()
		}
		writeJSON(w, http.StatusBadRequest, errorBody(msg))
	case errors.Is(err, errBadJSON):
		writeJSON(w, http.StatusBadRequest, errorBody(access.ErrWrongJSONBody))
	case errors.Is(err, access.ErrListEmpty):
		writeJSON(w, http.StatusBadRequest, errorBody(access.ErrListEmpty))
	case errors.As(err, &tooLong):
		writeJSON(w, http.StatusBadRequest, errorBody(fmt.Sprintf("%s: %d, at most %d", MsgListTooLong, tooLong.n, tooLong.max)))
	case errors.As(err, &tooMany):
		writeJSON(w, http.StatusBadRequest, errorBody(fmt.Sprintf("%s: %d, at most %d", MsgListTooLong, tooMany.N, tooMany.Max)))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The request's deadline passed or its client went away before the
		// batch could commit: nothing was written.
		writeJSON(w, http.StatusServiceUnavailable, errorBody(MsgNotWritten))
	default:
		cfg.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody(MsgInternal))
	}
}

// batch answers POST .../update {"list_items":[...]} and .../delete
// {"link_ids":[...]}: it decodes the list at key and answers what the
// service makes of it.
func batch[T any](p *panelAPI, key string, apply func(context.Context, []T) ([]access.Result, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *call) error {
		var top map[string]json.RawMessage
		if err := p.readObject(w, r, &top); err != nil {
			return err
		}
		items, err := decodeList[T](top[key], key, p.cfg.Limits.MaxListItems)
		if err != nil {
			return err
		}
		results, err := apply(r.Context(), items)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string][]access.Result{"result": results})
		return nil
	}
}

// getRoute answers GET .../{link_id}.
func getRoute[T any](get func(context.Context, string) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *call) error {
		v, err := get(r.Context(), r.PathValue("link_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// listRoute answers GET ...?after=&limit= with {"list_items","next"}.
func listRoute[T any](list func(context.Context, access.Page) ([]T, string, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *call) error {
		q := r.URL.Query()
		limit := 0
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1000 {
				return &panelError{http.StatusBadRequest, MsgWrongLimit}
			}
			limit = n
		}
		items, next, err := list(r.Context(), access.Page{After: q.Get("after"), Limit: limit})
		if err != nil {
			return err
		}
		if items == nil {
			items = []T{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"list_items": items, "next": next})
		return nil
	}
}

// decideRequest is the body of POST /api/v1/access/decide, our route.
type decideRequest struct {
	Type   *access.IdentifierType `json:"identifier_type"`
	Number *string                `json:"identifier_number"`
	Lock   *access.Door           `json:"lock"` // 1 or 2
	At     *int64                 `json:"at"`   // unix seconds; absent means now
}

// decideResponse is its answer.
type decideResponse struct {
	Allow      bool          `json:"allow"`
	Reason     access.Reason `json:"reason"`
	LinkID     string        `json:"link_id"`
	PassesLeft int           `json:"passes_left"`
	DryRun     bool          `json:"dry_run"`
}

// decide answers POST /api/v1/access/decide. An admin's decision is
// access.Service.Decide and consumes a pass; a manager may only read, so
// its decision is access.Service.Check, a dry run that consumes nothing.
func (p *panelAPI) decide(w http.ResponseWriter, r *http.Request, c *call) error {
	var req decideRequest
	if err := p.readObject(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Type == nil || *req.Type == "":
		return &fieldError{path: "identifier_type", missing: true}
	case req.Number == nil || *req.Number == "":
		return &fieldError{path: "identifier_number", missing: true}
	case req.Lock == nil:
		return &fieldError{path: "lock", missing: true}
	case !req.Lock.Valid():
		return &fieldError{path: "lock"}
	}
	at := p.cfg.Now()
	if req.At != nil {
		at = time.Unix(*req.At, 0)
	}
	decide, dryRun := p.svc.Decide, c.acct.Type != Admin
	if dryRun {
		decide = p.svc.Check
	}
	d, err := decide(r.Context(), access.Request{Type: *req.Type, Number: *req.Number, Lock: *req.Lock, At: at})
	if err != nil {
		return fmt.Errorf("httpadapter: deciding: %w", err)
	}
	writeJSON(w, http.StatusOK, decideResponse{Allow: d.Allow, Reason: d.Reason, LinkID: d.IdentifierLinkID, PassesLeft: d.PassesLeft, DryRun: dryRun})
	return nil
}
