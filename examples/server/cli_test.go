package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFailedFirstStartKeepsThePassword: a first start whose port is taken
// fails before it makes the admin password, so the next start still
// shows one, and it works.
func TestFailedFirstStartKeepsThePassword(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	data := filepath.Join(t.TempDir(), "data")

	stdout, stderr, code := runBinary(t, "", "-addr", taken.Addr().String(), "-data", data)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "address already in use")
	assert.Contains(t, stderr, "choose another address with -addr")
	assert.NotContains(t, stdout, "password", "no password is shown, nor made")
	assert.NoDirExists(t, data, "nothing is written")

	s := startServer(t, data)
	s.drain()
	require.NotEmpty(t, s.password, "the next start makes and shows the password")
	assert.Contains(t, s.printed(), "new data folder "+data)
	status, _ := login(t, s.addr, "admin", s.password)
	assert.Equal(t, 200, status)
}

// TestCommandLine: -h is not an error, and a mistake on the command line
// exits 2 and says what is wrong, instead of being ignored.
func TestCommandLine(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // contained in stdout
		stderr string // contained in stderr
	}{
		{"help", []string{"-h"}, 0, "-admin-password-file file", ""},
		{"help long", []string{"--help"}, 0, "Usage: server [flags]", ""},
		{"a stray argument ends no flag parsing silently", []string{"extra", "-memory"}, 2, "", `unexpected argument "extra"`},
		{"a stray argument after the flags", []string{"-memory", "extra"}, 2, "", `unexpected argument "extra"`},
		{"unknown flag", []string{"-nonsense"}, 2, "", "flag provided but not defined: -nonsense"},
		{"zone", []string{"-memory", "-zone", "Mars/Olympus"}, 2, "", "-zone"},
		{"memory and postgres", []string{"-memory", "-postgres", "postgres://x"}, 2, "", "-memory and -postgres"},
		{"memory and data", []string{"-memory", "-data", "somewhere"}, 2, "", "-memory keeps nothing on disk"},
		{"certificate without key", []string{"-memory", "-tls-cert", "c.pem"}, 2, "", "-tls-cert and -tls-key go together"},
		{"self-signed and a certificate", []string{"-memory", "-tls-self-signed", "-tls-cert", "c", "-tls-key", "k"}, 2, "", "exclude each other"},
		{"password twice", []string{"-memory", "-admin-password", "a", "-admin-password-file", empty}, 2, "", "-admin-password and -admin-password-file"},
		{"empty password file", []string{"-memory", "-admin-password-file", empty}, 1, "", "has no password on its first line"},
		{"missing password file", []string{"-memory", "-manager-password-file", empty + ".not"}, 1, "", "-manager-password-file"},
		{"batch of none", []string{"-memory", "-max-batch", "0"}, 2, "", "-max-batch: 0 is below 1"},
		{"size", []string{"-memory", "-max-body", "16XB"}, 2, "", "-max-body"},
		{"model", []string{"-memory", "-model", "vario2"}, 2, "", `-model: "vario2" is none of accessunit, audiokit`},
		{"model twice", []string{"-memory", "-model", "uni", "-dir-model", "verso"}, 2, "", "-model and -dir-model"},
		{"panel", []string{"-memory", "-panel", "has space"}, 2, "", "-panel"},
		{"panel with a control byte", []string{"-memory", "-panel", "AV04\rSD"}, 2, "", "panel: invalid serial: byte 0x0d"},
		{"bad certificate", []string{"-memory", "-addr", "127.0.0.1:0", "-tls-cert", empty, "-tls-key", empty}, 1, "", "-tls-cert, -tls-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, "", tc.args...)
			assert.Equal(t, tc.code, code, "%s%s", stdout, stderr)
			assert.Contains(t, stdout, tc.stdout)
			assert.Contains(t, stderr, tc.stderr)
			if tc.code == 2 {
				assert.Contains(t, stderr, "server -h lists the flags")
			}
		})
	}
}

