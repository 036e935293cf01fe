// Package postgres is the PostgreSQL backend of package store, for several
// Lintel servers that share one database (github.com/jackc/pgx/v5).
//
// Schema. Everything lives in one PostgreSQL schema (Options.Schema,
// default "lintel"): buckets(name bytea primary key), kv(bucket bytea
// references buckets on delete cascade, key bytea, value bytea, primary
// key (bucket, key)) and schema_version(version int). Open creates and
// migrates them itself, under a transaction-scoped advisory lock, so
// servers starting together do not race. Prefix and range scans are
// "key >= start and key < end order by key" on the primary key index, read
// in pages so that a large bucket never sits in memory whole.
//
// Transactions. Update runs at SERIALIZABLE isolation and retries
// serialization failures and deadlocks (SQLSTATE 40001, 40P01) up to
// Options.MaxRetries times with jittered exponential backoff: the function
// passed to Update may therefore run more than once, and must not have
// effects outside its Tx (access and directory rebuild their results
// inside it). View runs READ ONLY at REPEATABLE READ: one snapshot, whole
// commits only. Writes are buffered in the transaction and sent in one
// round trip before the next read and at commit, which keeps a commit of
// 10,000 puts to a few statements.
package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lintelhq/lintel/store"
)

// Options configure Open and New. The zero value, or nil, is valid.
type Options struct {
	// Schema is the PostgreSQL schema of the tables; default "lintel".
	Schema string
	// MaxRetries bounds the retries of an Update that loses a
	// serialization conflict; default 10.
	MaxRetries int
	// Logger receives retries and migrations; nil discards.
	Logger *slog.Logger
}

// ErrTooManyRetries wraps the last serialization failure of an Update
// that kept conflicting.
var ErrTooManyRetries = errors.New("postgres: update kept conflicting with others")

// scanPage is how many rows a scan reads at a time.
const scanPage = 1000

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	opts    Options
	q       queries
	gate    store.Gate // Close waits for transactions in progress
}

var _ store.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at url (a libpq URL or DSN), prepares the
// schema and returns the store, which owns its pool.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New uses a pool the caller owns (and closes).
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Schema = orDefault(o.Schema, "lintel")
	if !schemaName.MatchString(o.Schema) {
		return nil, fmt.Errorf("postgres: schema name %q: lower-case letters, digits and _ only", o.Schema)
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, opts: o, q: newQueries(o.Schema)}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// migrations are applied in order; schema_version records how many ran.
func (s *Store) migrations() []string {
	sc := s.opts.Schema
	return []string{
		`CREATE TABLE ` + sc + `.buckets (name bytea PRIMARY KEY)`,
		`CREATE TABLE ` + sc + `.kv (
			bucket bytea NOT NULL REFERENCES ` + sc + `.buckets(name) ON DELETE CASCADE,
			key bytea NOT NULL,
			value bytea NOT NULL,
			PRIMARY KEY (bucket, key))`,
	}
}

