package httpadapter

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/lintelhq/lintel/device"
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
	logs   *logChannels   // nil without a journal
	dev    *device.Device // nil without a device
}

func newDir(cfg Config, logins *throttle) *dir {
	s := &dir{cfg: cfg, d: cfg.Directory, dev: cfg.Device, logins: logins, nonces: newNonces(cfg.Limits.NonceTTL, cfg.Now)}
	if cfg.Journal != nil {
		s.logs = newLogChannels(cfg.Journal, cfg.Now)
	}
	return s
}

func (s *dir) table() table {
	// Every function answers the methods the device accepts for it; an
	// unknown path under /api/ is code 2, as on the device.
	t := table{api: s, prefix: "/api/"}
	function := func(name string, need AccountType, h handlerFunc, verbs ...string) {
		for _, verb := range verbs {
			t.routes = append(t.routes, route{verb, "/api/" + name, need, h})
		}
	}
	if s.d != nil {
		function("dir/template", Manager, s.template, http.MethodGet, http.MethodPost)
		function("dir/create", Admin, s.create, http.MethodPut)
		function("dir/update", Admin, s.update, http.MethodPut)
		function("dir/delete", Admin, s.delete, http.MethodPut)
		function("dir/get", Manager, s.get, http.MethodPost)
		function("dir/query", Manager, s.query, http.MethodPost)
	}
	if s.dev != nil {
		s.deviceRoutes(function)
	}
	if s.logs != nil {
		function("log/caps", Manager, s.logCaps, http.MethodGet, http.MethodPost)
		function("log/subscribe", Manager, s.logSubscribe, http.MethodGet, http.MethodPost)
		function("log/pull", Manager, s.logPull, http.MethodGet, http.MethodPost)
		function("log/unsubscribe", Manager, s.logUnsubscribe, http.MethodGet, http.MethodPost)
	}
	return t
}

