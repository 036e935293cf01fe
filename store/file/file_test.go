package file_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) driver.Driver {
		d, err := file.OpenDriver(filepath.Join(t.TempDir(), "lintel.db"), nil)
		require.NoError(t, err)
		return d
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) driver.Driver {
		d, err := file.OpenDriver(filepath.Join(b.TempDir(), "lintel.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		return d
	})
}

func TestSecondOpenFailsWithErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lintel.db")
	first, err := file.Open(path, nil)
	require.NoError(t, err)
	defer first.Close()

	start := time.Now()
	_, err = file.Open(path, &file.Options{Timeout: 100 * time.Millisecond})
	require.ErrorIs(t, err, file.ErrLocked)
	require.ErrorIs(t, err, bolterrors.ErrTimeout)
	assert.Less(t, time.Since(start), 5*time.Second, "Open must give up after its timeout")
	assert.Contains(t, err.Error(), path)

	// Once the first one closes, the file opens again with its data.
	require.NoError(t, first.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists([]byte("b")); err != nil {
			return err
		}
		return tx.Put([]byte("b"), []byte("k"), []byte("v"))
	}))
	require.NoError(t, first.Close())
	second, err := file.Open(path, &file.Options{Timeout: -1})
	require.NoError(t, err)
	defer second.Close()
	assert.Equal(t, path, second.Path())
	require.NoError(t, second.View(context.Background(), func(tx store.Tx) error {
		v, err := tx.Get([]byte("b"), []byte("k"))
		assert.Equal(t, "v", string(v))
		return err
	}))
}

// childCommand re-executes this test binary to run only the test named, with
// env set to value. Under -race the child skips the race detector's
// one-second pause at exit.
func childCommand(test, env, value string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+value, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	return cmd
}

const lockChildEnv = "LINTEL_STORE_FILE_LOCK_CHILD"

// TestLockChild is run by TestSecondProcessGetsErrLocked in a child process;
// it does nothing in a normal run.
func TestLockChild(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("runs only as the child of TestSecondProcessGetsErrLocked")
	}
	_, err := file.Open(path, &file.Options{Timeout: 100 * time.Millisecond})
	require.ErrorIs(t, err, file.ErrLocked)
	fmt.Println("child: locked out")
}

func TestSecondProcessGetsErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lintel.db")
	s, err := file.Open(path, nil)
	require.NoError(t, err)
	defer s.Close()
	out, err := childCommand("TestLockChild", lockChildEnv, path).CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	assert.Contains(t, string(out), "child: locked out")
}

func TestTooLargeKeyIsAnErrorAndRollsBack(t *testing.T) {
	s, err := file.Open(filepath.Join(t.TempDir(), "lintel.db"), nil)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateBucketIfNotExists([]byte("b")); err != nil {
			return err
		}
		return tx.Put([]byte("b"), make([]byte, bolt.MaxKeySize+1), nil)
	})
	require.ErrorIs(t, err, bolterrors.ErrKeyTooLarge)
	assert.Equal(t, `file: put in bucket "b": key too large`, err.Error())
	var opErr *driver.OpError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, "put", opErr.Op)
	require.NoError(t, s.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get([]byte("b"), []byte("k"))
		assert.ErrorIs(t, err, store.ErrBucketNotFound, "the failed Update is rolled back")
		return nil
	}))
}

func TestOpenNotADatabase(t *testing.T) {
	_, err := file.Open(t.TempDir(), nil) // a directory
	require.Error(t, err)
}
