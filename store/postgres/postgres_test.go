package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/driver"
	"github.com/lintelhq/lintel/store/postgres"
	"github.com/lintelhq/lintel/store/storetest"
)

// databaseURL returns LINTEL_POSTGRES_URL, skipping the test without it,
// except in CI, where these tests must run.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("LINTEL_POSTGRES_URL")
	if url != "" {
		return url
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("LINTEL_POSTGRES_URL is not set in CI; .ci/run starts a server and sets it")
	}
	t.Skip("set LINTEL_POSTGRES_URL=postgres://user@127.0.0.1:5432/db to run the PostgreSQL tests " +
		"(or run `source .ci/postgres.sh && lintel_pg_start` first)")
	return ""
}

var schemas atomic.Int64

// openStore opens a store in a schema of its own (dropped at cleanup), or
// in schema, closed at cleanup. Several stores opened with the same schema
// share it, as several processes would.
func openStore(t testing.TB, schema string) *postgres.Store {
	t.Helper()
	url := databaseURL(t)
	if schema == "" {
		schema = newSchema(t)
	}
	s, err := postgres.Open(context.Background(), url, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newSchema returns the name of a new schema, which is dropped when the
// test ends, after the stores opened in it later are closed (cleanups run
// last in, first out), with a connection of its own.
func newSchema(t testing.TB) string {
	t.Helper()
	url := databaseURL(t)
	schema := fmt.Sprintf("lintel_test_%d_%d", time.Now().UnixNano()%1e9, schemas.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// newDriver opens a driver in a new schema, for storetest.
func newDriver(t testing.TB) driver.Driver {
	d, err := postgres.OpenDriver(context.Background(), databaseURL(t), &postgres.Options{Schema: newSchema(t)})
	require.NoError(t, err)
	return d
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) driver.Driver { return newDriver(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) driver.Driver { return newDriver(b) })
}

func TestMigrationIsIdempotentAndVersioned(t *testing.T) {
	schema := newSchema(t)
	a := openStore(t, schema)
	b, err := postgres.Open(context.Background(), databaseURL(t), &postgres.Options{Schema: schema})
	require.NoError(t, err, "a second Open of a migrated schema is fine")
	require.NoError(t, b.Close())
	require.NoError(t, a.Update(context.Background(), func(tx store.Tx) error { return tx.CreateBucketIfNotExists([]byte("x")) }))
	_, err = postgres.Open(context.Background(), databaseURL(t), &postgres.Options{Schema: "Robert'); DROP TABLE x;--"})
	require.Error(t, err, "schema names are checked, not quoted")
}
