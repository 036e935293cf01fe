package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/journal"
	"github.com/lintelhq/lintel/panel"
)

// config is what the flags (and the LINTEL_* environment) say.
type config struct {
	addr, data, pgURL, zone string
	inMemory                bool

	admin, manager secret

	tlsCert, tlsKey string
	tlsSelfSigned   bool

	metricsAddr string

	// What the emulated panel can hold and take.
	faceID             bool
	maxIdentifiers     int
	maxFaceIdentifiers int
	maxBatch           int
	dirCapacity        int
	dirMaxPerRequest   int
	model              directory.Model
	panels             []string // serials of -panel
	remoteFallback     bool
	maxBody            byteSize
	maxListItems       int
	logRetention       int
	logMaxAge          time.Duration
}

// secret is a password and where it came from, for the messages.
type secret struct {
	password string
	from     string // "-admin-password", "LINTEL_ADMIN_PASSWORD_FILE", ...
}

// usageError is a mistake on the command line; main exits 2 for it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

const usageHeader = `Usage: server [flags]

Serves Lintel's panel link API (BAS-IP style, /api/v1) and the 2N directory API
(/api/dir) on one address, with /healthz and /readyz beside them. Data is kept in
the folder -data (./lintel-data, relative to the working directory) and outlives
the process; -memory keeps nothing. The first start makes the account admin and
prints its password once; -admin-password-file FILE replaces it, at that start
and for good.

Flags:
`

// parseFlags reads the command line and the environment. -h answers
// flag.ErrHelp after printing the usage to stdout; any other mistake is a
// usageError.
func parseFlags(args []string, stdout io.Writer, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and -h prints below
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`host:port` to serve both APIs on")
	fs.StringVar(&c.data, "data", "./lintel-data", "`folder` of the file store (and of the -tls-self-signed certificate)")
	fs.BoolVar(&c.inMemory, "memory", false, "keep everything in memory, lost at exit, instead of in -data")
	fs.StringVar(&c.pgURL, "postgres", "", "keep the data in the PostgreSQL database at this `URL` instead of -data (also LINTEL_POSTGRES_URL)")
	fs.StringVar(&c.zone, "zone", "UTC", "the panel's time `zone`, in which time profiles are read")

	fs.StringVar(&c.admin.password, "admin-password", "", "set the `password` of the account admin, at this start and for good (also LINTEL_ADMIN_PASSWORD);\n"+
		"other local users can read a command line: prefer -admin-password-file")
	adminFile := fs.String("admin-password-file", "", "set the password of the account admin to the first line of `file` (also LINTEL_ADMIN_PASSWORD_FILE)")
	fs.StringVar(&c.manager.password, "manager-password", "", "set the `password` of the read-only account manager (also LINTEL_MANAGER_PASSWORD)")
	managerFile := fs.String("manager-password-file", "", "set the password of the account manager to the first line of `file` (also LINTEL_MANAGER_PASSWORD_FILE)")

	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with the certificate (chain) in this PEM `file`; needs -tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "the private key of -tls-cert, a PEM `file`")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate made on the first start and kept in -data\n"+
		"(tls-cert.pem, tls-key.pem; for localhost, 127.0.0.1, ::1 and the host of -addr)")

	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on http://`host:port`/metrics (off when empty)")

	fs.BoolVar(&c.faceID, "face", true, "accept face identifiers (false: answer them face_id_not_supported)")
	fs.IntVar(&c.maxIdentifiers, "max-identifiers", 0, "identifiers of every type the panel holds, faces included (0: no limit)")
	fs.IntVar(&c.maxFaceIdentifiers, "max-face-identifiers", 0, "face identifiers the panel holds (0: no limit)")
	fs.IntVar(&c.maxBatch, "max-batch", access.DefaultMaxBatch, "items in one batch of the panel API")
	fs.IntVar(&c.dirCapacity, "dir-capacity", directory.DefaultCapacity, "entries the 2N directory holds")
	fs.IntVar(&c.dirMaxPerRequest, "dir-max-per-request", directory.DefaultMaxPerRequest, "entries in one 2N directory request")
	model := fs.String("model", "verso", "the 2N `model` to be (its firmwarePackage, its directory template): "+strings.Join(directory.Models(), ", "))
	dirModel := fs.String("dir-model", "", "the older name of -model")
	fs.Func("panel", "register the BAS-IP panel of this `serial` (repeatable); a new one gets a remote access secret and a Link password, printed once",
		func(s string) error {
			if err := panel.CheckSerial(s); err != nil {
				return err
			}
			c.panels = append(c.panels, s)
			return nil
		})
	fs.BoolVar(&c.remoteFallback, "remote-fallback", false, "the remote access server leaves credentials it does not know to the panel's own list (answers handled:false)")
	c.maxBody = 16 << 20
	fs.Var(&c.maxBody, "max-body", "largest request `size`, in bytes or with KiB, MiB or GiB")
	fs.IntVar(&c.logRetention, "log-retention", journal.DefaultMaxEvents, "events the access log keeps at least (decisions, batches, directory changes, failed logins)")
	fs.DurationVar(&c.logMaxAge, "log-max-age", 0, "drop events older than this `duration` from the access log (0: keep them while -log-retention allows)")
	fs.IntVar(&c.maxListItems, "max-list-items", 0, "elements of a request's list, counted before decoding (0: the larger of -max-batch and -dir-max-per-request)")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usageHeader)
			fs.PrintDefaults()
			return c, err
		}
		return c, usageError{err}
	}
	// flag stops at the first argument that is not a flag, so that
	// "server extra -memory" would silently ignore -memory.
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q: the server takes flags only (-name value), and each must come before any other argument", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if c.pgURL == "" {
		c.pgURL = getenv("LINTEL_POSTGRES_URL")
	}
	var err error
	if c.admin, err = password("admin", c.admin.password, *adminFile, getenv); err != nil {
		return c, err
	}
	if c.manager, err = password("manager", c.manager.password, *managerFile, getenv); err != nil {
		return c, err
	}

	switch {
	case c.inMemory && c.pgURL != "":
		return c, usagef("-memory and -postgres (or LINTEL_POSTGRES_URL) exclude each other")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return c, usagef("-tls-cert and -tls-key go together")
	case c.tlsSelfSigned && c.tlsCert != "":
		return c, usagef("-tls-self-signed and -tls-cert exclude each other")
	case c.metricsAddr != "" && c.metricsAddr == c.addr && !strings.HasSuffix(c.addr, ":0"):
		return c, usagef("-metrics-addr must differ from -addr")
	case set["data"] && c.inMemory:
		return c, usagef("-data and -memory exclude each other: -memory keeps nothing on disk")
	}
	for _, n := range []struct {
		name string
		v    int
		min  int
	}{
		{"max-identifiers", c.maxIdentifiers, 0}, {"max-face-identifiers", c.maxFaceIdentifiers, 0},
		{"max-batch", c.maxBatch, 1}, {"dir-capacity", c.dirCapacity, 1}, {"dir-max-per-request", c.dirMaxPerRequest, 1},
		{"max-list-items", c.maxListItems, 0}, {"log-retention", c.logRetention, 1}, {"max-body", int(c.maxBody), 1},
	} {
		if n.v < n.min {
			return c, usagef("-%s: %d is below %d", n.name, n.v, n.min)
		}
	}
	if c.maxListItems == 0 {
		c.maxListItems = max(c.maxBatch, c.dirMaxPerRequest)
	}
	name, flagName := *model, "-model"
	if set["dir-model"] {
		if set["model"] {
			return c, usagef("-model and -dir-model (its older name) exclude each other")
		}
		name, flagName = *dirModel, "-dir-model"
	}
	m, ok := directory.ModelFor(name)
	if !ok {
		return c, usagef("%s: %q is none of %s", flagName, name, strings.Join(directory.Models(), ", "))
	}
	c.model = m
	return c, nil
}

