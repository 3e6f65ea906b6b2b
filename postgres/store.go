package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mozillazg/go-unidecode"
)

// Store is the operational store of domain records. Every create, update,
// delete and merge runs in one transaction (a savepoint when the Store runs
// on a pgx.Tx) together with its outbox event.
type Store struct {
	db DB
}

// NewStore returns a store on db: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
func NewStore(db DB) *Store { return &Store{db: db} }

// inTx runs fn in a transaction of its own, or in a savepoint when the store
// runs on a transaction.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.db, fn)
}

// ASCII transliterates s to accent-free printable ASCII with unidecode (the
// library ingest/importer uses too), collapsing white space: "Иван" becomes
// "Ivan", "Nguyễn" "Nguyen". The store fills empty ASCII name columns with it.
func ASCII(s string) string {
	t := strings.ReplaceAll(unidecode.Unidecode(s), "[?]", " ")
	var b strings.Builder
	for _, w := range strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '`' {
			return -1
		}
		return r
	}, t)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// nonNil returns s, or an empty slice for nil, for NOT NULL array columns.
func nonNil[E any](s []E) []E {
	if s == nil {
		return []E{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// wrap adds what was being done to err, keeping nil nil.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
