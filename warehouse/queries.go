package warehouse

import (
	"fmt"
	"io/fs"
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
