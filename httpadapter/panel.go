package httpadapter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lintelhq/lintel/access"
)

// The panel API's own messages.
const (
	msgRequiredParameters = "Required parameters missed"
	msgWrongLogin         = "Wrong login or password"
	msgLogIn              = "Log In"
	msgAdminRequired      = "Administrator rights required"
	msgTooManyLogins      = "Too many failed logins, try again later"
	msgBodyTooLarge       = "Request body too large"
	msgNotFound           = "Not found"
	msgInternal           = "Internal error"
)

type panel struct {
	cfg      Config
	svc      *access.Service
	mu       sync.Mutex
	tokens   map[string]session
	failures map[string][]time.Time // "user:NAME" and "addr:IP" -> recent failed logins
}

type session struct {
	account Account
	expires time.Time
}

func newPanel(cfg Config) *panel {
	return &panel{cfg: cfg, svc: cfg.Access, tokens: map[string]session{}, failures: map[string][]time.Time{}}
}

func (p *panel) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/login", p.login)
	mux.Handle("POST /api/v1/logout", p.auth(Manager, p.logout))
	batch := func(path string, upsert, del func(*panel, http.ResponseWriter, *http.Request)) {
		mux.Handle("POST "+path+"/update", p.auth(Admin, func(w http.ResponseWriter, r *http.Request, _ Account) { upsert(p, w, r) }))
		mux.Handle("POST "+path+"/delete", p.auth(Admin, func(w http.ResponseWriter, r *http.Request, _ Account) { del(p, w, r) }))
	}
	batch("/api/v1/access/users/link", upsertRoute(p.svc.UpsertUsers), deleteRoute(p.svc.DeleteUsers))
	batch("/api/v1/access/identifiers/link", upsertRoute(p.svc.UpsertIdentifiers), deleteRoute(p.svc.DeleteIdentifiers))
	batch("/api/v1/access/timeprofile/link", upsertRoute(p.svc.UpsertTimeProfiles), deleteRoute(p.svc.DeleteTimeProfiles))
	batch("/api/v1/apartments/link", upsertRoute(p.svc.UpsertApartments), deleteRoute(p.svc.DeleteApartments))
	batch("/api/v1/access/kone/link", upsertRoute(p.svc.UpsertLiftRules), deleteRoute(p.svc.DeleteLiftRules))
	read := func(path string, get func(*panel, http.ResponseWriter, *http.Request), list func(*panel, http.ResponseWriter, *http.Request)) {
		mux.Handle("GET "+path+"/{link_id}", p.auth(Manager, func(w http.ResponseWriter, r *http.Request, _ Account) { get(p, w, r) }))
		mux.Handle("GET "+path, p.auth(Manager, func(w http.ResponseWriter, r *http.Request, _ Account) { list(p, w, r) }))
	}
	read("/api/v1/access/users/link", getRoute(p.svc.GetUser), listRoute(p.svc.ListUsers))
	read("/api/v1/access/identifiers/link", getRoute(p.svc.GetIdentifier), listRoute(p.svc.ListIdentifiers))
	read("/api/v1/access/timeprofile/link", getRoute(p.svc.GetTimeProfile), listRoute(p.svc.ListTimeProfiles))
	read("/api/v1/apartments/link", getRoute(p.svc.GetApartment), listRoute(p.svc.ListApartments))
	read("/api/v1/access/kone/link", getRoute(p.svc.GetLiftRule), listRoute(p.svc.ListLiftRules))
	mux.Handle("POST /api/v1/access/decide", p.auth(Manager, p.decide))
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

// login answers GET /api/v1/login?username=U&password=MD5HEX.
func (p *panel) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, pass := q.Get("username"), q.Get("password")
	if user == "" || pass == "" {
		writeJSON(w, http.StatusBadRequest, errorBody(msgRequiredParameters))
		return
	}
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	keys := []string{"user:" + user, "addr:" + addr}
	if p.throttled(keys) {
		writeJSON(w, http.StatusTooManyRequests, errorBody(msgTooManyLogins))
		return
	}
	acct, err := p.cfg.Accounts.CheckPassword(r.Context(), user, strings.ToLower(pass))
	if errors.Is(err, ErrBadCredentials) {
		p.fail(keys)
		writeJSON(w, http.StatusBadRequest, errorBody(msgWrongLogin))
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	t := hex.EncodeToString(token)
	now := p.cfg.Now()
	p.mu.Lock()
	for k, s := range p.tokens { // forget expired sessions while here
		if now.After(s.expires) {
			delete(p.tokens, k)
		}
	}
	p.tokens[t] = session{account: acct, expires: now.Add(p.cfg.Limits.TokenTTL)}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"token": t, "account_type": string(acct.Type)})
}

// throttled reports whether any key has too many recent failures.
func (p *panel) throttled(keys []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cutoff := p.cfg.Now().Add(-p.cfg.Limits.LoginWindow)
	for _, k := range keys {
		recent := p.failures[k][:0]
		for _, t := range p.failures[k] {
			if t.After(cutoff) {
				recent = append(recent, t)
			}
		}
		if len(recent) == 0 {
			delete(p.failures, k)
			continue
		}
		p.failures[k] = recent
		if len(recent) >= p.cfg.Limits.LoginFailures {
			return true
		}
	}
	return false
}

func (p *panel) fail(keys []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		p.failures[k] = append(p.failures[k], p.cfg.Now())
	}
}

