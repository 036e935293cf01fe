// Command server runs Lintel's HTTP adapter: the panel link API and the 2N
// directory API, on a file store in a local folder by default.
//
//	go run ./examples/server                      # 127.0.0.1:8080, data in ./lintel-data
//	go run ./examples/server -admin-password-file admin.txt -zone Europe/Prague
//	go run ./examples/server -tls-self-signed -metrics-addr 127.0.0.1:9090
//	go run ./examples/server -memory -addr 127.0.0.1:9000 -face=false -max-identifiers 1000
//	go run ./examples/server -postgres postgres://lintel@db/lintel  # several servers, one database
//	go run ./examples/server -h                   # every flag
//
// The data folder (-data, ./lintel-data by default) is relative to the
// working directory; the server prints its absolute path. Data there
// outlives the process; with -memory nothing does.
//
// The server binds its address first, so a start that fails for a taken
// port writes nothing. Then, on the first start without an admin password,
// it makes one for the account "admin", keeps only its hashes, and prints
// it once the server is serving. -admin-password-file FILE (or
// -admin-password, or LINTEL_ADMIN_PASSWORD[_FILE]) sets the admin
// password at that start, and it stays set for later starts without it:
// that is also how to replace a lost one. -manager-password-file (or
// -manager-password, LINTEL_MANAGER_PASSWORD[_FILE]) sets the account
// "manager", which may read and ask for decisions but not change data.
// Prefer the -file flags: a command line is visible to every local user.
//
// -tls-cert and -tls-key serve HTTPS with a given certificate;
// -tls-self-signed makes an ECDSA P-256 certificate for localhost,
// 127.0.0.1, ::1 and the host of -addr on the first start and keeps it in
// the data folder. GET /healthz answers 200 while the process runs, and
// GET /readyz 200 while the store answers a read within two seconds (503
// otherwise). -metrics-addr serves Prometheus metrics on another address.
// The capability and limit flags (-face, -max-identifiers, -max-batch,
// -dir-capacity, -max-body, ...) make the server behave like a given panel.
//
// SIGINT or SIGTERM stops it gracefully: it stops accepting connections,
// lets the requests in progress finish (up to 30 seconds), then closes the
// store, so every batch that was answered is on disk. A second signal stops
// it at once.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/access/facecheck"
	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/face"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		fmt.Fprintf(os.Stderr, "server: %v\n(server -h lists the flags)\n", err)
		stop()
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "server:", err)
		stop()
		os.Exit(1)
	}
}

// readyTimeout bounds the store read of /readyz.
const readyTimeout = 2 * time.Second

