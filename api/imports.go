package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/ingest/importer"
)

// importScope is the resource an import of each kind writes.
var importScope = map[importer.Kind]string{
	importer.Contacts:      access.People,
	importer.Organisations: access.Organisations,
	importer.Affiliations:  access.Affiliations,
	importer.Events:        access.Events,
	importer.Registrations: access.Registrations,
	importer.Donations:     access.Donations,
	importer.Interactions:  access.Interactions,
	importer.Journey:       access.People,
}

// job is one import running in the background.
type job struct {
	mu       sync.Mutex
	ID       string     `json:"id"`
	UserID   int64      `json:"user_id"`
	Kind     string     `json:"kind"`
	File     string     `json:"file"`
	Status   string     `json:"status"` // running, done, failed
	Step     string     `json:"phase,omitempty"`
	Count    int64      `json:"done"`
	Total    int64      `json:"total"` // -1 while unknown
	Started  time.Time  `json:"started_at"`
	Finished *time.Time `json:"finished_at,omitempty"`
	Report   *report    `json:"report,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// report is an import report as JSON.
type report struct {
	Rows      int      `json:"rows"`
	Created   int      `json:"created"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Conflicts []string `json:"conflicts"`
	Errors    []string `json:"errors"`
	Ignored   []string `json:"ignored_columns"`
	// Unknown: per field, the values none of its values (with their rows),
	// for a value mapping (docs/import.md)
	Unknown    map[string]map[string]int `json:"unknown_values"`
	Events     int                       `json:"events"`
	DryRun     bool                      `json:"dry_run"`
	Atomic     bool                      `json:"atomic"`
	Committed  bool                      `json:"committed"`
	DurationMS int64                     `json:"duration_ms"`
}

func reportOf(r *importer.Report) *report {
	out := &report{Rows: r.Rows, Created: r.Created, Updated: r.Updated, Unchanged: r.Unchanged, Conflicts: []string{}, Errors: []string{},
		Ignored: r.Ignored, Events: r.Events, DryRun: r.DryRun, Atomic: r.Atomic, Committed: r.Committed, DurationMS: r.Duration.Milliseconds()}
	for _, e := range r.Conflicts {
		out.Conflicts = append(out.Conflicts, e.String())
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, e.String())
	}
	if out.Ignored == nil {
		out.Ignored = []string{}
	}
	out.Unknown = map[string]map[string]int{}
	for _, u := range r.Unknown {
		out.Unknown[u.Field] = map[string]int{}
		for _, v := range u.Values {
			out.Unknown[u.Field][v.Value] = v.Rows
		}
	}
	return out
}

// Phase, Set and Done make a job the importer's Progress.
func (j *job) Phase(name string, total int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Step, j.Total, j.Count = name, total, 0
}

func (j *job) Set(done int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.Count = done
}

func (j *job) Done() {}

// snapshot copies the job for encoding.
func (j *job) snapshot() *job {
	j.mu.Lock()
	defer j.mu.Unlock()
	return &job{ID: j.ID, UserID: j.UserID, Kind: j.Kind, File: j.File, Status: j.Status, Step: j.Step, Count: j.Count, Total: j.Total,
		Started: j.Started, Finished: j.Finished, Report: j.Report, Error: j.Error}
}

// jobs are the imports of this server process. They live in memory: a
// restart forgets finished jobs and stops running ones (their transaction
// rolls back).
type jobs struct {
	mu   sync.Mutex
	byID map[string]*job
	wg   sync.WaitGroup
}

func newJobs() *jobs { return &jobs{byID: map[string]*job{}} }

// jobRetention is how long a finished job's report stays readable.
const jobRetention = 24 * time.Hour

// add registers a job and forgets those finished more than jobRetention ago.
func (js *jobs) add(j *job, now time.Time) {
	js.mu.Lock()
	defer js.mu.Unlock()
	for id, old := range js.byID {
		old.mu.Lock()
		gone := old.Finished != nil && now.Sub(*old.Finished) > jobRetention
		old.mu.Unlock()
		if gone {
			delete(js.byID, id)
		}
	}
	js.byID[j.ID] = j
}

func (js *jobs) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { js.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("api: imports still running: %w", ctx.Err())
	}
}

