// Command server runs Lintel's HTTP adapter: the panel link API and the 2N
// directory API, on a file store in a local folder by default.
//
//	go run ./examples/server                      # 127.0.0.1:8080, data in ./lintel-data
//	go run ./examples/server -admin-password s3cret -zone Europe/Prague
//	go run ./examples/server -memory -addr 127.0.0.1:9000
//	go run ./examples/server -postgres postgres://lintel@db/lintel  # several servers, one database
//
// On the first start without -admin-password (or LINTEL_ADMIN_PASSWORD) it
// makes a password for the account "admin", prints it once and keeps only
// its hashes. With a password given, the admin account is set to it at every
// start. -manager-password (or LINTEL_MANAGER_PASSWORD) sets the account
// "manager", which may read and ask for decisions but not change data.
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
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
	"github.com/lintelhq/lintel/store/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run is the whole server; it returns when ctx ends (after a graceful
// shutdown) or on an error.
func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) (err error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", "./lintel-data", "folder of the file store")
	inMemory := fs.Bool("memory", false, "keep everything in memory (lost at exit) instead of -data")
	pgURL := fs.String("postgres", "", "keep the data in this PostgreSQL database instead of -data (also LINTEL_POSTGRES_URL)")
	adminPassword := fs.String("admin-password", "", "set the password of the account admin (also LINTEL_ADMIN_PASSWORD)")
	managerPassword := fs.String("manager-password", "", "set the password of the read-only account manager (also LINTEL_MANAGER_PASSWORD)")
	zone := fs.String("zone", "UTC", "the panel's time zone, in which time profiles are read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *adminPassword == "" {
		*adminPassword = getenv("LINTEL_ADMIN_PASSWORD")
	}
	if *managerPassword == "" {
		*managerPassword = getenv("LINTEL_MANAGER_PASSWORD")
	}
	if *pgURL == "" {
		*pgURL = getenv("LINTEL_POSTGRES_URL")
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	loc, err := time.LoadLocation(*zone)
	if err != nil {
		return fmt.Errorf("-zone: %w", err)
	}

	st, where, err := openStore(ctx, *inMemory, *pgURL, *data)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	svc, err := access.New(ctx, st, access.WithLocation(loc), access.WithLogger(log))
	if err != nil {
		return err
	}
	dir, err := directory.Open(ctx, st, directory.WithLogger(log))
	if err != nil {
		return err
	}
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	if err != nil {
		return err
	}
	if err := ensureAdmin(ctx, accounts, *adminPassword, stdout); err != nil {
		return err
	}
	if *managerPassword != "" {
		if err := accounts.Set(ctx, "manager", httpadapter.Manager, *managerPassword); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           httpadapter.New(httpadapter.Config{Access: svc, Directory: dir, Accounts: accounts, Logger: log}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second, // a 16 MiB batch on a slow link
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "lintel: listening on http://%s, %s\n", ln.Addr(), where)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "lintel: stopped")
	return nil
}

func openStore(ctx context.Context, inMemory bool, pgURL, data string) (store.Store, string, error) {
	switch {
	case inMemory:
		return memory.New(), "data in memory", nil
	case pgURL != "":
		st, err := postgres.Open(ctx, pgURL, nil)
		if err != nil {
			return nil, "", err
		}
		return st, "data in PostgreSQL", nil
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(data, "lintel.db")
	st, err := file.Open(path, nil)
	if err != nil {
		return nil, "", err
	}
	return st, "data in " + path, nil
}

// ensureAdmin sets the admin password when one is given, and makes one on
// a first start without it.
func ensureAdmin(ctx context.Context, accounts *httpadapter.StoreAccounts, password string, stdout io.Writer) error {
	if password != "" {
		return accounts.Set(ctx, "admin", httpadapter.Admin, password)
	}
	exists, err := accounts.Exists(ctx)
	if err != nil || exists {
		return err
	}
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	password = base64.RawURLEncoding.EncodeToString(raw)
	if err := accounts.Set(ctx, "admin", httpadapter.Admin, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lintel: first start: user admin, password %s (shown once; only its hashes are kept)\n", password)
	return nil
}