// run is the whole server; it returns when ctx ends (after a graceful
// shutdown) or on an error. It prints the usage for -h and returns
// flag.ErrHelp; a mistake on the command line is a usageError.
func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) (err error) {
	c, err := parseFlags(args, stdout, getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	loc, err := time.LoadLocation(c.zone)
	if err != nil {
		return usageError{fmt.Errorf("-zone: %w", err)}
	}
	for _, s := range []secret{c.admin, c.manager} {
		if s.from == "-admin-password" || s.from == "-manager-password" {
			log.Warn(s.from+" is visible to every local user in the process list; "+s.from+"-file is not", "flag", s.from)
		}
	}

	// Bind first: a start that fails here has written nothing, so a
	// first start that fails leaves the first-start password to the next.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("-addr: %w (is another server running there? choose another address with -addr)", err)
	}
	defer ln.Close()
	var m *metrics
	var metricsLn net.Listener
	if c.metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", c.metricsAddr); err != nil {
			return fmt.Errorf("-metrics-addr: %w", err)
		}
		defer metricsLn.Close()
		m = newMetrics()
	}

	dataDir, err := filepath.Abs(c.data)
	if err != nil {
		return fmt.Errorf("-data: %w", err)
	}
	st, where, err := openStore(ctx, c, dataDir, stdout)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if m != nil {
		st = m.timeStore(st)
	}
	if c.inMemory {
		dataDir = "" // -memory keeps nothing on disk, a certificate neither
	}
	tlsConfig, tlsNote, err := setupTLS(c, dataDir, time.Now())
	if err != nil {
		return err
	}

	events, err := journal.Open(ctx, st, journal.Options{MaxEvents: c.logRetention, MaxAge: c.logMaxAge, Logger: log})
	if err != nil {
		return err
	}
	// Deferred after the store's Close, so it runs first: what is queued
	// is committed before the store closes.
	defer func() { err = errors.Join(err, events.Close(context.Background())) }()
	if m != nil {
		m.watchJournal(events)
	}

	opts := []access.Option{access.WithJournal(events), access.WithLocation(loc), access.WithLogger(log), access.WithMaxBatch(c.maxBatch),
		access.WithCapabilities(access.Capabilities{FaceID: c.faceID, MaxIdentifiers: c.maxIdentifiers, MaxFaceIdentifiers: c.maxFaceIdentifiers})}
	if c.faceID {
		faces, err := facecheck.New(face.Config{}) // pigo, package face's enrolment policy
		if err != nil {
			return err
		}
		opts = append(opts, access.WithFaceChecker(faces))
	}
	svc, err := access.New(ctx, st, opts...)
	if err != nil {
		return err
	}
	dir, err := directory.Open(ctx, st, directory.WithJournal(events), directory.WithLogger(log), directory.WithCapacity(c.dirCapacity),
		directory.WithMaxPerRequest(c.dirMaxPerRequest), directory.WithModel(c.model))
	if err != nil {
		return err
	}
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	if err != nil {
		return err
	}
	made, existed, err := ensureAdmin(ctx, accounts, c.admin.password)
	if err != nil {
		return err
	}
	if c.manager.password != "" {
		if err := accounts.Set(ctx, "manager", httpadapter.Manager, c.manager.password); err != nil {
			return err
		}
	}

	info := device.DefaultInfo()
	info.FirmwarePackage = device.FirmwarePackage(c.model.Name) // the model 2N clients read to choose a template
	dev, err := device.Open(ctx, st, device.WithInfo(info), device.WithJournal(events), device.WithLogger(log), device.WithLocation(loc))
	if err != nil {
		return err
	}
	panels, err := panel.Open(ctx, st, panel.WithJournal(events), panel.WithLogger(log))
	if err != nil {
		return err
	}
	newPanels, err := registerPanels(ctx, panels, c.panels)
	if err != nil {
		return err
	}
	chores, stopChores := context.WithCancel(ctx)
	defer stopChores()
	go housekeeping(chores, log, dev, panels)
	var handler http.Handler = httpadapter.New(httpadapter.Config{Access: svc, Directory: dir, Device: dev, Journal: events, Panels: panels,
		RemoteFallback: c.remoteFallback, Accounts: accounts, Logger: log,
		Limits: httpadapter.Limits{MaxBodyBytes: int64(c.maxBody), MaxListItems: c.maxListItems}})
	handler = withHealth(st, log, readyTimeout, handler)
	if m != nil {
		handler = m.instrument(handler)
	}
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second, // a 16 MiB batch on a slow link
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{srv}
	served := make(chan error, 2)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	if m != nil {
		msrv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, msrv)
		go func() { served <- msrv.Serve(metricsLn) }()
	}

	// Serving: only now show what a failed start must not have used up.
	if tlsNote != "" {
		fmt.Fprintln(stdout, "lintel:", tlsNote)
	}
	switch {
	case made != "":
		fmt.Fprintf(stdout, "lintel: first start: user admin, password %s (shown once; only its hashes are kept)\n", made)
		fmt.Fprintln(stdout, "lintel: to replace it later, start once with -admin-password-file FILE; the new password is kept")
	case existed && c.admin.password == "":
		fmt.Fprintln(stdout, "lintel: account admin: its password was shown on the first start; to replace a lost one, start once with -admin-password-file FILE")
	}
	for _, p := range newPanels {
		fmt.Fprintf(stdout, "lintel: panel %s: remote access URL %s://%s/api/v1/remote/access?key=%s; Link login %s, password %s (shown once; only hashes are kept)\n",
			p.serial, scheme, ln.Addr(), p.secret, p.serial, p.password)
	}
	if m != nil {
		fmt.Fprintf(stdout, "lintel: metrics on http://%s/metrics\n", metricsLn.Addr())
	}
	fmt.Fprintf(stdout, "lintel: listening on %s://%s, %s\n", scheme, ln.Addr(), where)

	select {
	case err = <-served: // a server failed: stop the other one too
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		if serr := s.Shutdown(shutdown); serr != nil {
			return errors.Join(err, fmt.Errorf("shutdown: %w", serr))
		}
	}
	if err != nil {
		return err
	}
	for range servers {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	fmt.Fprintln(stdout, "lintel: stopped")
	return nil
}

