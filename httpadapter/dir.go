package httpadapter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lintelhq/lintel/directory"
)

// The 2N HTTP API's error codes the adapter answers itself.
const (
	codeInvalidPath     = 2
	codeInvalidMethod   = 3
	codeAuthRequired    = 9
	codeNoPrivileges    = 10
	codeMissingParam    = 11
	codeInvalidParam    = 12
	codeDataTooBig      = 13
	codeProcessingError = 14
)

var codeDescriptions = map[int]string{
	codeInvalidPath: "invalid request path", codeInvalidMethod: "invalid request method",
	codeAuthRequired: "authorization required", codeNoPrivileges: "insufficient privileges",
	codeMissingParam: "missing mandatory parameter", codeInvalidParam: "invalid parameter value",
	codeDataTooBig: "parameter data too big", codeProcessingError: "processing error",
}

type dir struct {
	cfg      Config
	d        *directory.Directory
	nonceKey []byte
}

func newDir(cfg Config) *dir {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &dir{cfg: cfg, d: cfg.Directory, nonceKey: key}
}

func (s *dir) routes(mux *http.ServeMux) {
	routes := map[string]struct {
		methods []string
		need    AccountType
		h       func(http.ResponseWriter, *http.Request, []byte)
	}{
		"template": {[]string{http.MethodGet, http.MethodPost}, Manager, s.template},
		"create":   {[]string{http.MethodPut}, Admin, s.create},
		"update":   {[]string{http.MethodPut}, Admin, s.update},
		"delete":   {[]string{http.MethodPut}, Admin, s.delete},
		"get":      {[]string{http.MethodPost}, Manager, s.get},
		"query":    {[]string{http.MethodPost}, Manager, s.query},
	}
	mux.HandleFunc("/api/dir/{function...}", func(w http.ResponseWriter, r *http.Request) {
		route, ok := routes[r.PathValue("function")]
		if !ok {
			s.fail(w, http.StatusOK, codeInvalidPath, "", "")
			return
		}
		if !contains(route.methods, r.Method) {
			s.fail(w, http.StatusOK, codeInvalidMethod, "", "")
			return
		}
		acct, ok := s.authenticate(r)
		if !ok {
			s.challenge(w)
			return
		}
		if route.need == Admin && acct.Type != Admin {
			s.fail(w, http.StatusOK, codeNoPrivileges, "", "")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes))
		if err != nil {
			s.fail(w, http.StatusOK, codeDataTooBig, "body", "")
			return
		}
		route.h(w, r, body)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *dir) ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "result": result})
}

func (s *dir) fail(w http.ResponseWriter, status, code int, param, description string) {
	if description == "" {
		description = codeDescriptions[code]
	}
	e := map[string]any{"code": code, "description": description}
	if param != "" {
		e["param"] = param
	}
	writeJSON(w, status, map[string]any{"success": false, "error": e})
}

// failErr answers a directory error or an internal one.
func (s *dir) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var re *directory.RequestError
	if errors.As(err, &re) {
		s.fail(w, http.StatusOK, re.Code, re.Param, re.Description)
		return
	}
	s.cfg.Logger.ErrorContext(r.Context(), "directory request failed", "path", r.URL.Path, "err", err)
	s.fail(w, http.StatusOK, codeProcessingError, "", "")
}

// request is every body field of the directory functions.
type request struct {
	Users    []json.RawMessage `json:"users"`
	Owner    string            `json:"owner"`
	Fields   *[]string         `json:"fields"`
	Series   string            `json:"series"`
	Iterator struct {
		Timestamp int64 `json:"timestamp"`
	} `json:"iterator"`
}

// parse decodes a body; an empty body is an empty request.
func (s *dir) parse(w http.ResponseWriter, body []byte) (request, bool) {
	var req request
	if len(strings.TrimSpace(string(body))) == 0 {
		return req, true
	}
	if err := json.Unmarshal(body, &req); err != nil {
		param := "body"
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			param = typeErr.Field
		}
		s.fail(w, http.StatusOK, codeInvalidParam, param, "")
		return req, false
	}
	return req, true
}

func (r request) fields() []string {
	if r.Fields == nil {
		return nil
	}
	if *r.Fields == nil {
		return []string{}
	}
	return *r.Fields
}

func (s *dir) template(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s.ok(w, map[string]json.RawMessage{"users": json.RawMessage("[" + string(s.d.Template()) + "]")})
}

func (s *dir) needUsers(w http.ResponseWriter, req request) bool {
	if req.Users == nil {
		s.fail(w, http.StatusOK, codeMissingParam, "users", "")
		return false
	}
	return true
}

func (s *dir) create(w http.ResponseWriter, r *http.Request, body []byte) {
	req, ok := s.parse(w, body)
	if !ok || !s.needUsers(w, req) {
		return
	}
	force := r.URL.Query().Get("force")
	if force != "" && force != "0" && force != "1" {
		s.fail(w, http.StatusOK, codeInvalidParam, "force", "")
		return
	}
	res, err := s.d.Create(r.Context(), req.Users, force == "1")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, res)
}

