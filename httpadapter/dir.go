package httpadapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/journal"
)

// Code is a numeric error code of the 2N HTTP API.
type Code int

// The 2N HTTP API's error codes the adapter answers, 11 to 14 also for
// directory's RequestError.
const (
	CodeInvalidPath     Code = 2
	CodeInvalidMethod   Code = 3
	CodeAuthRequired    Code = 9
	CodeNoPrivileges    Code = 10
	CodeMissingParam    Code = directory.CodeMissingParameter
	CodeInvalidParam    Code = directory.CodeInvalidParameter
	CodeDataTooBig      Code = directory.CodeDataTooBig
	CodeProcessingError Code = directory.CodeProcessingError
	CodeCollision       Code = directory.CodeParameterCollision
	CodeRejected        Code = 18 // too many failed logins, or too many at once
)

// Description is the 2N API's description of a code.
func (c Code) Description() string {
	switch c {
	case CodeInvalidPath:
		return "invalid request path"
	case CodeInvalidMethod:
		return "invalid request method"
	case CodeAuthRequired:
		return "authorization required"
	case CodeNoPrivileges:
		return "insufficient privileges"
	case CodeMissingParam:
		return "missing mandatory parameter"
	case CodeInvalidParam:
		return "invalid parameter value"
	case CodeDataTooBig:
		return "parameter data too big"
	case CodeProcessingError:
		return "processing error"
	case CodeCollision:
		return "parameter collision"
	case CodeRejected:
		return "rejected"
	}
	return "error " + strconv.Itoa(int(c))
}

type dir struct {
	cfg    Config
	d      *directory.Directory
	logins *throttle
	nonces *nonces
	logs   *logChannels // nil without a journal
}

func newDir(cfg Config, logins *throttle) *dir {
	s := &dir{cfg: cfg, d: cfg.Directory, logins: logins, nonces: newNonces(cfg.Limits.NonceTTL, cfg.Now)}
	if cfg.Journal != nil {
		s.logs = newLogChannels(cfg.Journal, cfg.Now)
	}
	return s
}

// dirHandler is a directory function's handler once the request is
// authenticated and its body decoded.
type dirHandler func(http.ResponseWriter, *http.Request, request)

func (s *dir) routes(mux *http.ServeMux) {
	function := func(name string, need AccountType, h dirHandler, verbs ...string) {
		handlers := map[string]http.Handler{}
		for _, verb := range verbs {
			handlers[verb] = s.auth(need, h)
		}
		mux.Handle("/api/"+name, methods{handlers: handlers, notAllowed: func(w http.ResponseWriter, _ *http.Request) {
			s.fail(w, http.StatusOK, CodeInvalidMethod, "", "")
		}})
	}
	if s.d != nil {
		function("dir/template", Manager, s.template, http.MethodGet, http.MethodPost)
		function("dir/create", Admin, s.create, http.MethodPut)
		function("dir/update", Admin, s.update, http.MethodPut)
		function("dir/delete", Admin, s.delete, http.MethodPut)
		function("dir/get", Manager, s.get, http.MethodPost)
		function("dir/query", Manager, s.query, http.MethodPost)
		mux.HandleFunc("/api/dir/", func(w http.ResponseWriter, _ *http.Request) {
			s.fail(w, http.StatusOK, CodeInvalidPath, "", "")
		})
	}
	if s.logs != nil {
		function("log/caps", Manager, s.logCaps, http.MethodGet, http.MethodPost)
		function("log/subscribe", Manager, s.logSubscribe, http.MethodGet, http.MethodPost)
		function("log/pull", Manager, s.logPull, http.MethodGet, http.MethodPost)
		function("log/unsubscribe", Manager, s.logUnsubscribe, http.MethodGet, http.MethodPost)
		mux.HandleFunc("/api/log/", func(w http.ResponseWriter, _ *http.Request) {
			s.fail(w, http.StatusOK, CodeInvalidPath, "", "")
		})
	}
}

// auth authenticates a request, checks the account's rights and decodes
// the body (an empty body is an empty request).
func (s *dir) auth(need AccountType, h dirHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, err := s.authenticate(r)
		switch {
		case errors.Is(err, errThrottled):
			w.Header().Set("Retry-After", retryAfter(err))
			s.fail(w, http.StatusTooManyRequests, CodeRejected, "", "too many failed logins, try again later")
			return
		case errors.Is(err, ErrBusy):
			w.Header().Set("Retry-After", retryAfter(err))
			s.fail(w, http.StatusTooManyRequests, CodeRejected, "", "too many logins at once, try again later")
			return
		case errors.Is(err, errStale):
			s.challenge(w, true)
			return
		case errors.Is(err, errNoCredentials), errors.Is(err, ErrBadCredentials):
			s.challenge(w, false)
			return
		case err != nil:
			s.failErr(w, r, err)
			return
		}
		logUser(r, acct.Username)
		r = r.WithContext(journal.WithSource(r.Context(), acct.Username))
		if need == Admin && acct.Type != Admin {
			s.fail(w, http.StatusOK, CodeNoPrivileges, "", "")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes))
		if err != nil {
			s.fail(w, http.StatusOK, CodeDataTooBig, "body", "")
			return
		}
		var req request
		if len(bytes.TrimSpace(body)) > 0 {
			if err := decodeObject(body, &req); err != nil {
				s.failErr(w, r, err)
				return
			}
		}
		h(w, r, req)
	})
}

// envelope is the 2N API's answer, in the vendor's order of keys.
type envelope struct {
	Success bool      `json:"success"`
	Result  any       `json:"result,omitempty"`
	Error   *dirError `json:"error,omitempty"`
}