// password is an account's password from its flag, its -…-file flag or
// the environment (LINTEL_ADMIN_PASSWORD, LINTEL_ADMIN_PASSWORD_FILE, and
// the same for the manager), the flags first.
func password(account, value, file string, getenv func(string) string) (secret, error) {
	flagName, env := "-"+account+"-password", "LINTEL_"+strings.ToUpper(account)+"_PASSWORD"
	switch {
	case value != "" && file != "":
		return secret{}, usagef("%s and %s-file exclude each other", flagName, flagName)
	case value != "":
		return secret{value, flagName}, nil
	case file != "":
		return readPassword(file, flagName+"-file")
	case getenv(env) != "" && getenv(env+"_FILE") != "":
		return secret{}, usagef("%s and %s_FILE exclude each other", env, env)
	case getenv(env) != "":
		return secret{getenv(env), env}, nil
	case getenv(env+"_FILE") != "":
		return readPassword(getenv(env+"_FILE"), env+"_FILE")
	}
	return secret{}, nil
}

// readPassword reads a password file: its first line, without the line
// ending.
func readPassword(path, from string) (secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return secret{}, fmt.Errorf("%s: %w", from, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return secret{}, fmt.Errorf("%s: %s has no password on its first line", from, path)
	}
	return secret{line, from}, nil
}

// byteSize is a flag.Value for sizes: 1048576, 1024KiB, 16MiB, 1GiB.
type byteSize int64

func (b *byteSize) String() string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if *b != 0 && int64(*b)%u.n == 0 {
			return strconv.FormatInt(int64(*b)/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.n
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return errors.New("want a size such as 1048576, 512KiB or 16MiB")
	}
	*b = byteSize(n * mult)
	return nil
}
