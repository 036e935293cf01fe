package httpadapter

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
)

// Limits bound what a client can make the adapter do.
type Limits struct {
	MaxBodyBytes  int64         // request bodies; default 16 MiB
	TokenTTL      time.Duration // panel API tokens; default 2 hours
	LoginFailures int           // failed logins per user and per address before throttling; default 5
	LoginWindow   time.Duration // the window those failures count in; default 15 minutes
	NonceTTL      time.Duration // HTTP Digest nonces; default 5 minutes
}

// Config is what New needs. Access and Directory may each be nil, which
// leaves their routes out.
type Config struct {
	Access    *access.Service
	Directory *directory.Directory
	Accounts  Accounts
	Logger    *slog.Logger // nil discards
	Limits    Limits
	Realm     string           // HTTP Digest realm; default "lintel"
	Now       func() time.Time // default time.Now
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
// Every request is logged at Info with method, path, status and duration;
// bodies, passwords, tokens and PINs never are.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Realm == "" {
		cfg.Realm = "lintel"
	}
	l := &cfg.Limits
	l.MaxBodyBytes = or(l.MaxBodyBytes, 16<<20)
	l.TokenTTL = or(l.TokenTTL, 2*time.Hour)
	l.LoginFailures = or(l.LoginFailures, 5)
	l.LoginWindow = or(l.LoginWindow, 15*time.Minute)
	l.NonceTTL = or(l.NonceTTL, 5*time.Minute)

	mux := http.NewServeMux()
	if cfg.Access != nil {
		newPanel(cfg).routes(mux)
	}
	if cfg.Directory != nil {
		newDir(cfg).routes(mux)
	}
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	return logRequests(cfg.Logger, mux)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		// The path only: query strings carry the login's password hash.
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	})
}
