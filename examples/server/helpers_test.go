package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func md5hex(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }

// server is the built server running as a process on a free loopback port.
type server struct {
	cmd      *exec.Cmd
	addr     string   // host:port of both APIs
	url      string   // http://addr or https://addr
	metrics  string   // host:port of -metrics-addr, if given
	password string   // printed on a first start without one
	lines    []string // what it printed up to "listening on"
	out      *bufio.Reader
	stderr   *lockedBuffer
}

var (
	passwordLine  = regexp.MustCompile(`password (\S+) \(shown once`)
	metricsLine   = regexp.MustCompile(`metrics on http://(\S+)/metrics`)
	listeningLine = regexp.MustCompile(`listening on (https?)://(\S+),`)
)

// startServer starts the built server on data and waits until it listens.
// The test's cleanup kills it if it still runs.
func startServer(t *testing.T, data string, args ...string) *server {
	t.Helper()
	return launch(t, "", append([]string{"-addr", "127.0.0.1:0", "-data", data}, args...)...)
}

// launch starts the built server with exactly args, in the working
// directory dir ("" for the test's), and waits until it listens.
func launch(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return launchEnv(t, dir, nil, args...)
}

// launchEnv is launch with env (KEY=value) added to the environment.
func launchEnv(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(serverBin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	s := &server{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s.out = bufio.NewReader(pipe)
	for {
		line, err := s.out.ReadString('\n')
		require.NoError(t, err, "the server stopped before listening: %s", s.stderr)
		s.lines = append(s.lines, line)
		if m := passwordLine.FindStringSubmatch(line); m != nil {
			s.password = m[1]
		}
		if m := metricsLine.FindStringSubmatch(line); m != nil {
			s.metrics = m[1]
		}
		if m := listeningLine.FindStringSubmatch(line); m != nil {
			s.addr, s.url = m[2], m[1]+"://"+m[2]
			return s
		}
	}
}

// printed is what the server printed up to "listening on".
func (s *server) printed() string { return strings.Join(s.lines, "") }

// drain discards the server's log, so that a chatty run never fills the
// pipe.
func (s *server) drain() { go func() { _, _ = io.Copy(io.Discard, s.out) }() }

// stop stops the server with SIGTERM and waits until it exits.
func (s *server) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(os.Interrupt))
	require.NoError(t, s.cmd.Wait(), "a graceful stop exits 0")
}

// runBinary runs the built server with args in dir, expecting it to exit
// within a few seconds, and returns its output and exit code.
func runBinary(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "the server was expected to exit: %s %s", out.String(), errOut.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errOut.String(), 0
}

// cleanEnv is the test's environment without LINTEL_* settings, so that
// the server under test uses the file store and no preset password.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LINTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

// login logs in through the panel API and returns the status and token.
func login(t *testing.T, addr, user, password string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + "/api/v1/login?username=" + user + "&password=" + md5hex(password))
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	token := regexp.MustCompile(`"token":"([0-9a-f]+)"`).FindStringSubmatch(string(body))
	if token == nil {
		return res.StatusCode, ""
	}
	return res.StatusCode, token[1]
}

// call sends a request with a Bearer token (or, for a user:password
// token, HTTP Basic) and returns the status and body.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if user, pass, basic := strings.Cut(token, ":"); basic {
		req.SetBasicAuth(user, pass)
	} else if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(answer)
}

// inProcess runs run with args (and no LINTEL_* environment but env) until
// the test ends, and returns the address it listens on and its output.
func inProcess(t *testing.T, env map[string]string, args ...string) (addr string, out *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out, func(k string) string { return env[k] }) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(out.String()); m != nil {
			return m[2], out
		}
		select {
		case err := <-done:
			done <- err // for the cleanup
			require.FailNow(t, "the server stopped before listening", "%v\n%s", err, out)
		case <-time.After(5 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "the server did not listen in time")
	}
}

// lockedBuffer is a bytes.Buffer that a server's goroutines may write
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// regexpFind is the first submatch of pattern in s; the test fails
// without one.
func regexpFind(t *testing.T, pattern, s string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	require.NotNil(t, m, "%s in %s", pattern, s)
	return m[1]
}
