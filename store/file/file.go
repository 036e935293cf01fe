// Package file is the durable backend of package store: one bbolt file
// (go.etcd.io/bbolt) holding every bucket as a bbolt top-level bucket,
// behind the portable store.DB.
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
// The context is checked (by store.DB) before a transaction begins, again
// once an Update holds the writer lock, and before the commit; a commit that
// has started (its write and fsync) is not interrupted.
//
// The file is locked while a Store has it open. A second Open of the same
// file, from this or another process, waits Options.Timeout for the lock and
// then fails with ErrLocked instead of hanging.
//
// bbolt's errors map to the sentinels of package store where one exists;
// the others are wrapped with the operation and the bucket (a
// *driver.OpError), for example bbolt's ErrKeyTooLarge for a key over
// bbolt.MaxKeySize (32 KiB) or ErrValueTooLarge.
//
// The store's ReadCounter is a View and DecrementIf an Update (one fsync).
//
// Nested transactions (see package store): an Update inside an Update
// deadlocks; a View or an Update inside a View can deadlock when bbolt must
// grow its memory map meanwhile.
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
	"github.com/lintelhq/lintel/store/driver"
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

// Store is a store.DB in one bbolt file.
type Store struct {
	*store.DB
	path string
}

// Open opens the bbolt file at path, creating it if it does not exist.
func Open(path string, opts *Options) (*Store, error) {
	d, err := OpenDriver(path, opts)
	if err != nil {
		return nil, err
	}
	return &Store{DB: store.Open(d, nil), path: path}, nil
}

// OpenDriver opens the bbolt file at path as Open does, and returns its
// driver, for store.Open (with options, or wrapped by another driver).
func OpenDriver(path string, opts *Options) (driver.Driver, error) {
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
	return &boltDriver{db: db, log: o.Logger}, nil
}

// Path returns the path of the file.
func (s *Store) Path() string { return s.path }

// boltDriver is the driver: each transaction is a bbolt transaction.
type boltDriver struct {
	db  *bolt.DB
	log *slog.Logger
}

func (d *boltDriver) Begin(_ context.Context, opts driver.TxOptions) (driver.Tx, error) {
	btx, err := d.db.Begin(opts.Writable)
	if err != nil {
		return nil, driver.Wrap("file", "begin", nil, err)
	}
	return (*tx)(btx), nil
}

// Close closes the file.
func (d *boltDriver) Close() error {
	d.log.Debug("store closed", "path", d.db.Path())
	return d.db.Close()
}

// tx is a bbolt transaction with the methods of a driver.Tx (a conversion
// of the pointer, not another allocation).
type tx bolt.Tx

// wrap adds the operation and the bucket to an error of bbolt; nil stays
// nil.
func wrap(op string, bucket []byte, err error) error { return driver.Wrap("file", op, bucket, err) }

func (t *tx) bucket(op string, name []byte) (*bolt.Bucket, error) {
	b := (*bolt.Tx)(t).Bucket(name)
	if b == nil {
		return nil, wrap(op, name, driver.ErrBucketNotFound)
	}
	return b, nil
}

func (t *tx) CreateBucket(name []byte) error {
	_, err := (*bolt.Tx)(t).CreateBucketIfNotExists(name)
	return wrap("create bucket", name, err)
}

func (t *tx) Get(bucket, key []byte) ([]byte, bool, error) {
	b, err := t.bucket("get", bucket)
	if err != nil {
		return nil, false, err
	}
	// A cursor tells a missing key from an empty value, which Get does not.
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) || v == nil {
		return nil, false, nil
	}
	return v, true, nil
}

func (t *tx) Put(bucket, key, value []byte) error {
	b, err := t.bucket("put", bucket)
	if err != nil {
		return err
	}
	// bbolt keeps the slices until commit: hand it copies.
	return wrap("put", bucket, b.Put(driver.Copy(key, value)))
}

func (t *tx) Delete(bucket, key []byte) error {
	b, err := t.bucket("delete", bucket)
	if err != nil {
		return err
	}
	return wrap("delete", bucket, b.Delete(key))
}

func (t *tx) Range(bucket, start, end []byte, fn func(key, value []byte) error) error {
	b, err := t.bucket("range", bucket)
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
	for ; k != nil && (end == nil || bytes.Compare(k, end) < 0); k, v = c.Next() {
		if v == nil {
			continue // a nested bucket; this package never makes one
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Commit writes the transaction and fsyncs the file; bbolt rolls back a
// commit that fails.
func (t *tx) Commit() error { return wrap("commit", nil, (*bolt.Tx)(t).Commit()) }

func (t *tx) Rollback() error { return (*bolt.Tx)(t).Rollback() }
