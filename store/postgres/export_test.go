package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// PoolStat exposes the pool's counters to the tests of package
// postgres_test.
func PoolStat(s *Store) *pgxpool.Stat { return s.d.pool.Stat() }