func (s *Store) migrate(ctx context.Context) error {
	sc := s.opts.Schema
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit, a no-op
	steps := []string{
		`SELECT pg_advisory_xact_lock(hashtext('lintel-migrate-' || $1))`,
		`CREATE SCHEMA IF NOT EXISTS ` + sc,
		`CREATE TABLE IF NOT EXISTS ` + sc + `.schema_version (version int NOT NULL)`,
	}
	for i, q := range steps {
		var args []any
		if i == 0 {
			args = []any{sc}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("postgres: migrating: %w", err)
		}
	}
	var version int
	err = tx.QueryRow(ctx, `SELECT version FROM `+sc+`.schema_version`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO `+sc+`.schema_version VALUES (0)`); err != nil {
			return fmt.Errorf("postgres: migrating: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	all := s.migrations()
	if version > len(all) {
		return fmt.Errorf("postgres: schema %s is at version %d, newer than this program's %d", sc, version, len(all))
	}
	for v := version; v < len(all); v++ {
		if _, err := tx.Exec(ctx, all[v]); err != nil {
			return fmt.Errorf("postgres: migration %d: %w", v+1, err)
		}
		s.opts.Logger.Info("schema migrated", "schema", sc, "version", v+1)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+sc+`.schema_version SET version = $1`, len(all)); err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	return tx.Commit(ctx)
}

// DropSchema removes the store's schema and everything in it; tests use it
// to clean up.
func (s *Store) DropSchema(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+s.opts.Schema+` CASCADE`)
	return err
}

// queries are the statements, with the schema filled in.
type queries struct {
	createBucket, bucketExists, deleteBucket, get, upsert, deleteKeys, scan string
}

func newQueries(sc string) queries {
	return queries{
		createBucket: `INSERT INTO ` + sc + `.buckets (name) VALUES ($1) ON CONFLICT DO NOTHING`,
		bucketExists: `SELECT EXISTS (SELECT 1 FROM ` + sc + `.buckets WHERE name = $1)`,
		deleteBucket: `DELETE FROM ` + sc + `.buckets WHERE name = $1`,
		get:          `SELECT value FROM ` + sc + `.kv WHERE bucket = $1 AND key = $2`,
		upsert: `INSERT INTO ` + sc + `.kv (bucket, key, value) SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS t(k, v)
			ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`,
		deleteKeys: `DELETE FROM ` + sc + `.kv WHERE bucket = $1 AND key = ANY($2::bytea[])`,
		scan: `SELECT key, value FROM ` + sc + `.kv WHERE bucket = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3)
			ORDER BY key LIMIT ` + fmt.Sprint(scanPage),
	}
}

// View runs fn in a read-only REPEATABLE READ transaction.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{ctx: ctx, ptx: ptx, q: &s.q}
	defer func() {
		t.done = true
		_ = ptx.Rollback(context.WithoutCancel(ctx))
	}()
	return fn(t)
}

// Update runs fn in a SERIALIZABLE transaction, retrying conflicts.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := s.gate.Enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := s.updateOnce(ctx, fn)
		if !retryable(err) {
			return err
		}
		if attempt == s.opts.MaxRetries {
			return fmt.Errorf("%w: %d retries: %w", ErrTooManyRetries, attempt, err)
		}
		s.opts.Logger.Debug("update retried after a conflict", "attempt", attempt+1, "err", err)
		sleep := backoff/2 + rand.N(backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		backoff = min(backoff*2, 100*time.Millisecond)
	}
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

func (s *Store) updateOnce(ctx context.Context, fn func(store.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	t := &tx{ctx: ctx, ptx: ptx, q: &s.q, writable: true}
	committed := false
	defer func() {
		t.done = true
		if !committed {
			_ = ptx.Rollback(context.WithoutCancel(ctx)) // also on a panic in fn
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: update rolled back: %w", err)
	}
	t.done, committed = true, true
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// Close waits for transactions in progress and closes the pool if the
// store opened it. Later calls return store.ErrClosed.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// tx buffers writes per bucket (the last write of a key wins) and sends
// them before any read and at commit.
type tx struct {
	ctx      context.Context
	ptx      pgx.Tx
	q        *queries
	writable bool
	done     bool
	buckets  map[string]bool               // known to exist (true) or not (false) in this tx
	pending  map[string]map[string]*[]byte // bucket -> key -> value, nil for a delete
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

func (t *tx) Writable() bool { return t.writable }

// bucket reports whether a bucket exists, asking the database once per tx.
func (t *tx) bucket(name []byte) (bool, error) {
	if len(name) == 0 {
		return false, store.ErrInvalidName
	}
	if ok, known := t.buckets[string(name)]; known {
		return ok, nil
	}
	var ok bool
	if err := t.ptx.QueryRow(t.ctx, t.q.bucketExists, name).Scan(&ok); err != nil {
		return false, err
	}
	t.remember(name, ok)
	return ok, nil
}

func (t *tx) remember(name []byte, exists bool) {
	if t.buckets == nil {
		t.buckets = map[string]bool{}
	}
	t.buckets[string(name)] = exists
}

func (t *tx) needBucket(name []byte, write bool) error {
	if err := t.check(write); err != nil {
		return err
	}
	ok, err := t.bucket(name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("postgres: bucket %q: %w", name, store.ErrBucketNotFound)
	}
	return nil
}

func (t *tx) CreateBucket(name []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if len(name) == 0 {
		return store.ErrInvalidName
	}
	if err := t.flush(); err != nil {
		return err
	}
	tag, err := t.ptx.Exec(t.ctx, t.q.createBucket, name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: bucket %q: %w", name, store.ErrBucketExists)
	}
	t.remember(name, true)
	return nil
}

func (t *tx) CreateBucketIfNotExists(name []byte) error {
	if err := t.CreateBucket(name); err != nil && !errors.Is(err, store.ErrBucketExists) {
		return err
	}
	return nil
}

func (t *tx) DeleteBucket(name []byte) error {
	if err := t.needBucket(name, true); err != nil {
		return err
	}
	delete(t.pending, string(name))
	if _, err := t.ptx.Exec(t.ctx, t.q.deleteBucket, name); err != nil {
		return err
	}
	t.remember(name, false)
	return nil
}

func (t *tx) BucketExists(name []byte) bool {
	if t.done {
		return false
	}
	ok, err := t.bucket(name)
	return err == nil && ok
}

func (t *tx) Get(bucket, key []byte) ([]byte, error) {
	if err := t.needBucket(bucket, false); err != nil {
		return nil, err
	}
	if v, ok := t.pending[string(bucket)][string(key)]; ok {
		if v == nil {
			return nil, store.ErrNotFound
		}
		return *v, nil
	}
	var v []byte
	err := t.ptx.QueryRow(t.ctx, t.q.get, bucket, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return v, err
}

func (t *tx) write(bucket, key []byte, value *[]byte) error {
	if err := t.needBucket(bucket, true); err != nil {
		return err
	}
	if len(key) == 0 {
		return store.ErrInvalidName
	}
	if t.pending == nil {
		t.pending = map[string]map[string]*[]byte{}
	}
	b := t.pending[string(bucket)]
	if b == nil {
		b = map[string]*[]byte{}
		t.pending[string(bucket)] = b
	}
	b[string(key)] = value
	return nil
}

func (t *tx) Put(bucket, key, value []byte) error {
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	return t.write(bucket, key, &v)
}

func (t *tx) Delete(bucket, key []byte) error { return t.write(bucket, key, nil) }

// flush sends the buffered writes: per bucket, one upsert and one delete
// statement, pipelined in one batch.
func (t *tx) flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for bucket, keys := range t.pending {
		var putK, putV, delK [][]byte
		for k, v := range keys {
			if v == nil {
				delK = append(delK, []byte(k))
			} else {
				putK, putV = append(putK, []byte(k)), append(putV, *v)
			}
		}
		if len(delK) > 0 {
			batch.Queue(t.q.deleteKeys, []byte(bucket), delK)
		}
		if len(putK) > 0 {
			batch.Queue(t.q.upsert, []byte(bucket), putK, putV)
		}
	}
	t.pending = nil
	return t.ptx.SendBatch(t.ctx, batch).Close()
}

func (t *tx) Scan(bucket, prefix []byte, fn func(key, value []byte) error) error {
	return t.ScanRange(bucket, prefix, store.PrefixEnd(prefix), fn)
}

// ScanRange reads the range a page at a time, closing each page's rows
// before calling fn, so fn may use the transaction too.
func (t *tx) ScanRange(bucket, start, end []byte, fn func(key, value []byte) error) error {
	if err := t.needBucket(bucket, false); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	from := start
	if from == nil {
		from = []byte{}
	}
	for {
		rows, err := t.ptx.Query(t.ctx, t.q.scan, bucket, from, end)
		if err != nil {
			return err
		}
		type kv struct{ k, v []byte }
		var page []kv
		for rows.Next() {
			var row kv
			if err := rows.Scan(&row.k, &row.v); err != nil {
				rows.Close()
				return err
			}
			page = append(page, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, row := range page {
			if err := fn(row.k, row.v); err != nil {
				if errors.Is(err, store.ErrStopScan) {
					return nil
				}
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		from = append(bytes.Clone(page[len(page)-1].k), 0) // the next key after the page
	}
}
