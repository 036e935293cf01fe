package httpadapter

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// route is one route of an API, kept as data: the mux is registered from
// these, and a test holds the OpenAPI document to the same table.
type route struct {
	method  string      // an HTTP method
	pattern string      // a ServeMux path pattern; {link_id} is OpenAPI's syntax too
	need    AccountType // Manager: any account; Admin: an administrator
	handle  handlerFunc
}

// call is what a handler learns besides the request: who called, and on
// the 2N API the function's parameters, decoded from whichever transport
// carried them.
type call struct {
	acct    Account
	params  request // the JSON members
	scalars params  // the query string's and the form's
}

// handlerFunc serves an authenticated request. It writes a success
// itself and returns any failure, which its API's mapper answers.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// api is one vendor API: how it authenticates a route's callers and
// answers its handlers' errors, and what it says of a method or a path it
// does not serve.
type api interface {
	// serve wraps a route's handler: authentication, the account type
	// the route needs, and the mapping of the error it returns.
	serve(rt route) http.Handler
	// fail answers err, a handler's error, in the API's terms.
	fail(w http.ResponseWriter, r *http.Request, err error)
}

// errMethodNotAllowed and errNoRoute are what an API's mapper answers for
// a known path with another method, and for a path under its prefix that
// it does not serve.
var (
	errMethodNotAllowed = errors.New("httpadapter: method not allowed")
	errNoRoute          = errors.New("httpadapter: no such route")
)

// table is the routes of one API and the path prefix whose other paths
// it answers with errNoRoute ("" for none).
type table struct {
	api    api
	prefix string
	routes []route
}

// register adds each table's routes to mux, one handler per path that
// dispatches on the method.
func register(mux *http.ServeMux, tables ...table) {
	for _, t := range tables {
		byPath := map[string]map[string]http.Handler{}
		var paths []string
		for _, rt := range t.routes {
			if byPath[rt.pattern] == nil {
				byPath[rt.pattern] = map[string]http.Handler{}
				paths = append(paths, rt.pattern)
			}
			byPath[rt.pattern][rt.method] = t.api.serve(rt)
		}
		for _, p := range paths {
			mux.Handle(p, methods{api: t.api, handlers: byPath[p], allow: strings.Join(slices.Sorted(maps.Keys(byPath[p])), ", ")})
		}
		if t.prefix != "" {
			a := t.api
			mux.HandleFunc(t.prefix, func(w http.ResponseWriter, r *http.Request) { a.fail(w, r, errNoRoute) })
		}
	}
}

// methods routes one path by request method; any other method is
// answered by the API's errMethodNotAllowed, with the Allow header set.
type methods struct {
	api      api
	handlers map[string]http.Handler
	allow    string
}

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m.handlers[r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Allow", m.allow)
	m.api.fail(w, r, errMethodNotAllowed)
}

// panelError is a failure the panel API answers with status and the
// error body {"error": msg}.
type panelError struct {
	status int
	msg    Message
}

func (e *panelError) Error() string { return "httpadapter: " + string(e.msg) }

// twoNError is a failure the 2N API answers with its envelope: code,
// param when set and desc ("" for the code's own description), with
// status 200 as the device answers errors, or 401 and 429.
type twoNError struct {
	status int
	code   Code
	param  string
	desc   string
}

func (e *twoNError) Error() string {
	return fmt.Sprintf("httpadapter: 2N code %d %s", e.code, cmp.Or(e.desc, e.code.Description()))
}

// invalidParam and missingParam are the 2N API's codes 12 and 11 for a
// parameter.
func invalidParam(param string) *twoNError {
	return &twoNError{status: http.StatusOK, code: CodeInvalidParam, param: param}
}

func missingParam(param string) *twoNError {
	return &twoNError{status: http.StatusOK, code: CodeMissingParam, param: param}
}
