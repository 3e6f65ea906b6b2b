package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest/importer"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/progress"
)

const importUsage = `usage: calore import --kind KIND [flags] FILE

Loads a CSV or XLSX file into the operational store, merging with what is
there (docs/import.md). KIND is one of: contacts, organisations, affiliations,
events, registrations, donations, interactions, journey (all but the first
two find their people, organisations and events among those already
imported).

flags:
`

// cmdImport is `calore import`: it prints the report on stdout, every bad row
// included, and the progress on stderr (a bar on a terminal, lines otherwise).
func cmdImport(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	opts, file, allowPartial, err := parseImportArgs(args, stderr)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	var size int64 = -1
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	opts.Progress = progress.New(stderr, isTerminal(stderr), "import", 5*time.Second)

	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := importer.New(pool, logger).Import(ctx, f, file, size, opts)
	if rep != nil {
		rep.Write(stdout)
	}
	if err == nil && rep.Committed && len(rep.Hits) > 0 {
		// the sends are committed: their opens and clicks go the way of live hits
		events, herr := hitEvents(rep.Hits)
		if herr == nil {
			var spooled int64
			spooled, herr = publishHits(ctx, cfg, logger, events)
			fmt.Fprintf(stdout, "%d opens and clicks sent to the tracking topic", len(events))
			if spooled > 0 {
				fmt.Fprintf(stdout, "; %d wait in the spool (Kafka unreachable) for the next import run", spooled)
			}
			fmt.Fprintln(stdout)
		}
		if herr != nil {
			return fmt.Errorf("import: the sends are stored, but their opens and clicks were not all produced (import the file again: the repeats count once): %w", herr)
		}
	}
	if err != nil || rep == nil || rep.Bad() == 0 || allowPartial {
		return err
	}
	// rows were left out: say so last, and fail, so that a script or a
	// person skimming the output cannot take a partial import for a whole one
	what := "the other rows were imported"
	switch {
	case opts.DryRun:
		what = "dry run, nothing written"
	case !rep.Committed:
		what = "nothing was written (--atomic)"
	}
	return fmt.Errorf("import: %d of %d rows left out (%d bad, %d in conflict; listed above); %s. Fix them and import the file again, or pass --allow-partial to accept a partial import",
		rep.Bad(), rep.Rows, len(rep.Errors), len(rep.Conflicts), what)
}

// parseImportArgs reads the flags, which may come before or after FILE.
func parseImportArgs(args []string, stderr io.Writer) (importer.Options, string, bool, error) {
	fs := flag.NewFlagSet("calore import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, importUsage)
		fs.PrintDefaults()
	}
	kind := fs.String("kind", "", "what the file holds: contacts, organisations, affiliations, events, registrations, donations, interactions, journey")
	mapping := fs.String("mapping", "", "JSON file mapping headers to fields, e.g. {\"Cell. privato\": \"phone\", \"Note\": \"-\"}, or {\"columns\": {…}, \"values\": {\"purpose\": {\"quota socio\": \"membership_fee\"}}} to map the old system's values too")
	source := fs.String("source", "", "marketing source of the people in the file, and source of registrations and journey stages (default \"import:<file name>\")")
	match := fs.String("match", "", "what identifies an existing record, comma separated: people source_id,email,name; organisations source_id,vat,tax_code,name; activities source_id,email,name (default all)")
	policy := fs.String("policy", "", "merge policy per field: field=overwrite|fill-empty|keep,…; *=… sets the default (fill-empty)")
	dryRun := fs.Bool("dry-run", false, "report what would be created, updated and in conflict, and write nothing")
	atomic := fs.Bool("atomic", false, "all or nothing: import nothing if any row is bad or in conflict")
	sheet := fs.String("sheet", "", "XLSX worksheet to read (default the first)")
	defaultKind := fs.String("default-kind", "", "kind of new records whose row has none (contacts: other; organisations: company)")
	cc := fs.String("country-code", "39", "country calling code of phone numbers written without one")
	allowPartial := fs.Bool("allow-partial", false, "exit 0 even when rows were left out (bad or in conflict); without it such a run exits 1 after importing the good rows")

	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return importer.Options{}, "", false, errUsage
			}
			return importer.Options{}, "", false, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var problems []error
	k, err := importer.ParseKind(*kind)
	if *kind == "" {
		err = errors.New("--kind is required")
	}
	if err != nil {
		problems = append(problems, err)
	}
	if len(files) != 1 {
		problems = append(problems, fmt.Errorf("want exactly one FILE, got %d", len(files)))
	}
	opts := importer.Options{Kind: k, Source: strings.TrimSpace(*source), DryRun: *dryRun, Atomic: *atomic,
		Sheet: *sheet, DefaultCC: strings.TrimPrefix(*cc, "+")}
	if *match != "" {
		opts.Match = strings.Split(*match, ",")
	}
	if k == importer.Contacts {
		opts.DefaultPersonKind = *defaultKind
	} else {
		opts.DefaultOrgKind = *defaultKind
	}
	if spec, ok := importer.SpecOf(k); ok {
		if opts.Policies, err = importer.ParsePolicies(spec, *policy); err != nil {
			problems = append(problems, err)
		}
	} else if err == nil {
		problems = append(problems, fmt.Errorf("--kind %s: not built yet (its tables are not in the schema)", k))
	}
	if *mapping != "" {
		m, err := importer.LoadMapping(*mapping)
		if err != nil {
			problems = append(problems, err)
		}
		opts.Mapping, opts.Values = m.Columns, m.Values
	}
	if len(problems) > 0 {
		return importer.Options{}, "", false, fmt.Errorf("import: %w", errors.Join(problems...))
	}
	return opts, files[0], *allowPartial, nil
}

// isTerminal reports whether w is a terminal, where a progress bar belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
