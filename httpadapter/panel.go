package httpadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/journal"
)

// Message is an error message of the panel API, the "error" of its JSON
// error body. The request errors of package access (access.Message,
// *access.FieldError, *access.ItemError) are answered with their own text.
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

type panel struct {
	cfg    Config
	svc    *access.Service
	logins *throttle

	mu     sync.Mutex
	tokens map[string]session
}

type session struct {
	account Account
	expires time.Time
}

func newPanel(cfg Config, logins *throttle) *panel {
	return &panel{cfg: cfg, svc: cfg.Access, logins: logins, tokens: map[string]session{}}
}

// handler is a route's handler once the request is authenticated.
type handler func(http.ResponseWriter, *http.Request, Account)

func (p *panel) routes(mux *http.ServeMux) {
	route := func(path, method string, h http.Handler) {
		mux.Handle(path, methods{handlers: map[string]http.Handler{method: h}, notAllowed: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, errorBody(MsgMethodNotAllowed))
		}})
	}
	route("/api/v1/login", http.MethodGet, http.HandlerFunc(p.login))
	route("/api/v1/logout", http.MethodPost, p.auth(Manager, p.logout))
	route("/api/v1/access/decide", http.MethodPost, p.auth(Manager, p.decide))
	entity := func(base string, upsert, del, get, list handler) {
		route(base+"/update", http.MethodPost, p.auth(Admin, upsert))
		route(base+"/delete", http.MethodPost, p.auth(Admin, del))
		route(base+"/{link_id}", http.MethodGet, p.auth(Manager, get))
		route(base, http.MethodGet, p.auth(Manager, list))
	}
	entity("/api/v1/access/users/link", batch(p, "list_items", p.svc.UpsertUsers), batch(p, "link_ids", p.svc.DeleteUsers),
		getRoute(p, p.svc.GetUser), listRoute(p, p.svc.ListUsers))
	entity("/api/v1/access/identifiers/link", batch(p, "list_items", p.svc.UpsertIdentifiers), batch(p, "link_ids", p.svc.DeleteIdentifiers),
		getRoute(p, p.svc.GetIdentifier), listRoute(p, p.svc.ListIdentifiers))
	entity("/api/v1/access/timeprofile/link", batch(p, "list_items", p.svc.UpsertTimeProfiles), batch(p, "link_ids", p.svc.DeleteTimeProfiles),
		getRoute(p, p.svc.GetTimeProfile), listRoute(p, p.svc.ListTimeProfiles))
	entity("/api/v1/apartments/link", batch(p, "list_items", p.svc.UpsertApartments), batch(p, "link_ids", p.svc.DeleteApartments),
		getRoute(p, p.svc.GetApartment), listRoute(p, p.svc.ListApartments))
	entity("/api/v1/access/kone/link", batch(p, "list_items", p.svc.UpsertLiftRules), batch(p, "link_ids", p.svc.DeleteLiftRules),
		getRoute(p, p.svc.GetLiftRule), listRoute(p, p.svc.ListLiftRules))
	if p.cfg.Journal != nil {
		route("/api/v1/log/items", http.MethodGet, p.auth(Manager, p.logItems))
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody(MsgNotFound))
	})
}

func errorBody[M ~string](msg M) map[string]string { return map[string]string{"error": string(msg)} }

// login answers GET /api/v1/login?username=U&password=MD5HEX.
func (p *panel) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store") // the answer holds a token
	q := r.URL.Query()
	user, pass := q.Get("username"), q.Get("password")
	if user == "" || pass == "" {
		writeJSON(w, http.StatusBadRequest, errorBody(MsgRequiredParameters))
		return
	}
	acct, err := p.logins.check(r, user, func() (Account, error) {
		return p.cfg.Accounts.CheckPassword(r.Context(), user, strings.ToLower(pass))
	})
	switch {
	case errors.Is(err, errThrottled):
		w.Header().Set("Retry-After", retryAfter(err))
		writeJSON(w, http.StatusTooManyRequests, errorBody(MsgTooManyLogins))
		return
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", retryAfter(err))
		writeJSON(w, http.StatusTooManyRequests, errorBody(MsgLoginsBusy))
		return
	case errors.Is(err, ErrBadCredentials):
		writeJSON(w, http.StatusBadRequest, errorBody(MsgWrongLogin))
		return
	case err != nil:
		p.internal(w, r, err)
		return
	}
	logUser(r, acct.Username)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	token := hex.EncodeToString(raw)
	now := p.cfg.Now()
	p.mu.Lock()
	for t, s := range p.tokens { // forget expired sessions while here
		if now.After(s.expires) {
			delete(p.tokens, t)
		}
	}
	p.tokens[token] = session{account: acct, expires: now.Add(p.cfg.Limits.TokenTTL)}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Token       string      `json:"token"`
		AccountType AccountType `json:"account_type"`
	}{token, acct.Type})
}