// startImport takes a multipart upload (file, kind and the options of
// `calore import`) and runs it in the background: 202 with the job, whose
// progress GET /api/imports/{id} reports.
func (s *Server) startImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.deps.MaxUpload)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writeError(w, r, fmt.Errorf("upload over %d bytes: %w", s.deps.MaxUpload, errTooLarge))
			return
		}
		s.writeError(w, r, invalid("file", "send the file as multipart/form-data: %s", err.Error()))
		return
	}
	opts, err := importOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, ok := importScope[opts.Kind]; !ok {
		// campaign activity produces its opens and clicks to Kafka, which
		// the API server does not do for imports
		s.writeError(w, r, invalid("kind", "%s is imported with calore import, not through the API", opts.Kind))
		return
	}
	p := principal(r)
	if !p.Can(perm(importScope[opts.Kind], access.Write)) {
		s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "your roles do not allow importing %s (write on %s)", opts.Kind, importScope[opts.Kind]))
		return
	}
	if rs := p.RecordScope(access.Interactions); !rs.All {
		// record scopes: interactions only of the user's own offices (docs/access.md)
		opts.Offices, opts.DefaultOffice = append([]string{}, rs.Write...), rs.DefaultOffice()
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.writeError(w, r, invalid("file", "required: the CSV or XLSX file"))
		return
	}
	defer f.Close()
	tmp, err := os.CreateTemp(s.deps.UploadDir, "calore-import-*"+filepath.Ext(hdr.Filename))
	if err != nil {
		s.writeError(w, r, fmt.Errorf("import upload: %w", err))
		return
	}
	size, err := io.Copy(tmp, f)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		s.writeError(w, r, fmt.Errorf("import upload: %w", err))
		return
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	j := &job{ID: hex.EncodeToString(id), UserID: p.User.ID, Kind: string(opts.Kind), File: filepath.Base(hdr.Filename), Status: "running", Total: -1, Started: s.now()}
	opts.Progress = j
	if opts.Source == "" {
		opts.Source = "import:" + j.File
	}
	s.jobs.add(j, s.now())
	if err := s.audit(r, "create", "import", j.ID, map[string]string{"kind": j.Kind, "file": j.File, "bytes": strconv.FormatInt(size, 10)}); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		s.writeError(w, r, err)
		return
	}
	s.jobs.wg.Add(1)
	go func() {
		defer s.jobs.wg.Done()
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		rep, err := importer.New(s.deps.Pool, s.log).Import(s.ctx, tmp, j.File, size, opts)
		now := s.now()
		j.mu.Lock()
		defer j.mu.Unlock()
		j.Finished = &now
		if rep != nil {
			j.Report = reportOf(rep)
		}
		j.Status = "done"
		if err != nil {
			j.Status, j.Error = "failed", err.Error()
			s.log.Warn("api: import failed", slog.String("job", j.ID), slog.String("file", j.File), slog.Any("err", err))
		}
	}()
	w.Header().Set("Location", "/api/imports/"+j.ID)
	writeJSON(w, http.StatusAccepted, j.snapshot())
}

// importOptions reads the form fields of an upload: those of `calore import`.
func importOptions(r *http.Request) (importer.Options, error) {
	v := r.MultipartForm.Value
	get := func(k string) string {
		if len(v[k]) > 0 {
			return strings.TrimSpace(v[k][0])
		}
		return ""
	}
	k, err := importer.ParseKind(get("kind"))
	if get("kind") == "" || err != nil {
		return importer.Options{}, invalid("kind", "one of contacts, organisations, events, registrations, donations, interactions, journey")
	}
	spec, ok := importer.SpecOf(k)
	if !ok {
		return importer.Options{}, invalid("kind", "importing %s is not built yet", k)
	}
	opts := importer.Options{Kind: k, Source: get("source"), Sheet: get("sheet"), DefaultCC: strings.TrimPrefix(get("country_code"), "+")}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"dry_run", &opts.DryRun}, {"atomic", &opts.Atomic}} {
		if raw := get(b.name); raw != "" {
			if *b.dst, err = strconv.ParseBool(raw); err != nil {
				return importer.Options{}, invalid(b.name, "%q is not true or false", raw)
			}
		}
	}
	if m := get("match"); m != "" {
		opts.Match = strings.Split(m, ",")
	}
	if k == importer.Contacts {
		opts.DefaultPersonKind = get("default_kind")
	} else {
		opts.DefaultOrgKind = get("default_kind")
	}
	if opts.Policies, err = importer.ParsePolicies(spec, get("policy")); err != nil {
		return importer.Options{}, calore.FieldError("policy", "%s", err.Error())
	}
	return opts, nil
}

// importStatus reports an import's progress and, once finished, its report.
// Only the user who started it, or an admin, sees it.
func (s *Server) importStatus(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	s.jobs.mu.Lock()
	j := s.jobs.byID[id]
	s.jobs.mu.Unlock()
	p := principal(r)
	if j == nil || (j.UserID != p.User.ID && p.Level(access.Audit) < access.Read) {
		s.writeError(w, r, calore.Errorf(calore.ErrNotFound, "import %s", id))
		return
	}
	writeJSON(w, http.StatusOK, j.snapshot())
}
