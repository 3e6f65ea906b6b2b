package warehouse

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Queries reads the embedded .sql files of one warehouse package: the one
// loader of ClickHouse statements (scoring uses it too; its SQL files still
// sit beside its jobs until they move here, docs/architecture.md). A package declares
//
//	//go:embed sql/*.sql
//	var files embed.FS
//	var queries = warehouse.NewQueries("kpiq", files)
//
// and runs queries.Get("funnel.sql").
type Queries struct {
	pkg   string
	files fs.FS
}

// NewQueries returns the loader of files' sql/ folder; pkg names the package
// in the panic of a missing file.
func NewQueries(pkg string, files fs.FS) Queries { return Queries{pkg: pkg, files: files} }

// Get returns the text of sql/name. A missing file is a build defect, caught
// by any test of the package, so it panics rather than returning an error.
func (q Queries) Get(name string) string {
	b, err := fs.ReadFile(q.files, "sql/"+name)
	if err != nil {
		panic(fmt.Sprintf("%s: embedded query %s: %v", q.pkg, name, err))
	}
	return string(b)
}

// Scan runs sql and hands each row to fn; name says which query in errors.
// The one row loop of the warehouse's readers (kpiq, scoring).
func Scan(ctx context.Context, conn driver.Conn, name, sql string, args []any, fn func(driver.Rows) error) error {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