// dirError is the error object of the 2N envelope.
type dirError struct {
	Code        Code   `json:"code"`
	Param       string `json:"param,omitempty"`
	Description string `json:"description"`
}

func (s *dir) ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Result: result})
}

func (s *dir) fail(w http.ResponseWriter, status int, code Code, param, description string) {
	if description == "" {
		description = code.Description()
	}
	writeJSON(w, status, envelope{Error: &dirError{Code: code, Param: param, Description: description}})
}

// failErr answers a request error with its code, and any other error as
// a processing error.
func (s *dir) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var (
		re      *directory.RequestError
		field   *access.FieldError
		tooLong *listTooLongError
	)
	switch {
	case errors.As(err, &re):
		s.fail(w, http.StatusOK, Code(re.Code), re.Param, re.Description)
	case errors.As(err, &tooLong):
		s.fail(w, http.StatusOK, CodeDataTooBig, tooLong.path, "")
	case errors.As(err, &field) && field.Missing:
		s.fail(w, http.StatusOK, CodeMissingParam, field.Path, "")
	case errors.As(err, &field):
		s.fail(w, http.StatusOK, CodeInvalidParam, field.Path, "")
	case errors.Is(err, access.ErrWrongJSONBody):
		s.fail(w, http.StatusOK, CodeInvalidParam, "body", "")
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "directory request failed", "path", r.URL.Path, "err", err)
		s.fail(w, http.StatusOK, CodeProcessingError, "", "")
	}
}

// request is every body field of the directory functions.
type request struct {
	Users    json.RawMessage `json:"users"`
	Owner    string          `json:"owner"`
	Fields   *[]string       `json:"fields"`
	Series   string          `json:"series"`
	Iterator struct {
		Timestamp int64 `json:"timestamp"`
	} `json:"iterator"`
}

// fields is the fields parameter as directory takes it: nil when
// omitted, empty for [] (all fields).
func (r request) fields() []string {
	if r.Fields == nil {
		return nil
	}
	return *r.Fields // [] decodes to an empty slice, not nil
}

// users decodes users:[...] into elements of T; an absent list is nil,
// for directory to judge.
func users[T any](s *dir, req request) ([]T, error) {
	if req.Users == nil {
		return nil, nil
	}
	return decodeList[T](req.Users, "users", s.cfg.Limits.MaxListItems)
}

// uuids reads users:[{uuid}] of delete and get.
func (s *dir) uuids(req request) ([]string, error) {
	refs, err := users[struct {
		UUID string `json:"uuid"`
	}](s, req)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ref := range refs {
		ids = append(ids, ref.UUID)
	}
	return ids, nil
}

// answer writes a directory function's result or its error.
func (s *dir) answer(w http.ResponseWriter, r *http.Request, result any, err error) {
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, result)
}

func (s *dir) template(w http.ResponseWriter, _ *http.Request, _ request) {
	s.ok(w, map[string][]json.RawMessage{"users": {s.d.Template()}})
}

func (s *dir) create(w http.ResponseWriter, r *http.Request, req request) {
	force := r.URL.Query().Get("force")
	if force != "" && force != "0" && force != "1" {
		s.fail(w, http.StatusOK, CodeInvalidParam, "force", "")
		return
	}
	entries, err := users[json.RawMessage](s, req)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	res, err := s.d.Create(r.Context(), entries, force == "1")
	s.answer(w, r, res, err)
}

func (s *dir) update(w http.ResponseWriter, r *http.Request, req request) {
	entries, err := users[json.RawMessage](s, req)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	res, err := s.d.Update(r.Context(), entries)
	s.answer(w, r, res, err)
}

func (s *dir) delete(w http.ResponseWriter, r *http.Request, req request) {
	ids, err := s.uuids(req)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	res, err := s.d.Delete(r.Context(), ids, req.Owner)
	s.answer(w, r, res, err)
}

func (s *dir) get(w http.ResponseWriter, r *http.Request, req request) {
	ids, err := s.uuids(req)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	res, err := s.d.Get(r.Context(), ids, req.fields())
	s.answer(w, r, res, err)
}

// query streams its answer, entry by entry as directory.QueryEach reads
// them, so that a large directory (photos of up to 512 KiB each) never
// sits whole in memory. A failure before the first entry is answered with
// the error envelope; one after it can only cut the answer short.
func (s *dir) query(w http.ResponseWriter, r *http.Request, req request) {
	bw := bufio.NewWriterSize(w, 64<<10)
	started := false
	start := func(series string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		bw.WriteString(`{"success":true,"result":{"series":`)
		writeJSONString(bw, series)
		bw.WriteString(`,"users":[`)
		started = true
	}
	series, err := s.d.QueryEach(r.Context(), req.Series, req.Iterator.Timestamp, req.fields(), func(series string, entry json.RawMessage) error {
		if started {
			bw.WriteByte(',')
		} else {
			start(series)
		}
		_, err := bw.Write(entry)
		return err
	})
	switch {
	case err != nil && !started:
		s.failErr(w, r, err)
		return
	case err != nil:
		s.cfg.Logger.ErrorContext(r.Context(), "directory query cut short", "err", err)
		panic(http.ErrAbortHandler) // the client sees a broken answer, not a wrong one
	case !started:
		start(series)
	}
	bw.WriteString("]}}\n")
	if err := bw.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
}

func writeJSONString(w *bufio.Writer, s string) {
	b, _ := json.Marshal(s)
	w.Write(b)
}
