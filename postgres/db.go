package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the store runs on: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
// On a pgx.Tx every store method runs in a savepoint of that transaction,
// so an importer can make many changes, and their outbox rows, commit or
// roll back together.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
