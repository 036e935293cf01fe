// Package file is the durable backend of package store: one bbolt file
// (go.etcd.io/bbolt) holding every bucket as a bbolt top-level bucket.
//
// Each Update is one bbolt read-write transaction and costs one fsync of the
// data file at commit (bbolt's default; this package never turns it off), so
// a transaction whose Update returned nil survives a crash of the process or
// the machine, and one that did not return is either wholly there or wholly
// absent. The package's crash test kills a writing child process with
// SIGKILL many times and checks exactly that; it cannot cut the power, so
// for the machine it relies on fdatasync reaching the disk. Views are bbolt
// read-only transactions: they run concurrently with each other and with
// the one writer, and see whole commits only. Keep Views short: while one
// is open, the pages it reads cannot be reused (the file grows), and an
// Update that must enlarge the memory map waits for it.
//
// The context is checked before a transaction begins, again once an Update
// holds the writer lock, and before the commit; a commit that has started
// (its write and fsync) is not interrupted.
//
// The file is locked while a Store has it open. A second Open of the same
// file, from this or another process, waits Options.Timeout for the lock and
// then fails with ErrLocked instead of hanging.
//
// bbolt's errors map to the sentinels of package store where one exists;
// the others are wrapped with the operation and the bucket, for example
// bbolt's ErrKeyTooLarge for a key over bbolt.MaxKeySize (32 KiB) or
// ErrValueTooLarge.
//
// Throughput on a two-core test machine: one commit of 10,000 puts in
// ascending key order takes about 20 ms; in random order about 80 to 150 ms
// (growing with the bucket), because random keys spread the writes over
// many 4 KiB pages, each rewritten whole at the commit. Bulk imports should
// write in key order where they can.
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/lintelhq/lintel/store"
)

// ErrLocked is returned by Open when another Store, in this process or
// another, holds the file. The error also wraps bbolt's ErrTimeout.
var ErrLocked = errors.New("file: database file is locked by another open store")

// DefaultTimeout is how long Open waits for the file lock by default.
const DefaultTimeout = time.Second

// Options configure Open. The zero value, or nil, is valid.
type Options struct {
	// Timeout is how long Open waits for the file lock; 0 means
	// DefaultTimeout. A negative value means do not wait at all.
	Timeout time.Duration
	// Mode is the permission of a newly created file; 0 means 0600.
	Mode os.FileMode
	// Logger receives one line per Open and Close; nil discards them.
	Logger *slog.Logger
}

// Store is a store.Store in one bbolt file.
type Store struct {
	db   *bolt.DB
	log  *slog.Logger
	gate store.Gate // Close waits for transactions in progress
}

var _ store.Store = (*Store)(nil)

// Open opens the bbolt file at path, creating it if it does not exist.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	case o.Timeout < 0:
		o.Timeout = time.Nanosecond // bbolt: 0 would mean wait for ever
	}
	if o.Mode == 0 {
		o.Mode = 0o600
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, o.Mode, &bolt.Options{
		Timeout:      o.Timeout,
		FreelistType: bolt.FreelistMapType, // faster frees in large files
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("file: open %s: waited %v: %w (bbolt: %w)", path, o.Timeout, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("file: open %s: %w", path, err)
	}
	o.Logger.Debug("store opened", "path", path)
	return &Store{db: db, log: o.Logger}, nil
}

// Path returns the path of the file.
func (s *Store) Path() string { return s.db.Path() }

// View runs fn in a read-only bbolt transaction.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	btx, err := s.db.Begin(false)
	if err != nil {
		return fmt.Errorf("file: begin: %w", err)
	}
	t := &tx{btx: btx}
	defer func() {
		t.done = true
		_ = btx.Rollback()
	}()
	return fn(t)
}

// Update runs fn in the read-write bbolt transaction and commits it, with
// one fsync, when fn returns nil and ctx is not done.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	btx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("file: begin: %w", err)
	}
	t := &tx{btx: btx, writable: true}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			_ = btx.Rollback() // also on a panic in fn, which then goes on
		}
	}()
	if err := ctx.Err(); err != nil { // done while waiting for the writer
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file: update rolled back: %w", err)
	}
	t.done = true
	committed = true
	if err := btx.Commit(); err != nil {
		return fmt.Errorf("file: commit: %w", err)
	}
	return nil
}

