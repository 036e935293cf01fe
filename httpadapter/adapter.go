package httpadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
)

// Limits bound what a client can make the adapter do. Zero fields take
// their defaults.
type Limits struct {
	// MaxBodyBytes bounds request bodies; default 16 MiB. A larger body
	// is answered 413 (panel API) or code 13 (2N API).
	MaxBodyBytes int64
	// MaxListItems bounds the elements of a body's list (list_items,
	// link_ids, users) before they are decoded; default
	// access.DefaultMaxBatch. The services' own limits apply as well.
	MaxListItems int
	// TokenTTL is the life of a panel API token; default 2 hours.
	TokenTTL time.Duration
	// LoginFailures, LoginAddressFailures and LoginUserFailures bound
	// the failed logins (the panel's login, HTTP Basic and HTTP Digest
	// together) within LoginWindow, in a sliding window:
	//
	//   - LoginFailures (default 5) of one user name from one client
	//     address (IPv6 per /64). Only that pair is refused then, until
	//     its oldest failure leaves the window: the user from another
	//     address, and other users from that address, are not.
	//   - LoginAddressFailures (default 4 × LoginFailures) from one client
	//     address, over all user names.
	//   - LoginUserFailures (default 4 × LoginFailures) of one user name
	//     from the addresses that have not logged in as that user in the
	//     last 30 days (the throttle remembers the last 8 addresses of a
	//     user, in this process). A guess from many addresses is slowed
	//     to that many password checks per window; the user at a known
	//     address is never refused for it, at a new address it may wait.
	//
	// LoginWindow defaults to 15 minutes. An attempt under a bound that
	// is reached is refused, before its password is checked, with 429 and
	// Retry-After (the 2N API: code 18). A right password clears the
	// pair's failures, not the others. Attempts being checked count as failures
	// until they are found right, so concurrent guesses run no more
	// checks than the bounds allow.
	LoginFailures        int
	LoginAddressFailures int
	LoginUserFailures    int
	LoginWindow          time.Duration
	// NonceTTL is the life of an HTTP Digest nonce; default 5 minutes.
	NonceTTL time.Duration
}

// Config is what New needs. Access and Directory may each be nil, which
// leaves their routes out; Accounts is required.
type Config struct {
	Access    *access.Service
	Directory *directory.Directory
	Accounts  Accounts
	// Device, when set, serves the 2N device functions: /api/system/info
	// (without credentials, as the device answers it), system/status,
	// switch/*, io/*, accesspoint/blocking/* and config/holidays.
	Device *device.Device
	// Journal, when set, serves the logs (2N's /api/log/*, BAS-IP's
	// /api/v1/log/items) and records failed logins. Give the same journal
	// to access and directory (their WithJournal) to log their decisions
	// and changes; the adapter names the authenticated user as each
	// event's Source (journal.WithSource).
	Journal *journal.Journal
	// Panels, when set, serves BAS-IP panels themselves: the Link
	// channel on which they log in with their serial and push their logs
	// (/api/v0/devices/*), and, with Access, the remote access server
	// that decides for them (POST /api/v1/remote/access).
	Panels *panel.Registry
	// RemoteFallback makes the remote access server answer a credential
	// Lintel does not know with {"handled":false}, so that the panel
	// decides it from its own list; by default it is denied.
	RemoteFallback bool
	Logger         *slog.Logger // nil discards
	Limits         Limits
	Now            func() time.Time // default time.Now
}

// New returns the handler of both vendor APIs:
//
//   - the panel's link API under /api/v1 (login with the MD5 of the
//     password, Bearer tokens, batches by link_id, reads, a decision
//     route), answering errors with the vendor's exact bodies;
//   - the 2N directory API under /api/dir, with HTTP Basic or Digest
//     (RFC 7616, MD5 and SHA-256) authentication and the 2N envelope;
//   - /openapi.json, the OpenAPI 3.1 document of every route.
//
// Every request is logged at Info with method, path, status, duration,
// client address and, once authenticated, the user name; bodies, query
// strings, passwords, tokens, PINs and face photos never are.
//
// New panics without cfg.Accounts, a programming error.
func New(cfg Config) http.Handler {
	cfg = withDefaults(cfg)
	// One throttle for both APIs: they share the accounts, so guessing a
	// password through HTTP Basic costs as much as through the login.
	return serve(cfg, newThrottle(cfg.Limits, maxThrottleKeys, maxKnownUsers, cfg.Now))
}