// serve authenticates a request, checks the account's rights, decodes
// the parameters (an empty body is no parameters), runs the handler and
// answers its error.
func (s *dir) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{}
		err := s.authorize(r, rt.need, c)
		if err == nil {
			r = r.WithContext(journal.WithSource(r.Context(), c.acct.Username))
			err = s.readParams(w, r, c)
		}
		if err == nil {
			err = rt.handle(w, r, c)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

func (s *dir) authorize(r *http.Request, need AccountType, c *call) error {
	if need == "" {
		return nil // a function the device answers without credentials
	}
	acct, err := s.authenticate(r)
	if err != nil {
		return err
	}
	logUser(r, acct.Username)
	c.acct = acct
	if need == Admin && acct.Type != Admin {
		return &twoNError{status: http.StatusOK, code: CodeNoPrivileges}
	}
	return nil
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

func (s *dir) ok(w http.ResponseWriter, result any) error {
	writeJSON(w, http.StatusOK, envelope{Success: true, Result: result})
	return nil
}

func (s *dir) answer(w http.ResponseWriter, status int, code Code, param, description string) {
	writeJSON(w, status, envelope{Error: &dirError{Code: code, Param: param, Description: cmp.Or(description, code.Description())}})
}

// fail is the 2N API's one error mapper: the adapter's and directory's
// request errors get their codes, failed authentication a challenge, and
// anything else is logged and answered as a processing error.
func (s *dir) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		te      *twoNError
		re      *directory.RequestError
		field   *fieldError
		tooLong *listTooLongError
	)
	if de := deviceError(err); de != nil {
		err = de // package device's errors, in the envelope's terms
	}
	switch {
	case errors.As(err, &te):
		s.answer(w, te.status, te.code, te.param, te.desc)
	case errors.As(err, &re):
		s.answer(w, http.StatusOK, Code(re.Code), re.Param, re.Description)
	case errors.Is(err, errThrottled):
		w.Header().Set("Retry-After", retryAfter(err))
		s.answer(w, http.StatusTooManyRequests, CodeRejected, "", "too many failed logins, try again later")
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", retryAfter(err))
		s.answer(w, http.StatusTooManyRequests, CodeRejected, "", "too many logins at once, try again later")
	case errors.Is(err, errStale):
		s.challenge(w, true)
	case errors.Is(err, errNoCredentials), errors.Is(err, ErrBadCredentials):
		s.challenge(w, false)
	case errors.Is(err, errMethodNotAllowed):
		s.answer(w, http.StatusOK, CodeInvalidMethod, "", "")
	case errors.Is(err, errNoRoute):
		s.answer(w, http.StatusOK, CodeInvalidPath, "", "")
	case errors.As(err, &tooLong):
		s.answer(w, http.StatusOK, CodeDataTooBig, tooLong.path, "")
	case errors.As(err, &field) && field.missing:
		s.answer(w, http.StatusOK, CodeMissingParam, field.path, "")
	case errors.As(err, &field):
		s.answer(w, http.StatusOK, CodeInvalidParam, field.path, "")
	case errors.Is(err, errBadJSON):
		s.answer(w, http.StatusOK, CodeInvalidParam, "body", "")
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "directory request failed", "path", r.URL.Path, "err", err)
		s.answer(w, http.StatusOK, CodeProcessingError, "", "")
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
	Dates *[]string `json:"dates"` // config/holidays
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
func users[T any](s *dir, c *call) ([]T, error) {
	if c.params.Users == nil {
		return nil, nil
	}
	return decodeList[T](c.params.Users, "users", s.cfg.Limits.MaxListItems)
}

// uuids reads users:[{uuid}] of delete and get.
func (s *dir) uuids(c *call) ([]string, error) {
	refs, err := users[struct {
		UUID string `json:"uuid"`
	}](s, c)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ref := range refs {
		ids = append(ids, ref.UUID)
	}
	return ids, nil
}

// answerWith writes a directory function's result, or returns its error.
func (s *dir) answerWith(w http.ResponseWriter, result any, err error) error {
	if err != nil {
		return err
	}
	return s.ok(w, result)
}

func (s *dir) template(w http.ResponseWriter, _ *http.Request, _ *call) error {
	return s.ok(w, map[string][]json.RawMessage{"users": {s.d.Template()}})
}

func (s *dir) create(w http.ResponseWriter, r *http.Request, c *call) error {
	force := c.scalars.get("force")
	if force != "" && force != "0" && force != "1" {
		return invalidParam("force")
	}
	entries, err := users[json.RawMessage](s, c)
	if err != nil {
		return err
	}
	res, err := s.d.Create(r.Context(), entries, force == "1")
	return s.answerWith(w, res, err)
}

func (s *dir) update(w http.ResponseWriter, r *http.Request, c *call) error {
	entries, err := users[json.RawMessage](s, c)
	if err != nil {
		return err
	}
	res, err := s.d.Update(r.Context(), entries)
	return s.answerWith(w, res, err)
}

func (s *dir) delete(w http.ResponseWriter, r *http.Request, c *call) error {
	ids, err := s.uuids(c)
	if err != nil {
		return err
	}
	res, err := s.d.Delete(r.Context(), ids, c.params.Owner)
	return s.answerWith(w, res, err)
}

func (s *dir) get(w http.ResponseWriter, r *http.Request, c *call) error {
	ids, err := s.uuids(c)
	if err != nil {
		return err
	}
	res, err := s.d.Get(r.Context(), ids, c.params.fields())
	return s.answerWith(w, res, err)
}

// query streams its answer, entry by entry as directory.QueryEach reads
// them, so that a large directory (photos of up to 512 KiB each) never
// sits whole in memory. A failure before the first entry is answered with
// the error envelope; one after it can only cut the answer short.
func (s *dir) query(w http.ResponseWriter, r *http.Request, c *call) error {
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
	req := c.params
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
		return err
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
	return nil
}

func writeJSONString(w *bufio.Writer, s string) {
	b, _ := json.Marshal(s)
	w.Write(b)
}
