// Package postgres is the PostgreSQL backend of package store, for several
// Lintel servers that share one database (github.com/jackc/pgx/v5), behind
// the portable store.DB.
//
// Schema. Everything lives in one PostgreSQL schema (Options.Schema,
// default "lintel"): buckets(name bytea primary key), kv(bucket bytea, key
// bytea, value bytea, primary key (bucket, key)), an empty table writers
// that Updates lock (see Transactions) and schema_version(version int).
// Open creates and migrates them itself, under a transaction-scoped
// advisory lock, so servers starting together do not race. Since schema
// version 3, kv has no foreign key to buckets (checking it cost a lookup
// and a row lock per written row): every transaction checks that a bucket
// exists before it writes to it, in the same transaction. A server refuses
// a schema newer than it knows; upgrade all servers of one database
// together.
//
// Round trips. The backend's cost is counted in network round trips, and
// it sends as few as it can:
//
//   - A transaction takes a connection and sends BEGIN only with its first
//     statement, in the same round trip (one batch of statements prepared
//     once per connection, parameters and results in binary form, one Sync
//     at the end), so a View that reads nothing costs nothing.
//   - A View ends without a round trip: its connection is parked with its
//     read-only transaction open, and the next transaction to need one
//     sends the ROLLBACK in front of its own first statements. A parked
//     connection that nobody takes within 2 ms is rolled back from another
//     goroutine (Close waits for that). A View that makes
//     one read therefore costs one round trip, and no other statement.
//   - Get asks whether the bucket exists in the same statement as the value
//     (once per bucket and transaction); Scan sends the bucket check, the
//     buffered writes and the first page of the scan in one round trip.
//   - Writes are buffered in the transaction (the last write of a key wins)
//     and sent with the next scan or at commit, in the same round trip as
//     COMMIT: per bucket one DELETE of the keys deleted and one statement
//     for the keys put, sorted, which inserts them outright when no key of
//     the bucket lies between the first and the last of them, and
//     otherwise updates those there and inserts the others. 512 puts or
//     more to one bucket go with COPY (binary) when that range is free,
//     which the server writes a page at a time: a commit of 10,000 new keys
//     costs four round trips and about what bbolt's does.
//   - Scans stream: rows are handed to the callback as they arrive, read in
//     pages that grow from 512 to 8,192 rows. When the callback uses the
//     transaction (a Get or a nested scan), the rest of the page is read
//     into memory first, so memory stays bounded by one page.
//   - The store's ReadCounter and DecrementIf (the driver implements
//     driver.CounterReader and driver.Decrementer) are single statements
//     outside any transaction block: one round trip each, on a statement
//     prepared once per connection. ReadCounter runs on a connection of its
//     own, so it never queues behind transactions for the pool, and
//     concurrent calls for one counter share statements: a call that finds
//     a read of its counter on its way does not take that one's answer (it
//     may have left before the call began) but waits for the next, sent as
//     soon as that one returns, which answers every call that came in the
//     meantime. Under load a counter costs the server at most one
//     statement at a time per Store, and a call at most two round trips.
//     Store.Get is one statement too.
//
// Open's pool has Options.MaxConns connections (DefaultMaxConns, 16)
// unless the URL sets pool_max_conns: each transaction in progress holds
// one, so a server deciding for many doors at once needs about as many.
//
// Transactions. Update runs at SERIALIZABLE isolation. The driver calls
// serialization failures, deadlocks and unique violations caused by a
// concurrent insert of the same key (SQLSTATE 40001, 40P01, 23505)
// retryable (driver.Retrier), so store.DB retries them up to
// Options.MaxRetries times with jittered exponential backoff. From the
// fourth attempt on, an Update runs alone among Updates (it takes the
// writers table in EXCLUSIVE mode before its snapshot, where others take
// ROW SHARE), so that a long Update cannot be starved by a stream of short
// ones: retries stay bounded and the last ones succeed. The function
// passed to Update may therefore run more than once, and must not have
// effects outside its Tx (access and directory rebuild their results inside
// it). A failed statement aborts the transaction; the Tx then returns that
// error from every later call and from the commit, so a serialization
// failure that fn swallowed is still retried. View runs READ ONLY at
// REPEATABLE READ: one snapshot, whole commits only. Errors of the server
// are wrapped with the operation and the bucket (a *driver.OpError).
//
// Nested transactions (see package store): each transaction holds a
// connection of its own, so a nested one can block for ever on the outer
// one's locks, or for a connection.
//
// Freshness. ReadCounter is one statement at the server's default isolation
// (READ COMMITTED), whose snapshot is taken when the server receives it,
// which is after the call began: it sees every transaction that committed
// before the call, in particular every Update that had returned, on any
// server. (A call never takes the answer of a statement that was already
// on its way when it began.) That is the guarantee of store.CounterReader,
// and it is what lets a cache keyed by a generation counter (package
// access) answer a decision with one round trip and no staler than the
// database. LISTEN/NOTIFY is not used for this: a notification arrives
// after the commit, at a time no reader can bound, so a decision that
// trusted the absence of one could use data older than an Update that had
// already returned on another server. It could only tell a cache to
// refill early; the round trip that proves freshness stays.
//
// Passes. DecrementIf consumes one unit of a count in one statement, under
// the condition that a guard counter still holds the value the caller's
// cache was filled from. The count never goes below zero, even when
// servers race for the last unit: at READ COMMITTED, an UPDATE that finds
// its row changed by a concurrent transaction waits for it and evaluates its
// condition again on the newest version of the row. The statement commits
// like any write (one WAL flush), so a unit taken is not given back by a
// crash of the database. Package access takes a pass for a cached
// credential with this statement alone (its guard proves what a read of
// the generation would), so such a decision costs one round trip and one
// flush: about what a bare autocommit UPDATE of one row costs, which
// BenchmarkRoundTrips reports beside it. The flush is the disk's, not the
// network's, and no setting that skips it (synchronous_commit=off) is
// used, since a crash could then give back a pass already granted. A count that another transaction changed after
// the statement's snapshot makes the statement fail with a retryable
// error, and store.DB runs it again.
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
)