// TestSecondServerOnOneFolder: a second server on a folder that a running
// one holds says so, and exits.
func TestSecondServerOnOneFolder(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "-admin-password", "pw")
	s.drain()
	_, stderr, code := runBinary(t, "", "-addr", "127.0.0.1:0", "-data", data)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "another server holds the data folder "+data)
	assert.NotContains(t, stderr, "timeout", "bbolt's words are not the message")
}

// TestDataFolder: a relative -data is relative to the working directory,
// and the server prints its absolute path; the data outlives the server,
// and a password given once replaces the old one for good.
func TestDataFolder(t *testing.T) {
	wd := t.TempDir()
	pwFile := filepath.Join(wd, "admin.txt")
	require.NoError(t, os.WriteFile(pwFile, []byte("first one\n"), 0o600))
	s := launch(t, wd, "-addr", "127.0.0.1:0", "-data", "rel", "-admin-password-file", pwFile)
	abs, err := filepath.EvalSymlinks(wd)
	require.NoError(t, err)
	folder := regexpFind(t, `new data folder (\S+):`, s.printed())
	resolved, err := filepath.EvalSymlinks(folder)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(abs, "rel"), resolved, "the absolute path of -data")
	assert.True(t, filepath.IsAbs(regexpFind(t, `data in (\S+)\n`, s.printed())))
	assert.FileExists(t, filepath.Join(wd, "rel", "lintel.db"))
	assert.Empty(t, s.password, "a given password is not printed")
	status, token := login(t, s.addr, "admin", "first one")
	require.Equal(t, 200, status)
	status, _ = call(t, "POST", s.url+"/api/v1/access/users/link/update", token,
		`{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"Ada","auth_factors":["card"]}]}`)
	require.Equal(t, 200, status)
	s.drain()
	s.stop(t)

	// A new password given once is the password from then on.
	require.NoError(t, os.WriteFile(pwFile, []byte("second one\r\n"), 0o600))
	s = launch(t, wd, "-addr", "127.0.0.1:0", "-data", "rel", "-admin-password-file", pwFile)
	s.drain()
	s.stop(t)
	s = launch(t, wd, "-addr", "127.0.0.1:0", "-data", "rel")
	s.drain()
	assert.Empty(t, s.password)
	status, _ = login(t, s.addr, "admin", "first one")
	assert.Equal(t, 400, status, "the old password is gone")
	status, token = login(t, s.addr, "admin", "second one")
	require.Equal(t, 200, status, "the new one stays without the flag")
	status, _ = call(t, "GET", s.url+"/api/v1/access/users/link/91c615e3-1040-4815-8ecb-039a18b756b5", token, "")
	assert.Equal(t, 200, status, "the data outlived the server")
}

// TestPasswordSources: passwords come from files (flags or environment)
// as well as from the command line, and only the command line is warned
// about; a password never appears in the output.
func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	adminFile, managerFile := filepath.Join(dir, "admin"), filepath.Join(dir, "manager")
	require.NoError(t, os.WriteFile(adminFile, []byte("adm1n pass\nsecond line ignored\n"), 0o600))
	require.NoError(t, os.WriteFile(managerFile, []byte("re4der"), 0o600))
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		warn bool
	}{
		{"flags", nil, []string{"-admin-password-file", adminFile, "-manager-password-file", managerFile}, false},
		{"environment", []string{"LINTEL_ADMIN_PASSWORD_FILE=" + adminFile, "LINTEL_MANAGER_PASSWORD_FILE=" + managerFile}, nil, false},
		{"command line", nil, []string{"-admin-password", "adm1n pass", "-manager-password", "re4der"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := launchEnv(t, "", tc.env, append([]string{"-memory", "-addr", "127.0.0.1:0"}, tc.args...)...)
			s.drain()
			status, _ := login(t, s.addr, "admin", "adm1n pass")
			assert.Equal(t, 200, status, "admin")
			status, _ = login(t, s.addr, "manager", "re4der")
			assert.Equal(t, 200, status, "manager")
			assert.Equal(t, tc.warn, strings.Contains(s.printed(), "visible to every local user"))
			assert.NotContains(t, s.printed(), "adm1n")
			assert.NotContains(t, s.printed(), "re4der")
		})
	}
}
