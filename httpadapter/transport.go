package httpadapter

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The 2N API takes every function's parameters from the query string, an
// application/x-www-form-urlencoded body, a multipart/form-data body or a
// JSON body. Large parameters are "blob-..." parts of a multipart body,
// each holding a JSON document (npm's 2n-helios-client sends dir/query as
// blob-json and dir/create as blob-dir_new); their members are read as a
// JSON body's are. A form body that is a JSON object (curl -d '{...}'
// sends one) is read as JSON.

// Bounds of a form or multipart body, besides Limits.MaxBodyBytes on the
// whole of it.
const (
	maxParts      = 64       // parts of a multipart body, and fields of a form
	maxFieldBytes = 64 << 10 // a part that is not a blob-* part
)

// params are the scalar parameters of a 2N call: the query string's,
// then the form's.
type params struct {
	query, form url.Values
}

// get returns the parameter name from the query string, else the form.
func (p params) get(name string) string {
	if v, ok := p.query[name]; ok && len(v) > 0 {
		return v[0]
	}
	return p.form.Get(name)
}

// seconds reads raw, a whole number of seconds, as a duration in
// [lo, hi]. The number is compared before it is converted, so no number
// so large that it wraps around time.Duration can land inside the bounds.
func seconds(raw string, lo, hi time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < int64(lo/time.Second) || n > int64(hi/time.Second) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// maxListParam bounds the elements of a comma-separated parameter
// (switch=1,2 and the like), so an answer never grows with a repeated id.
const maxListParam = 64

// readParams reads a 2N call's parameters into c: the scalars into
// c.scalars, the JSON members (from a JSON body or blob-* parts) into
// c.params.
func (s *dir) readParams(w http.ResponseWriter, r *http.Request, c *call) error {
	c.scalars.query = r.URL.Query()
	body := http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes)
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		return readMultipart(body, mp["boundary"], c)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return tooBig("body")
	}
	raw = bytes.TrimSpace(raw)
	if mt == "application/x-www-form-urlencoded" && len(raw) > 0 && raw[0] != '{' {
		return readForm(raw, c)
	}
	if len(raw) == 0 {
		return nil
	}
	return decodeObject(raw, &c.params)
}

func tooBig(param string) *twoNError {
	return &twoNError{status: http.StatusOK, code: CodeDataTooBig, param: param}
}

// readForm reads an application/x-www-form-urlencoded body.
func readForm(raw []byte, c *call) error {
	if n := bytes.Count(raw, []byte("&")) + 1; n > maxParts {
		return tooBig("body")
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return invalidParam("body")
	}
	c.scalars.form = form
	return nil
}

// readMultipart reads a multipart/form-data body: blob-* parts as JSON
// documents into c.params, the others as form fields.
func readMultipart(body io.Reader, boundary string, c *call) error {
	if boundary == "" {
		return invalidParam("body")
	}
	mr := multipart.NewReader(body, boundary)
	c.scalars.form = url.Values{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return tooBig("body")
		case err != nil:
			return invalidParam("body")
		case n == maxParts:
			return tooBig("body")
		}
		name := part.FormName()
		if !strings.HasPrefix(name, "blob-") {
			v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			switch {
			case errors.As(err, &tooLarge):
				return tooBig("body")
			case err != nil:
				return invalidParam("body")
			case len(v) > maxFieldBytes:
				return tooBig(name)
			}
			c.scalars.form.Add(name, string(v))
			continue
		}
		doc, err := io.ReadAll(part) // bounded by MaxBodyBytes on the body
		switch {
		case errors.As(err, &tooLarge):
			return tooBig(name)
		case err != nil:
			return invalidParam(name)
		}
		if err := decodeObject(doc, &c.params); err != nil {
			if errors.Is(err, errBadJSON) {
				return invalidParam(name)
			}
			return err
		}
	}
}
