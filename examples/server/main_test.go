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
		// One user, two results: the user's own, then a warning (success
		// true) for the card it names that does not exist yet.
		`^\{"result":\[\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false\},` +
			`\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"bound_identifier_doesnt_exist","has_dublicates":false\}\]\}$`,
		`^\{"result":\[\{"link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","success":true,"extended_info":"created"\}\]\}$`,
		`^\{"allow":true,"reason":"granted","link_id":"eae44848-5e81-4861-8e63-861d9bd4ebb3","passes_left":-1(,"dry_run":false)?\}$`,
		`^\{"result":\[\{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"deleted"\}\]\}$`,
		`^\{"success":true,"result":\{"series":"\d+","users":\[\{"uuid":"` + uuid + `","timestamp":1\}\]\}\}$`,
		`^\{"success":true,"result":\{"series":"\d+","users":\[\{"uuid":"` + uuid + `","name":"Ada","timestamp":1\}\]\}\}$`,
		`^\{"success":true,"result":\{"series":"\d+","users":\[\{"uuid":"` + uuid + `","timestamp":2\}\]\}\}$`,
		`^\{"success":true,"result":\{"variant":"Lintel Virtual Intercom",.*"firmwarePackage":"verso"\}\}$`,
		`^\{"success":true,"result":\{"events":\[.*"event":"CardEntered","params":\{"card":"\*{7}C-3D","direction":"in","valid":true\}\}.*\]\}\}$`,
		`^\{"list_items":\[\{"id":\d+,"date":\d+,"name":"directory_changed".*\],"list_option":\{.*\}\}$`,
	}
	require.Len(t, got, len(want), out.String())
	for i, w := range want {
		assert.Regexp(t, w, got[i], "command %d", i+1)
	}
}

// TestFirstStartAndGracefulStop: without a password the first start prints
// one, which works; a batch in flight when SIGTERM comes is finished and
// answered, and it and the account are there after a restart, which
// prints no password but says how to replace a lost one.
func TestFirstStartAndGracefulStop(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "-manager-password", "reader")
	require.NotEmpty(t, s.password, "the first start prints a password")
	assert.Contains(t, s.printed(), "-admin-password-file", "and how to replace it")
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
	assert.Contains(t, s.printed(), "to replace a lost one, start once with -admin-password-file FILE")
	assert.NotContains(t, s.printed(), "new data folder")
	status, token = login(t, s.addr, "admin", password)
	require.Equal(t, 200, status, "the account survived the restart")
	status, _ = call(t, "GET", s.url+"/api/v1/access/users/link/00000000-0000-4000-8000-000000001999", token, "")
	assert.Equal(t, 200, status, "the last user of the batch is on disk")
}

func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	noEnv := func(string) string { return "" }
	assert.ErrorContains(t, run(context.Background(), []string{"-zone", "Mars/Olympus"}, &out, noEnv), "-zone")
	assert.Error(t, run(context.Background(), []string{"-nonsense"}, &out, noEnv))
	assert.Error(t, run(context.Background(), []string{"-memory", "-addr", "256.0.0.1:1"}, &out, noEnv))

	env := map[string]string{"LINTEL_ADMIN_PASSWORD": "from-env", "LINTEL_MANAGER_PASSWORD": "reader"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lines := &lockedBuffer{}
	done := make(chan error, 1)
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
	assert.NotContains(t, all, "visible to every local user", "only a password on the command line is warned about")
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