func (s *dir) update(w http.ResponseWriter, r *http.Request, body []byte) {
	req, ok := s.parse(w, body)
	if !ok || !s.needUsers(w, req) {
		return
	}
	res, err := s.d.Update(r.Context(), req.Users)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, res)
}

// uuids reads users:[{uuid}] of delete and get.
func (s *dir) uuids(w http.ResponseWriter, req request) ([]string, bool) {
	ids := make([]string, len(req.Users))
	for i, raw := range req.Users {
		var u struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(raw, &u); err != nil || u.UUID == "" {
			s.fail(w, http.StatusOK, codeInvalidParam, fmt.Sprintf("users[%d].uuid", i), "")
			return nil, false
		}
		ids[i] = u.UUID
	}
	return ids, true
}

func (s *dir) delete(w http.ResponseWriter, r *http.Request, body []byte) {
	req, ok := s.parse(w, body)
	if !ok {
		return
	}
	if req.Users == nil && req.Owner == "" {
		s.fail(w, http.StatusOK, codeMissingParam, "users", "")
		return
	}
	ids, ok := s.uuids(w, req)
	if !ok {
		return
	}
	res, err := s.d.Delete(r.Context(), ids, req.Owner)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, res)
}

func (s *dir) get(w http.ResponseWriter, r *http.Request, body []byte) {
	req, ok := s.parse(w, body)
	if !ok || !s.needUsers(w, req) {
		return
	}
	ids, ok := s.uuids(w, req)
	if !ok {
		return
	}
	res, err := s.d.Get(r.Context(), ids, req.fields())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, res)
}

func (s *dir) query(w http.ResponseWriter, r *http.Request, body []byte) {
	req, ok := s.parse(w, body)
	if !ok {
		return
	}
	res, err := s.d.Query(r.Context(), req.Series, req.Iterator.Timestamp, req.fields())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.ok(w, res)
}

// ---- HTTP Basic and Digest (RFC 7616) ----

func (s *dir) challenge(w http.ResponseWriter) {
	nonce := s.newNonce()
	for _, alg := range []string{"SHA-256", "MD5"} {
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm=%q, qop="auth", algorithm=%s, nonce=%q, opaque="lintel"`, s.cfg.Realm, alg, nonce))
	}
	w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, s.cfg.Realm))
	s.fail(w, http.StatusUnauthorized, codeAuthRequired, "", "")
}

// newNonce is a timestamp signed with the adapter's key: the server keeps
// no nonce state and refuses nonces older than Limits.NonceTTL.
func (s *dir) newNonce() string {
	ts := binary.BigEndian.AppendUint64(nil, uint64(s.cfg.Now().Unix()))
	mac := hmac.New(sha256.New, s.nonceKey)
	mac.Write(ts)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(ts))
}

func (s *dir) nonceFresh(nonce string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 8+sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, s.nonceKey)
	mac.Write(raw[:8])
	if !hmac.Equal(mac.Sum(nil), raw[8:]) {
		return false
	}
	age := s.cfg.Now().Sub(time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0))
	return age >= -time.Minute && age <= s.cfg.Limits.NonceTTL
}

func (s *dir) authenticate(r *http.Request) (Account, bool) {
	h := r.Header.Get("Authorization")
	if user, pass, ok := r.BasicAuth(); ok {
		acct, err := s.cfg.Accounts.CheckPassword(r.Context(), user, MD5Hex(pass))
		return acct, err == nil
	}
	params, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		return Account{}, false
	}
	p := parseDigest(params)
	alg := p["algorithm"]
	if alg == "" {
		alg = "MD5"
	}
	if (alg != "MD5" && alg != "SHA-256") || p["qop"] != "auth" || p["realm"] != s.cfg.Realm || !s.nonceFresh(p["nonce"]) ||
		p["uri"] != r.URL.RequestURI() {
		return Account{}, false
	}
	ha1, acct, err := s.cfg.Accounts.DigestHA1(r.Context(), p["username"], p["realm"], alg)
	if err != nil {
		return Account{}, false
	}
	ha2 := hashHex(alg, r.Method+":"+p["uri"])
	want := hashHex(alg, strings.Join([]string{ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2}, ":"))
	return acct, subtle.ConstantTimeCompare([]byte(want), []byte(p["response"])) == 1
}

// parseDigest splits the parameters of a Digest Authorization header.
func parseDigest(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,")
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				break
			}
			val, s = rest[1:1+end], rest[2+end:]
		} else {
			val, s, _ = strings.Cut(rest, ",")
		}
		out[strings.TrimSpace(key)] = strings.TrimSpace(val)
	}
	return out
}
