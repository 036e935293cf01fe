package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverBin is the server built once for the tests that run it as a
// process.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lintel-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "lintel-server")
	build := exec.Command("go", "build", "-o", serverBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the server:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// server is the built server running as a process on a free loopback port.
type server struct {
	cmd      *exec.Cmd
	addr     string
	password string // printed on a first start without one
	out      *bufio.Reader
}

// startServer starts the built server on data and waits until it listens.
// The test's cleanup kills it if it still runs.
func startServer(t *testing.T, data string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(serverBin, append([]string{"-addr", "127.0.0.1:0", "-data", data}, args...)...)
	cmd.Env = cleanEnv()
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &server{cmd: cmd, out: bufio.NewReader(pipe)}
	for {
		line, err := s.out.ReadString('\n')
		require.NoError(t, err, "the server stopped before listening")
		if m := regexp.MustCompile(`password (\S+) \(shown once`).FindStringSubmatch(line); m != nil {
			s.password = m[1]
		}
		if m := regexp.MustCompile(`listening on http://(\S+),`).FindStringSubmatch(line); m != nil {
			s.addr = m[1]
			return s
		}
	}
}

// drain discards the server's log, so that a chatty run never fills the
// pipe.
func (s *server) drain() { go func() { _, _ = io.Copy(io.Discard, s.out) }() }

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

// TestREADMEWalkthrough runs the README's walk-through block with bash and
// curl against the built server and checks every response.
func TestREADMEWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "md5sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the README walk-through needs bash, curl and md5sum", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)<!-- walkthrough:start -->.*?```sh\n(.*?)```.*?<!-- walkthrough:end -->").FindSubmatch(readme)
	require.NotNil(t, block, "the README has a walk-through block")
	s := startServer(t, t.TempDir(), "-admin-password", "secret")
	s.drain()
	script := strings.ReplaceAll(string(block[1]), "127.0.0.1:8080", s.addr)
	// Each command's output on a line of its own, so the checks below can
	// tell them apart.
	script = strings.ReplaceAll(script, "\ncurl ", "\necho; curl ")

	run := exec.Command("bash", "-euo", "pipefail", "-c", script)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	require.NoError(t, run.Run(), out.String())
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if line != "" {
			got = append(got, line)
		}
	}
	uuid := `[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}`
	want := []string{
		`^\{"result":\[\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false\},` +
			`\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"bound_identifier_doesnt_exist","has_dublicates":false\}\]\}$`,
		`^\{"result":\[\{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"created"\}\]\}$`,
		`^\{"allow":true,"reason":"granted","link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","passes_left":-1\}$`,
		`^\{"result":\[\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"deleted"\}\]\}$`,
		`^\{"success":true,"result":\{"series":"\d+","users":\[\{"uuid":"` + uuid + `","timestamp":1\}\]\}\}$`,
		`^\{"success":true,"result":\{"series":"\d+","users":\[\{"uuid":"` + uuid + `","name":"Ada","timestamp":1\}\]\}\}$`,
	}
	require.Len(t, got, len(want), out.String())
	for i, w := range want {
		assert.Regexp(t, w, got[i], "command %d", i+1)
	}
}

// TestFirstStartAndGracefulStop: without a password the first start prints
// one, which works; a batch in flight when SIGTERM comes is finished and
// answered, and it and the account are there after a restart.
func TestFirstStartAndGracefulStop(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "-manager-password", "reader")
	require.NotEmpty(t, s.password, "the first start prints a password")
	status, token := login(t, s.addr, "admin", s.password)
	require.Equal(t, 200, status)
	status, _ = login(t, s.addr, "manager", "reader")
	require.Equal(t, 200, status, "-manager-password makes the manager account")

	var items []string
	for i := range 2000 {
		items = append(items, fmt.Sprintf(`{"link_id":"00000000-0000-4000-8000-%012d","name":"Resident %d","auth_factors":["card"]}`, i, i))
	}
	body := `{"list_items":[` + strings.Join(items, ",") + `]}`
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/v1/access/users/link/update HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", s.addr, token, len(body), body[:len(body)/2])
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the server is reading the body
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(300 * time.Millisecond) // it stops accepting, and waits for this request
	_, err = io.WriteString(conn, body[len(body)/2:])
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	answer, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, 200, res.StatusCode, "the request in flight is answered")
	assert.Equal(t, 2000, strings.Count(string(answer), `"extended_info":"created"`))
	rest, _ := io.ReadAll(s.out)
	require.NoError(t, s.cmd.Wait(), "a graceful stop exits 0")
	assert.Contains(t, string(rest), "lintel: stopped")

	password := s.password
	s = startServer(t, data)
	s.drain()
	assert.Empty(t, s.password, "the password is printed only once")
	status, token = login(t, s.addr, "admin", password)
	require.Equal(t, 200, status, "the account survived the restart")
	req, err := http.NewRequest("GET", "http://"+s.addr+"/api/v1/access/users/link/00000000-0000-4000-8000-000000001999", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode, "the last user of the batch is on disk")
}

func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	noEnv := func(string) string { return "" }
	assert.ErrorContains(t, run(context.Background(), []string{"-zone", "Mars/Olympus"}, &out, noEnv), "-zone")
	assert.Error(t, run(context.Background(), []string{"-nonsense"}, &out, noEnv))
	assert.Error(t, run(context.Background(), []string{"-memory", "-addr", "256.0.0.1:1"}, &out, noEnv))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lines := &lockedBuffer{}
	done := make(chan error, 1)
	env := map[string]string{"LINTEL_ADMIN_PASSWORD": "from-env", "LINTEL_MANAGER_PASSWORD": "reader"}
	go func() {
		done <- run(ctx, []string{"-memory", "-addr", "127.0.0.1:0"}, lines, func(k string) string { return env[k] })
	}()
	var addr []string
	require.Eventually(t, func() bool {
		addr = regexp.MustCompile(`listening on http://(\S+), data in memory`).FindStringSubmatch(lines.String())
		return addr != nil
	}, 30*time.Second, 10*time.Millisecond)
	status, _ := login(t, addr[1], "admin", "from-env")
	assert.Equal(t, 200, status, "LINTEL_ADMIN_PASSWORD")
	status, _ = login(t, addr[1], "manager", "reader")
	assert.Equal(t, 200, status, "LINTEL_MANAGER_PASSWORD")
	cancel() // stop it as SIGTERM would
	assert.NoError(t, <-done, "runs in memory and stops with its context")
	all := lines.String()
	assert.Contains(t, all, "lintel: stopped")
	assert.NotContains(t, all, "shown once", "a password from the environment is not printed")
	assert.NotContains(t, all, "from-env")
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

// TestPostgresFlag starts the server on the PostgreSQL database of
// LINTEL_POSTGRES_URL (skipped without one, as store/postgres's tests are).
func TestPostgresFlag(t *testing.T) {
	url := os.Getenv("LINTEL_POSTGRES_URL")
	if url == "" {
		t.Skip("set LINTEL_POSTGRES_URL to run the server on PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lines := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-admin-password", "pw"}, lines, func(k string) string {
			if k == "LINTEL_POSTGRES_URL" {
				return url
			}
			return ""
		})
	}()
	require.Eventually(t, func() bool { return strings.Contains(lines.String(), "listening on") }, 30*time.Second, 10*time.Millisecond)
	assert.Contains(t, lines.String(), "data in PostgreSQL")
	cancel()
	assert.NoError(t, <-done)
}