// withDefaults fills in cfg's defaults; it panics without cfg.Accounts.
func withDefaults(cfg Config) Config {
	if cfg.Accounts == nil {
		panic("httpadapter: Config.Accounts is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &cfg.Limits
	l.MaxBodyBytes = cmp.Or(l.MaxBodyBytes, 16<<20)
	l.MaxListItems = cmp.Or(l.MaxListItems, access.DefaultMaxBatch)
	l.TokenTTL = cmp.Or(l.TokenTTL, 2*time.Hour)
	l.LoginFailures = cmp.Or(l.LoginFailures, 5)
	l.LoginAddressFailures = cmp.Or(l.LoginAddressFailures, 4*l.LoginFailures)
	l.LoginUserFailures = cmp.Or(l.LoginUserFailures, 4*l.LoginFailures)
	l.LoginWindow = cmp.Or(l.LoginWindow, 15*time.Minute)
	l.NonceTTL = cmp.Or(l.NonceTTL, 5*time.Minute)
	return cfg
}

// serve is New's handler once cfg has its defaults, with the login
// throttle logins.
func serve(cfg Config, logins *throttle) http.Handler {
	if j := cfg.Journal; j != nil {
		// A wrong password, checked, is an event; attempts refused before
		// any check (throttled, busy) are not, so that a flood of them
		// cannot push the access log out of the journal's retention.
		logins.failed = func(r *http.Request, user string) {
			ev := journal.Event{Kind: journal.Login, Name: "failed", UserName: user, Source: clientAddr(r)}
			if err := j.Append(r.Context(), ev); err != nil {
				cfg.Logger.WarnContext(r.Context(), "failed login not journaled", "err", err)
			}
		}
	}
	mux := http.NewServeMux()
	register(mux, tables(cfg, logins)...)
	return logRequests(cfg.Logger, mux)
}

// tables is every route the adapter serves for cfg.
func tables(cfg Config, logins *throttle) []table {
	var ts []table
	if cfg.Access != nil {
		ts = append(ts, newPanel(cfg, logins).table())
	}
	if cfg.Panels != nil {
		ts = append(ts, newLink(cfg).table())
		if cfg.Access != nil {
			ts = append(ts, newRemote(cfg).table())
		}
	}
	if cfg.Directory != nil || cfg.Journal != nil || cfg.Device != nil {
		ts = append(ts, newDir(cfg, logins).table())
	}
	return append(ts, table{api: docs{}, routes: []route{{http.MethodGet, "/openapi.json", "", serveOpenAPI}}})
}

// docs is the API of the adapter's own document.
type docs struct{}

func (d docs) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rt.handle(w, r, &call{}); err != nil {
			d.fail(w, r, err)
		}
	})
}

func (docs) fail(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, errMethodNotAllowed) {
		status = http.StatusMethodNotAllowed
	}
	http.Error(w, http.StatusText(status), status)
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ *call) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// requestLog is what a request's log line learns while it is served.
type requestLog struct {
	status int
	user   string
}

type requestLogKey struct{}

// logUser records the authenticated user name for the request's log line.
func logUser(r *http.Request, name string) {
	if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
		l.user = name
	}
}

type statusRecorder struct {
	http.ResponseWriter
	log *requestLog
}

func (s statusRecorder) WriteHeader(code int) {
	s.log.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rl := &requestLog{status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, rl))
		next.ServeHTTP(statusRecorder{ResponseWriter: w, log: rl}, r)
		// The path only: the login's query string carries the password hash.
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rl.status),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr)}
		if rl.user != "" {
			attrs = append(attrs, slog.String("user", rl.user))
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}
