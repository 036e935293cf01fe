package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startServer builds the server binary, starts it on a free loopback port
// with a fresh data folder and returns its address; the test's cleanup
// stops it.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lintel-server")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir()}, args...)...)
	cmd.Env = cleanEnv()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	stdout := bufio.NewReader(out)
	listening := regexp.MustCompile(`listening on http://(\S+),`)
	for {
		line, err := stdout.ReadString('\n')
		require.NoError(t, err, "the server stopped before listening")
		if m := listening.FindStringSubmatch(line); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stdout) }() // its request log must never fill the pipe
			return m[1]
		}
	}
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

// TestREADMEWalkthrough runs the README's curl walk-through against the
// built server.
func TestREADMEWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; the walk-through needs it")
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)<!-- walkthrough:start -->.*?```sh\n(.*?)```.*?<!-- walkthrough:end -->").FindSubmatch(readme)
	require.NotNil(t, block, "the README has a walk-through block")
	addr := startServer(t, "-admin-password", "secret")
	script := strings.ReplaceAll(string(block[1]), "127.0.0.1:8080", addr)
	// Each command's output on its own line, so the checks below can see them.
	script = strings.ReplaceAll(script, "\ncurl ", "\necho; curl ")

	run := exec.Command("bash", "-euo", "pipefail", "-c", script)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	require.NoError(t, run.Run(), out.String())
	got := out.String()
	for _, want := range []string{
		`{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false},{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"bound_identifier_doesnt_exist","has_dublicates":false}]}`,
		`{"result":[{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"created"}]}`,
		`{"allow":true,"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","passes_left":-1,"reason":"granted"}`,
		`{"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"deleted"}]}`,
	} {
		assert.Contains(t, got, want)
	}
}

// TestFirstStartPasswordAndGracefulShutdown: without a password the first
// start prints one, which works; SIGTERM stops the server cleanly and the
// data survives a restart.
func TestFirstStartPasswordAndGracefulShutdown(t *testing.T) {
	data := t.TempDir()
	bin := filepath.Join(t.TempDir(), "lintel-server")
	build := exec.Command("go", "build", "-o", bin, ".")
	require.NoError(t, build.Run())
	start := func() (*exec.Cmd, *bufio.Reader, string) {
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-data", data)
		cmd.Env = cleanEnv()
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		r := bufio.NewReader(out)
		var password string
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if m := regexp.MustCompile(`password (\S+) \(shown once`).FindStringSubmatch(line); m != nil {
				password = m[1]
			}
			if m := regexp.MustCompile(`listening on http://(\S+),`).FindStringSubmatch(line); m != nil {
				return cmd, r, m[1] + " " + password
			}
		}
	}
	cmd, out, info := start()
	addr, password, _ := strings.Cut(info, " ")
	require.NotEmpty(t, password, "the first start prints a password")
	res, err := http.Get("http://" + addr + "/api/v1/login?username=admin&password=" + md5hex(password))
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode)
	res.Body.Close()

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	rest, _ := io.ReadAll(out)
	require.NoError(t, cmd.Wait(), "a graceful stop exits 0")
	assert.Contains(t, string(rest), "lintel: stopped")

	cmd, _, info = start()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr, again, _ := strings.Cut(info, " ")
	assert.Empty(t, again, "the password is printed only once")
	res, err = http.Get("http://" + addr + "/api/v1/login?username=admin&password=" + md5hex(password))
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode, "the account survived the restart")
	res.Body.Close()
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-zone", "Mars/Olympus"}, &out, func(string) string { return "" })
	assert.ErrorContains(t, err, "-zone")
	err = run(context.Background(), []string{"-nonsense"}, &out, func(string) string { return "" })
	assert.Error(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-memory", "-addr", "127.0.0.1:0"}, pw, func(k string) string {
			if k == "LINTEL_ADMIN_PASSWORD" {
				return "from-env"
			}
			return ""
		})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.Contains(lines.Text(), "listening on") {
			cancel() // stop it as SIGTERM would
		}
	}
	assert.NoError(t, <-done, "runs in memory and stops with its context")
	all := strings.Join(seen, "\n")
	assert.Contains(t, all, "lintel: stopped")
	assert.NotContains(t, all, "shown once", "a password from the environment is not printed")
}

// TestPostgresFlag starts the server on the PostgreSQL database of
// LINTEL_POSTGRES_URL (skipped without one, as store/postgres's tests are).
func TestPostgresFlag(t *testing.T) {
	url := os.Getenv("LINTEL_POSTGRES_URL")
	if url == "" {
		t.Skip("set LINTEL_POSTGRES_URL to run the server on PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-admin-password", "pw"}, pw, func(k string) string {
			if k == "LINTEL_POSTGRES_URL" {
				return url
			}
			return ""
		})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "listening on") {
			assert.Contains(t, lines.Text(), "data in PostgreSQL")
			cancel()
		}
	}
	assert.NoError(t, <-done)
}
