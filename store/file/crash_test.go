//go:build unix

package file_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
)

// The crash test re-executes this test binary as a child (TestCrashChild
// with crashChildEnv set) that commits numbered transactions and prints
// each number once Update has returned. The parent kills it with SIGKILL at
// random moments, reopens the file and checks that every acknowledged
// transaction is there whole and that no transaction is there in part.

const (
	crashChildEnv = "LINTEL_STORE_FILE_CRASH_CHILD"
	keysPerTx     = 5
	crashRounds   = 20
	crashBudget   = 5 * time.Second  // keep killing this long after crashRounds
	crashLimit    = 25 * time.Second // fail rather than run longer
)

var crashBucket = []byte("crash")

func txKey(n, i int) []byte { return fmt.Appendf(nil, "tx/%09d/%d", n, i) }

// crashValue is the value of key i of transaction n: a few KiB, so that
// commits span several pages, and different in every transaction.
func crashValue(n, i int) []byte { return bytes.Repeat([]byte{byte(n*keysPerTx + i)}, 1024*(i+1)) }

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs only as the child of TestCrashSafety")
	}
	s, err := file.Open(path, &file.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	next := 0
	err = s.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(crashBucket, []byte("last"))
		if err == nil {
			next, err = strconv.Atoi(string(v))
			next++
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for n := next; ; n++ {
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateBucketIfNotExists(crashBucket); err != nil {
				return err
			}
			for i := range keysPerTx {
				if err := tx.Put(crashBucket, txKey(n, i), crashValue(n, i)); err != nil {
					return err
				}
			}
			return tx.Put(crashBucket, []byte("last"), []byte(strconv.Itoa(n)))
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(n) // the acknowledgement: written only after the commit returned
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	rng := rand.New(rand.NewPCG(2026, 11))
	acked := -1
	start := time.Now()
	rounds, early := 0, 0
	// At least crashRounds kills; more while the time budget lasts.
	for ; rounds < crashRounds || (rounds < 100 && time.Since(start) < crashBudget); rounds++ {
		if time.Since(start) > crashLimit {
			t.Fatalf("only %d rounds in %v", rounds, crashLimit)
		}
		cmd := childCommand("TestCrashChild", crashChildEnv, path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())

		// Mostly wait for the child's first acknowledgement and kill it at
		// a random moment a little later; one round in four, kill it at a
		// random moment of its start (while it opens the file or makes its
		// first commit).
		lines := bufio.NewScanner(stdout)
		if rng.IntN(4) == 0 {
			early++
		} else if lines.Scan() {
			acked = max(acked, atoiOrFail(t, lines.Text()))
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		for lines.Scan() {
			acked = max(acked, atoiOrFail(t, lines.Text()))
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "the child must die by the signal")
		require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal(), "child ended otherwise: %v", err)

		verifyCrashFile(t, path, acked)
	}
	t.Logf("%d SIGKILLs (%d early in the child's start) in %v, %d transactions acknowledged, all whole after every kill",
		rounds, early, time.Since(start).Round(time.Millisecond), acked+1)
}

func atoiOrFail(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "child printed %q", s)
	return n
}

// verifyCrashFile checks that transactions 0..last are whole, that last is
// at least the last acknowledged one, and that nothing after last exists.
func verifyCrashFile(t *testing.T, path string, acked int) {
	t.Helper()
	s, err := file.Open(path, nil)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.View(context.Background(), func(tx store.Tx) error {
		last := -1
		if v, err := tx.Get(crashBucket, []byte("last")); err == nil {
			last = atoiOrFail(t, string(v))
		}
		require.GreaterOrEqual(t, last, acked, "an acknowledged transaction is missing")
		for n := 0; n <= last; n++ {
			for i := range keysPerTx {
				v, err := tx.Get(crashBucket, txKey(n, i))
				require.NoError(t, err, "transaction %d is not whole: key %d", n, i)
				require.True(t, bytes.Equal(crashValue(n, i), v), "transaction %d, key %d: wrong value", n, i)
			}
		}
		count := 0
		err := tx.Scan(crashBucket, []byte("tx/"), func(k, v []byte) error { count++; return nil })
		if last < 0 && errors.Is(err, store.ErrBucketNotFound) {
			return nil
		}
		require.NoError(t, err)
		require.Equal(t, (last+1)*keysPerTx, count, "keys of an unacknowledged, partial transaction")
		return nil
	}))
}