// auth checks the Bearer token and the account type a route needs.
func (p *panel) auth(need AccountType, h func(http.ResponseWriter, *http.Request, Account)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		s, found := p.tokens[strings.TrimSpace(token)]
		p.mu.Unlock()
		if !ok || !found || p.cfg.Now().After(s.expires) {
			writeJSON(w, http.StatusUnauthorized, errorBody(msgLogIn))
			return
		}
		if need == Admin && s.account.Type != Admin {
			writeJSON(w, http.StatusForbidden, errorBody(msgAdminRequired))
			return
		}
		h(w, r, s.account)
	})
}

func (p *panel) logout(w http.ResponseWriter, r *http.Request, _ Account) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	delete(p.tokens, strings.TrimSpace(token))
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (p *panel) internal(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorBody(msgInternal))
}

// readBody reads a bounded body; it answers the error itself and returns
// false when there is none to use.
func (p *panel) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.Limits.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(msgBodyTooLarge))
		return nil, false
	case err != nil || len(bytes.TrimSpace(body)) == 0:
		writeJSON(w, http.StatusBadRequest, errorBody(access.ErrWrongJSONBody.Error()))
		return nil, false
	}
	return body, true
}

// decodeList decodes {"<key>": [items]} into a slice of T, turning
// decoding errors into the vendor's messages with the item's JSON path.
func decodeList[T any](body []byte, key string) ([]T, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, access.ErrWrongJSONBody // not JSON, or not an object
	}
	raw, ok := top[key]
	if !ok || string(raw) == "null" {
		return nil, access.MissingValue(key)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, access.WrongType(key)
	}
	out := make([]T, len(items))
	for i, item := range items {
		if err := json.Unmarshal(item, &out[i]); err != nil {
			path := fmt.Sprintf("%s[%d]", key, i)
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				path += "." + typeErr.Field
			}
			return nil, access.WrongType(path)
		}
	}
	return out, nil
}

// answer writes a batch's results or its error.
func (p *panel) answer(w http.ResponseWriter, r *http.Request, results []access.Result, err error) {
	var item *access.ItemError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string][]access.Result{"result": results})
	case errors.Is(err, access.ErrWrongJSONBody), errors.Is(err, access.ErrListEmpty), errors.As(err, &item):
		writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
	case errors.Is(err, access.ErrTooManyItems):
		writeJSON(w, http.StatusBadRequest, errorBody("List is too long: "+strings.TrimPrefix(err.Error(), access.ErrTooManyItems.Error()+": ")))
	default:
		p.internal(w, r, err)
	}
}

func upsertRoute[T any](upsert func(context.Context, []T) ([]access.Result, error)) func(*panel, http.ResponseWriter, *http.Request) {
	return func(p *panel, w http.ResponseWriter, r *http.Request) {
		body, ok := p.readBody(w, r)
		if !ok {
			return
		}
		items, err := decodeList[T](body, "list_items")
		if err != nil {
			p.answer(w, r, nil, err)
			return
		}
		results, err := upsert(r.Context(), items)
		p.answer(w, r, results, err)
	}
}

func deleteRoute(del func(context.Context, []string) ([]access.Result, error)) func(*panel, http.ResponseWriter, *http.Request) {
	return func(p *panel, w http.ResponseWriter, r *http.Request) {
		body, ok := p.readBody(w, r)
		if !ok {
			return
		}
		ids, err := decodeList[string](body, "link_ids")
		if err != nil {
			p.answer(w, r, nil, err)
			return
		}
		results, err := del(r.Context(), ids)
		p.answer(w, r, results, err)
	}
}

func getRoute[T any](get func(context.Context, string) (T, error)) func(*panel, http.ResponseWriter, *http.Request) {
	return func(p *panel, w http.ResponseWriter, r *http.Request) {
		v, err := get(r.Context(), r.PathValue("link_id"))
		switch {
		case errors.Is(err, access.ErrNotFound):
			writeJSON(w, http.StatusNotFound, errorBody(msgNotFound))
		case err != nil:
			p.internal(w, r, err)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

func listRoute[T any](list func(context.Context, access.Page) ([]T, string, error)) func(*panel, http.ResponseWriter, *http.Request) {
	return func(p *panel, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
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

// decideRequest is the body of POST /api/v1/access/decide (our route).
type decideRequest struct {
	Type   access.IdentifierType `json:"identifier_type"`
	Number string                `json:"identifier_number"`
	Lock   int                   `json:"lock"`
	At     int64                 `json:"at,omitempty"` // unix seconds; 0 means now
}

func (p *panel) decide(w http.ResponseWriter, r *http.Request, _ Account) {
	body, ok := p.readBody(w, r)
	if !ok {
		return
	}
	var req decideRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			writeJSON(w, http.StatusBadRequest, errorBody(access.WrongType(typeErr.Field).Error()))
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody(access.ErrWrongJSONBody.Error()))
		return
	}
	switch {
	case req.Type == "":
		writeJSON(w, http.StatusBadRequest, errorBody(access.MissingValue("identifier_type").Error()))
		return
	case req.Number == "":
		writeJSON(w, http.StatusBadRequest, errorBody(access.MissingValue("identifier_number").Error()))
		return
	}
	at := p.cfg.Now()
	if req.At != 0 {
		at = time.Unix(req.At, 0)
	}
	d, err := p.svc.Decide(r.Context(), access.Request{Type: req.Type, Number: req.Number, Lock: max(req.Lock, 1), At: at})
	if err != nil {
		p.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"allow": d.Allow, "reason": d.Reason, "link_id": d.IdentifierLinkID, "passes_left": d.PassesLeft})
}
