package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/ingest/importer"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// existingPeople is how many people the store holds before each import.
const existingPeople = 200_000

// contactsCSV is a contacts file of n rows: the even rows are people already
// in the store (matched by email, in another case, their empty city and
// course filled in), the odd rows new people, some with accented or
// Cyrillic names.
func contactsCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Nome;Cognome;Email;Telefono;Città;Corso di laurea;Anno di laurea\n")
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			id := i/2*3 + 1 // spread over the existing ids
			fmt.Fprintf(&b, "Nome%d;Cognome%d;P%d@Example.com;333 %07d;Milano;Ingegneria;%d\n", id, id, id, i, 1990+i%30)
			continue
		}
		first, last := "Niccolò", "D'Àngelo"
		if i%3 == 0 {
			first, last = "Иван", "Петров"
		}
		fmt.Fprintf(&b, "%s%d;%s%d;new%d@example.org;+39 02 %07d;Como;Design;%d\n", first, i, last, i, i, i, 2000+i%20)
	}
	return b.Bytes()
}

// seededTemplate creates a migrated database holding existingPeople people
// with one email each, and returns its name and the admin DSN.
func seededTemplate(b *testing.B) (string, string) {
	b.Helper()
	ctx := context.Background()
	dsn := pgtest.NewEmpty(b)
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{
		`INSERT INTO people (kind, first_name, last_name, first_name_ascii, last_name_ascii)
		 SELECT 'alumnus', 'Nome' || g, 'Cognome' || g, 'Nome' || g, 'Cognome' || g FROM generate_series(1, ` + fmt.Sprint(existingPeople) + `) g`,
		`INSERT INTO person_emails (person_id, type, address) SELECT id, 'personal', 'p' || id || '@example.com' FROM people`,
		`INSERT INTO person_sources (person_id, source) SELECT id, 'seed' FROM people`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	name := u.Path[1:]
	return name, pgtest.OwnerDSN(b) // creates the clones; the benchmark runs as the owner (raw-copy makes a table)
}

// cloneDB copies the template into a fresh database and opens a pool on it.
func cloneDB(b *testing.B, adminDSN, template string) (*pgxpool.Pool, func()) {
	b.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	name := itest.Name("bench_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		b.Fatalf("clone %s: %v", template, err)
	}
	u, _ := url.Parse(adminDSN)
	u.Path = "/" + name
	pool, err := postgres.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	return pool, func() {
		pool.Close()
		c, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			b.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			b.Errorf("drop %s: %v", name, err)
		}
	}
}

// BenchmarkImportContacts imports 10,000 and 100,000 contacts (half of them
// already in the store, half new) into a store holding 200,000 people, each
// iteration on a fresh copy of the same database; "raw-copy" is a bare COPY
// of the same rows, already parsed, into a table of the staging shape: the
// floor the import is measured against. Results: bench/import.md.
func BenchmarkImportContacts(b *testing.B) {
	template, adminDSN := seededTemplate(b)
	ctx := context.Background()
	for _, n := range []int{10_000, 100_000} {
		file := contactsCSV(n)
		b.Run(fmt.Sprintf("merge-%dk", n/1000), func(b *testing.B) {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				pool, drop := cloneDB(b, adminDSN, template)
				b.StartTimer()
				rep, err := importer.New(pool, benchLogger()).Import(ctx, bytes.NewReader(file), "bench.csv", int64(len(file)), importer.Options{Kind: importer.Contacts, Source: "bench"})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if rep.Created != n/2 || rep.Updated != n/2 || rep.Bad() != 0 {
					b.Fatalf("report %+v", rep)
				}
				drop()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("raw-copy-%dk", n/1000), func(b *testing.B) {
			rows, cols := parsedRows(b, file)
			pool, drop := cloneDB(b, adminDSN, template)
			defer drop()
			b.ResetTimer() // parsing and cloning are not the copy
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS raw_copy; CREATE TABLE raw_copy (row_no integer, first_name text, first_name_ascii text, last_name text, last_name_ascii text,
					email text, email_institutional text, email_2 text, phone text, kind text, minor boolean, language text, nationality text, country text,
					region text, province text, city text, birth_date date, graduation_year integer, degree_course text, macro_category text, tags text[])`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				got, err := pool.CopyFrom(ctx, pgx.Identifier{"raw_copy"}, cols, pgx.CopyFromRows(rows))
				if err != nil || got != int64(n) {
					b.Fatalf("copy: %d rows, %v", got, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// parsedRows parses a contacts file the way the importer does.
func parsedRows(b *testing.B, file []byte) ([][]any, []string) {
	b.Helper()
	recs, err := importer.OpenRecords(bytes.NewReader(file), importer.FormatCSV, "")
	if err != nil {
		b.Fatal(err)
	}
	_, header, err := recs.Next()
	if err != nil {
		b.Fatal(err)
	}
	spec, _ := importer.SpecOf(importer.Contacts)
	l, err := importer.MapHeader(spec, header, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := &importer.Parser{Layout: l, DefaultCC: "39"}
	var rows [][]any
	for {
		n, rec, err := recs.Next()
		if err != nil {
			break
		}
		row, errs := p.Parse(n, rec)
		if len(errs) > 0 {
			b.Fatalf("%v", errs)
		}
		rows = append(rows, row.Values)
	}
	return rows, l.StageColumns()
}

// benchLogger logs each merge step's time when IMPORT_BENCH_DEBUG is set.
func benchLogger() *slog.Logger {
	if os.Getenv("IMPORT_BENCH_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