// Options configure Open and New. The zero value, or nil, is valid.
type Options struct {
	// Schema is the PostgreSQL schema of the tables; default "lintel".
	Schema string
	// MaxRetries bounds the retries of an Update that loses a
	// serialization conflict: 0 means store.DefaultMaxRetries, a negative
	// value none. (With OpenDriver or NewDriver, give it to store.Open
	// instead.)
	MaxRetries int
	// Logger receives retries and migrations; nil discards.
	Logger *slog.Logger
	// MaxConns is the size of the pool Open makes, unless the URL sets
	// pool_max_conns; default DefaultMaxConns. (New uses the caller's pool
	// as it is.) Every concurrent transaction holds a connection for its
	// whole length, so a server that decides for many doors at once needs
	// about as many connections as it has decisions in progress; one more
	// is kept for ReadCounter.
	MaxConns int
}

// DefaultMaxConns is the pool size Open uses by default: pgx's own default
// (4, or the number of CPUs) makes concurrent decisions queue for a
// connection while others wait on the network.
const DefaultMaxConns = 16

// Store is a store.DB in a PostgreSQL database, with Get, a read outside
// any transaction.
type Store struct {
	*store.DB
	d *pgDriver
}

// pgDriver is the driver.
type pgDriver struct {
	pool     *pgxpool.Pool
	ownPool  bool
	opts     Options
	q        queries
	txs      sync.Pool      // of *tx, reused once ended
	bg       sync.WaitGroup // ROLLBACKs sent after their transaction returned
	bgMu     sync.RWMutex   // Add holds it shared, waitBackground exclusively
	parking  parking        // connections of ended Views, to roll back
	flights  flights        // ReadCounter's statements on their way
	reserved reserved       // ReadCounter's connection
}