// bearerToken is the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// auth checks the Bearer token and the account type a route needs
// (Manager: any account).
func (p *panel) auth(need AccountType, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		s, found := p.tokens[bearerToken(r)]
		p.mu.Unlock()
		if !found || p.cfg.Now().After(s.expires) {
			writeJSON(w, http.StatusUnauthorized, errorBody(MsgLogIn))
			return
		}
		logUser(r, s.account.Username)
		r = r.WithContext(journal.WithSource(r.Context(), s.account.Username))
		if need == Admin && s.account.Type != Admin {
			writeJSON(w, http.StatusForbidden, errorBody(MsgAdminRequired))
			return
		}
		h(w, r, s.account)
	})
}

func (p *panel) logout(w http.ResponseWriter, r *http.Request, _ Account) {
	p.mu.Lock()
	delete(p.tokens, bearerToken(r))
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (p *panel) internal(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody(MsgInternal))
}

// readObject reads a bounded body and decodes it, as one JSON object,
// into v. It answers a failure itself and then returns false.
func (p *panel) readObject(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.Limits.MaxBodyBytes))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(MsgBodyTooLarge))
		return false
	}
	if err != nil {
		err = access.ErrWrongJSONBody // a body cut short is no JSON either
	} else {
		err = decodeObject(body, v)
	}
	if err != nil {
		p.fail(w, r, err)
		return false
	}
	return true
}

// fail answers a request error with the panel's 400 body, and anything
// else as an internal error.
func (p *panel) fail(w http.ResponseWriter, r *http.Request, err error) {
	var item *access.ItemError
	var tooLong *listTooLongError
	switch {
	case errors.Is(err, access.ErrWrongJSONBody), errors.Is(err, access.ErrListEmpty), errors.As(err, &item), errors.As(err, &tooLong):
		writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
	case errors.Is(err, access.ErrTooManyItems):
		// The service's own limit, lower than Limits.MaxListItems: its
		// error ends with "N, at most M", said as the adapter says it.
		_, counts, _ := strings.Cut(err.Error(), access.ErrTooManyItems.Error()+": ")
		writeJSON(w, http.StatusBadRequest, errorBody(string(MsgListTooLong)+": "+counts))
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The request's deadline passed or its client went away before the
		// batch could commit: nothing was written.
		writeJSON(w, http.StatusServiceUnavailable, errorBody(MsgNotWritten))
	default:
		p.internal(w, r, err)
	}
}

// batch answers POST .../update {"list_items":[...]} and .../delete
// {"link_ids":[...]}: it decodes the list at key and answers what the
// service makes of it.
func batch[T any](p *panel, key string, apply func(context.Context, []T) ([]access.Result, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, _ Account) {
		var top map[string]json.RawMessage
		if !p.readObject(w, r, &top) {
			return
		}
		items, err := decodeList[T](top[key], key, p.cfg.Limits.MaxListItems)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		results, err := apply(r.Context(), items)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string][]access.Result{"result": results})
	}
}

// getRoute answers GET .../{link_id}.
func getRoute[T any](p *panel, get func(context.Context, string) (T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, _ Account) {
		v, err := get(r.Context(), r.PathValue("link_id"))
		switch {
		case errors.Is(err, access.ErrNotFound):
			writeJSON(w, http.StatusNotFound, errorBody(MsgNotFound))
		case err != nil:
			p.internal(w, r, err)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// listRoute answers GET ...?after=&limit= with {"list_items","next"}.
func listRoute[T any](p *panel, list func(context.Context, access.Page) ([]T, string, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, _ Account) {
		q := r.URL.Query()
		limit := 0
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1000 {
				writeJSON(w, http.StatusBadRequest, errorBody(MsgWrongLimit))
				return
			}
			limit = n
		}
		items, next, err := list(r.Context(), access.Page{After: q.Get("after"), Limit: limit})
		if err != nil {
			p.internal(w, r, err)
			return
		}
		if items == nil {
			items = []T{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"list_items": items, "next": next})
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
func (p *panel) decide(w http.ResponseWriter, r *http.Request, acct Account) {
	var req decideRequest
	if !p.readObject(w, r, &req) {
		return
	}
	var err error
	switch {
	case req.Type == nil || *req.Type == "":
		err = access.MissingValue("identifier_type")
	case req.Number == nil || *req.Number == "":
		err = access.MissingValue("identifier_number")
	case req.Lock == nil:
		err = access.MissingValue("lock")
	case !req.Lock.Valid():
		err = access.WrongType("lock")
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	at := p.cfg.Now()
	if req.At != nil {
		at = time.Unix(*req.At, 0)
	}
	decide, dryRun := p.svc.Decide, acct.Type != Admin
	if dryRun {
		decide = p.svc.Check
	}
	d, err := decide(r.Context(), access.Request{Type: *req.Type, Number: *req.Number, Lock: *req.Lock, At: at})
	if err != nil {
		p.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, decideResponse{Allow: d.Allow, Reason: d.Reason, LinkID: d.IdentifierLinkID, PassesLeft: d.PassesLeft, DryRun: dryRun})
}