// Close waits for transactions in progress, then closes the file. Later
// calls return store.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	s.log.Debug("store closed", "path", s.db.Path())
	return s.db.Close()
}

type tx struct {
	btx      *bolt.Tx
	writable bool
	done     bool
}

func (t *tx) check(write bool) error {
	if t.done {
		return store.ErrTxDone
	}
	if write && !t.writable {
		return store.ErrReadOnly
	}
	return nil
}

func (t *tx) bucket(name []byte, write bool) (*bolt.Bucket, error) {
	if err := t.check(write); err != nil {
		return nil, err
	}
	if len(name) == 0 {
		return nil, store.ErrInvalidName
	}
	b := t.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("file: bucket %q: %w", name, store.ErrBucketNotFound)
	}
	return b, nil
}

func (t *tx) Writable() bool { return t.writable }

func (t *tx) CreateBucket(name []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if len(name) == 0 {
		return store.ErrInvalidName
	}
	_, err := t.btx.CreateBucket(name)
	if errors.Is(err, bolterrors.ErrBucketExists) {
		return fmt.Errorf("file: bucket %q: %w", name, store.ErrBucketExists)
	}
	return wrap("create bucket", name, err)
}

// wrap adds the operation and bucket to an error of bbolt that has no
// sentinel in package store (a key or value over bbolt's size limits, a
// full disk); nil stays nil.
func wrap(op string, bucket []byte, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("file: %s in bucket %q: %w", op, bucket, err)
}

func (t *tx) CreateBucketIfNotExists(name []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if len(name) == 0 {
		return store.ErrInvalidName
	}
	_, err := t.btx.CreateBucketIfNotExists(name)
	return wrap("create bucket", name, err)
}

func (t *tx) DeleteBucket(name []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if len(name) == 0 {
		return store.ErrInvalidName
	}
	err := t.btx.DeleteBucket(name)
	if errors.Is(err, bolterrors.ErrBucketNotFound) {
		return fmt.Errorf("file: bucket %q: %w", name, store.ErrBucketNotFound)
	}
	return wrap("delete bucket", name, err)
}

func (t *tx) BucketExists(name []byte) bool {
	return !t.done && len(name) > 0 && t.btx.Bucket(name) != nil
}

func (t *tx) Get(bucket, key []byte) ([]byte, error) {
	b, err := t.bucket(bucket, false)
	if err != nil {
		return nil, err
	}
	// A cursor tells a missing key from an empty value, which Get does not.
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) || v == nil {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (t *tx) Put(bucket, key, value []byte) error {
	b, err := t.bucket(bucket, true)
	if err != nil {
		return err
	}
	if len(key) == 0 {
		return store.ErrInvalidName
	}
	// bbolt keeps the slices until commit: hand it copies, in one allocation.
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	return wrap("put", bucket, b.Put(buf[:len(key):len(key)], buf[len(key):]))
}

func (t *tx) Delete(bucket, key []byte) error {
	b, err := t.bucket(bucket, true)
	if err != nil {
		return err
	}
	if len(key) == 0 {
		return store.ErrInvalidName
	}
	return wrap("delete", bucket, b.Delete(key))
}

func (t *tx) Scan(bucket, prefix []byte, fn func(key, value []byte) error) error {
	return t.ScanRange(bucket, prefix, store.PrefixEnd(prefix), fn)
}

func (t *tx) ScanRange(bucket, start, end []byte, fn func(key, value []byte) error) error {
	b, err := t.bucket(bucket, false)
	if err != nil {
		return err
	}
	c := b.Cursor()
	var k, v []byte
	if len(start) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(start)
	}
	for ; k != nil; k, v = c.Next() {
		if end != nil && bytes.Compare(k, end) >= 0 {
			return nil
		}
		if v == nil {
			continue // a nested bucket; this package never makes one
		}
		if err := fn(k, v); err != nil {
			if errors.Is(err, store.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}