// openStore opens the store the flags name, and says where the data is.
// A file store is the file lintel.db in dataDir.
func openStore(ctx context.Context, c config, dataDir string, stdout io.Writer) (store.Store, string, error) {
	switch {
	case c.inMemory:
		return memory.New(), "data in memory (lost at exit)", nil
	case c.pgURL != "":
		st, err := postgres.Open(ctx, c.pgURL, nil)
		if err != nil {
			return nil, "", err
		}
		return st, "data in PostgreSQL", nil
	}
	path := filepath.Join(dataDir, "lintel.db")
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("-data: %w", err)
	}
	st, err := file.Open(path, nil)
	if errors.Is(err, file.ErrLocked) {
		return nil, "", fmt.Errorf("another server holds the data folder %s (%s stays locked while a server has it open): stop that server, or give this one another -data", dataDir, path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("-data: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		fmt.Fprintf(stdout, "lintel: new data folder %s: the data kept there outlives the server\n", dataDir)
	}
	return st, "data in " + path, nil
}

// ensureAdmin sets the admin password when one is given, and makes one on
// a first start without it: made is that password, to be shown once.
// existed reports whether any account was there before.
func ensureAdmin(ctx context.Context, accounts *httpadapter.StoreAccounts, password string) (made string, existed bool, err error) {
	if existed, err = accounts.Exists(ctx); err != nil {
		return "", false, err
	}
	if password != "" {
		return "", existed, accounts.Set(ctx, "admin", httpadapter.Admin, password)
	}
	if existed {
		return "", true, nil
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	made = base64.RawURLEncoding.EncodeToString(raw)
	return made, false, accounts.Set(ctx, "admin", httpadapter.Admin, made)
}

// withHealth answers GET /healthz (the process is up) and GET /readyz (the
// store answers a read within timeout) before next sees a request.
func withHealth(st store.Store, log *slog.Logger, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/readyz" {
			if err := storeReady(r.Context(), st, timeout); err != nil {
				log.WarnContext(r.Context(), "not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "store unavailable\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

// storeReady runs an empty read transaction, and gives up after timeout
// even if the store does not heed its context.
func storeReady(ctx context.Context, st store.Store, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.View(ctx, func(store.Tx) error { return nil }) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newPanel is a panel registered at this start, with the secrets it was
// given (shown once).
type newPanel struct{ serial, secret, password string }

// registerPanels registers the panels of -panel that the registry does not
// know yet, each with a new remote access secret and Link password; known
// panels are left as they are.
func registerPanels(ctx context.Context, reg *panel.Registry, serials []string) ([]newPanel, error) {
	var made []newPanel
	for _, serial := range serials {
		_, err := reg.Get(ctx, serial)
		if err == nil {
			continue
		}
		if !errors.Is(err, panel.ErrNotFound) {
			return nil, err
		}
		p := newPanel{serial: serial}
		if p.secret, err = panel.NewSecret(); err != nil {
			return nil, err
		}
		if p.password, err = panel.NewSecret(); err != nil {
			return nil, err
		}
		p.password = p.password[:24] // a Link password: at most 72 bytes for bcrypt
		if err := reg.Put(ctx, serial, ""); err != nil {
			return nil, fmt.Errorf("-panel %s: %w", serial, err)
		}
		if err := reg.SetSecret(ctx, serial, p.secret); err != nil {
			return nil, err
		}
		if err := reg.SetPassword(ctx, serial, p.password); err != nil {
			return nil, err
		}
		made = append(made, p)
	}
	return made, nil
}

// housekeeping does, until ctx is done, what happens by itself: every
// second, switches whose time ran out are journaled as inactive
// (device.Settle); every 10 seconds, panels that went silent are journaled
// offline (panel.Registry.Sweep); every 30 seconds, holidays changed by
// another server on the same store are read (device.Refresh).
func housekeeping(ctx context.Context, log *slog.Logger, dev *device.Device, panels *panel.Registry) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		chore := func(name string, err error) {
			if err != nil && ctx.Err() == nil {
				log.Warn(name+" failed", "err", err)
			}
		}
		chore("switch settling", dev.Settle(ctx))
		if tick%10 == 0 {
			chore("panel sweep", panels.Sweep(ctx))
		}
		if tick%30 == 0 {
			chore("holiday refresh", dev.Refresh(ctx))
		}
	}
}