var (
	_ driver.Retrier       = (*pgDriver)(nil)
	_ driver.CounterReader = (*pgDriver)(nil)
	_ driver.Decrementer   = (*pgDriver)(nil)
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at url (a libpq URL or DSN), prepares the
// schema and returns the store, which owns its pool.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	d, err := openDriver(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return newStore(d), nil
}

// New uses a pool the caller owns (and closes). The pool must use the
// extended protocol (pgx's default query mode), as the hot paths run
// statements prepared on each connection.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	d, err := newDriver(ctx, pool, opts)
	if err != nil {
		return nil, err
	}
	return newStore(d), nil
}

// OpenDriver is Open's driver, for store.Open (with options, or wrapped
// by another driver).
func OpenDriver(ctx context.Context, url string, opts *Options) (driver.Driver, error) {
	return openDriver(ctx, url, opts)
}

// NewDriver is New's driver, for store.Open.
func NewDriver(ctx context.Context, pool *pgxpool.Pool, opts *Options) (driver.Driver, error) {
	return newDriver(ctx, pool, opts)
}

func newStore(d *pgDriver) *Store {
	return &Store{DB: store.Open(d, &store.Options{MaxRetries: d.opts.MaxRetries, Logger: d.opts.Logger}), d: d}
}

func openDriver(ctx context.Context, url string, opts *Options) (*pgDriver, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
		if opts != nil && opts.MaxConns > 0 {
			cfg.MaxConns = int32(opts.MaxConns)
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	d, err := newDriver(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	d.ownPool = true
	return d, nil
}

func newDriver(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*pgDriver, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Schema = cmp.Or(o.Schema, "lintel")
	if !schemaName.MatchString(o.Schema) {
		return nil, fmt.Errorf("postgres: schema name %q: lower-case letters, digits and _ only", o.Schema)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &pgDriver{pool: pool, opts: o, q: newQueries(o.Schema)}
	d.parking.d = d
	if err := d.migrate(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// migrations are applied in order; schema_version records how many ran.
func (d *pgDriver) migrations() []string {
	sc := d.opts.Schema
	return []string{
		`CREATE TABLE ` + sc + `.buckets (name bytea PRIMARY KEY)`,
		`CREATE TABLE ` + sc + `.kv (
			bucket bytea NOT NULL REFERENCES ` + sc + `.buckets(name) ON DELETE CASCADE,
			key bytea NOT NULL,
			value bytea NOT NULL,
			PRIMARY KEY (bucket, key))`,
		// 3: transactions check buckets themselves (see the package doc).
		`ALTER TABLE ` + sc + `.kv DROP CONSTRAINT IF EXISTS kv_bucket_fkey`,
		// 4: a table that holds nothing, locked by Updates (see lockAfter).
		`CREATE TABLE ` + sc + `.writers ()`,
	}
}

func (d *pgDriver) migrate(ctx context.Context) error {
	sc := d.opts.Schema
	tx, err := d.pool.Begin(ctx)
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
	all := d.migrations()
	if version > len(all) {
		return fmt.Errorf("postgres: schema %s is at version %d, newer than this program's %d", sc, version, len(all))
	}
	if version == len(all) {
		return nil // nothing to do: end the transaction without writing
	}
	for v := version; v < len(all); v++ {
		if _, err := tx.Exec(ctx, all[v]); err != nil {
			return fmt.Errorf("postgres: migration %d: %w", v+1, err)
		}
		d.opts.Logger.Info("schema migrated", "schema", sc, "version", v+1)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+sc+`.schema_version SET version = $1`, len(all)); err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	return tx.Commit(ctx)
}

// Begin begins a transaction without sending anything: BEGIN goes with
// its first statement (see the package doc). A write transaction's
// attempts after lockAfter run alone among writers.
func (d *pgDriver) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, _ := d.txs.Get().(*tx)
	if t == nil {
		t = &tx{}
	}
	t.d, t.ctx, t.begin = d, ctx, d.q.beginView
	if opts.Writable {
		t.begin, t.lock, t.writable = d.q.beginUpdate, d.q.lockShared, true
		if opts.Attempt >= lockAfter {
			t.lock = d.q.lockAlone
		}
	}
	return t, nil
}

// lockAfter is how many times an Update runs optimistically before it
// runs alone. Every Update sends, with its BEGIN, a LOCK of the empty
// table "writers": in ROW SHARE mode, which other Updates do not conflict
// with; an Update that lost lockAfter times takes it in EXCLUSIVE mode,
// so that it waits for the Updates in progress and the next ones wait for
// it. LOCK takes no snapshot, so the transaction's snapshot is taken once
// it holds the lock, and no serializable transaction can commit a
// conflicting change under it. Under SERIALIZABLE a long transaction could
// otherwise lose to a stream of short ones every time (page-level
// predicate locks make false conflicts too). Views, ReadCounter and
// DecrementIf take no such lock and are not held off.
const lockAfter = 3

// Retryable reports whether err is a conflict with a concurrent
// transaction, which the same work may not meet again: a serialization
// failure, a deadlock, or a unique violation (only a concurrent insert of
// the same key can cause one: a transaction inserts only keys it did not
// find); or a count that DecrementIf found changed after its snapshot.
func (d *pgDriver) Retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, errRaced) ||
		errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code == "23505")
}

// Close closes the pool if the driver opened it, once the ROLLBACKs sent
// in the background are done.
func (d *pgDriver) Close() error {
	d.parking.flush()
	d.reserved.close()
	if d.ownPool {
		d.pool.Close()
	}
	return nil
}

// wrap adds the operation and the bucket to an error; nil stays nil.
func wrap(op string, bucket []byte, err error) error { return driver.Wrap("postgres", op, bucket, err) }

// queries are the statements, with the schema filled in.
type queries struct {
	beginView, beginUpdate, lockShared, lockAlone, rollback, commit stmt
	rollbackChain                                                   stmt
	createBucket, bucketExists                                      stmt
	get, getChecked, upsert, deleteKeys, scanTo, scanFrom           stmt
	readCounter, decrementIf, rangeTaken                            stmt
	copyIn                                                          string
}

// stmt is a statement prepared under its name on each connection that
// runs it (once per connection: pgx remembers it), so that running it
// sends only its parameters. Parameters and results go in binary form.
type stmt struct {
	name, sql string
}

func newQueries(sc string) queries {
	kv := sc + `.kv`
	n := 0
	mk := func(sql string) stmt {
		n++
		return stmt{name: fmt.Sprintf("lintel_%s_%d", sc, n), sql: sql}
	}
	exists := `EXISTS (SELECT 1 FROM ` + sc + `.buckets WHERE name = $1)`
	// decrement is value - 1 for a big-endian unsigned value of 4 or 8
	// bytes that is not zero (int8 arithmetic wraps at the top bit).
	const decrement = `CASE length(value)
		WHEN 4 THEN substring(int8send(('x' || encode(value, 'hex'))::bit(32)::int8 - 1) FROM 5 FOR 4)
		ELSE int8send(CASE WHEN value = '\x8000000000000000'::bytea THEN 9223372036854775807
			ELSE ('x' || encode(value, 'hex'))::bit(64)::int8 - 1 END) END`
	return queries{
		beginView:    mk(`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`),
		beginUpdate:  mk(`BEGIN ISOLATION LEVEL SERIALIZABLE`),
		lockShared:   mk(`LOCK TABLE ` + sc + `.writers IN ROW SHARE MODE`),
		lockAlone:    mk(`LOCK TABLE ` + sc + `.writers IN EXCLUSIVE MODE`),
		createBucket: mk(`INSERT INTO ` + sc + `.buckets (name) VALUES ($1) ON CONFLICT DO NOTHING`),
		bucketExists: mk(`SELECT ` + exists),
		get:          mk(`SELECT value FROM ` + kv + ` WHERE bucket = $1 AND key = $2`),
		// One row: whether the bucket exists, asked only when the value is
		// missing (a key exists only in a bucket that does), and the value.
		getChecked: mk(`SELECT v.value IS NOT NULL OR ` + exists + `, v.value
			FROM (SELECT (SELECT value FROM ` + kv + ` WHERE bucket = $1 AND key = $2) AS value) AS v`),
		// The keys a transaction writes, sorted, $4 the first and $5 the
		// last: when no key of the bucket lies between them (a bulk import
		// of new keys), a plain insert; otherwise the keys there are
		// updated and the others inserted. A key another transaction
		// inserts meanwhile makes a unique violation, retried.
		upsert: mk(`WITH w AS (SELECT k, v FROM unnest($2::bytea[], $3::bytea[]) AS w(k, v)),
			u AS (UPDATE ` + kv + ` SET value = w.v FROM w
				WHERE (SELECT EXISTS (SELECT 1 FROM ` + kv + ` WHERE bucket = $1 AND key >= $4 AND key <= $5))
					AND kv.bucket = $1 AND kv.key = w.k
				RETURNING kv.key)
			INSERT INTO ` + kv + ` (bucket, key, value) SELECT $1, w.k, w.v FROM w WHERE w.k NOT IN (SELECT key FROM u)`),
		rangeTaken: mk(`SELECT EXISTS (SELECT 1 FROM ` + kv + ` WHERE bucket = $1 AND key >= $2 AND key <= $3)`),
		copyIn:     `COPY ` + kv + ` (bucket, key, value) FROM STDIN (FORMAT binary)`,
		deleteKeys: mk(`DELETE FROM ` + kv + ` WHERE bucket = $1 AND key = ANY($2::bytea[])`),
		scanTo:     mk(`SELECT key, value FROM ` + kv + ` WHERE bucket = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4`),
		scanFrom:   mk(`SELECT key, value FROM ` + kv + ` WHERE bucket = $1 AND key >= $2 ORDER BY key LIMIT $3`),
		// One row: the value (NULL when missing) and whether the bucket
		// exists, asked only when the value is missing.
		readCounter: mk(`SELECT v.value, v.value IS NOT NULL OR ` + exists + `
			FROM (SELECT (SELECT value FROM ` + kv + ` WHERE bucket = $1 AND key = $2) AS value) AS v`),
		// $1/$2 the guard counter, $3 its expected value (8 bytes), $4/$5
		// the count. One row: the guard's value, the count after the
		// decrement (NULL when nothing was decremented), the count as the
		// statement's snapshot had it, and whether each bucket exists.
		decrementIf: mk(`WITH g AS MATERIALIZED (SELECT value FROM ` + kv + ` WHERE bucket = $1 AND key = $2),
			d AS (UPDATE ` + kv + ` SET value = ` + decrement + `
				WHERE bucket = $4 AND key = $5
					AND coalesce((SELECT value FROM g), '\x0000000000000000'::bytea) = $3
					AND length(value) IN (4, 8) AND value <> '\x00000000'::bytea AND value <> '\x0000000000000000'::bytea
				RETURNING value)
			SELECT (SELECT value FROM g), (SELECT value FROM d), (SELECT value FROM ` + kv + ` WHERE bucket = $4 AND key = $5),
				` + exists + `, EXISTS (SELECT 1 FROM ` + sc + `.buckets WHERE name = $4)`),
		rollback:      mk(`ROLLBACK`),
		rollbackChain: mk(`ROLLBACK AND CHAIN`), // ends a parked View and begins the next
		commit:        mk(`COMMIT`),
	}
}
