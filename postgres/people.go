package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

var people = &table[calore.Person]{
	aggregate: "person",
	name:      "people",
	meta:      func(p *calore.Person) *calore.Meta { return &p.Meta },
	fields: func(p *calore.Person) []field {
		return []field{
			{col: "source", ptr: &p.Source},
			{col: "source_id", ptr: &p.SourceID},
			{col: "kind", ptr: &p.Kind},
			{col: "first_name", ptr: &p.FirstName},
			{col: "last_name", ptr: &p.LastName},
			{col: "first_name_ascii", ptr: &p.FirstNameASCII},
			{col: "last_name_ascii", ptr: &p.LastNameASCII},
			{col: "name_key", ptr: &p.NameKey, ro: true},
			{col: "birth_date", ptr: &p.BirthDate},
			{col: "is_minor", ptr: &p.IsMinor},
			{col: "language", ptr: &p.Language},
			{col: "nationality", ptr: &p.Nationality},
			{col: "country", ptr: &p.Country},
			{col: "region", ptr: &p.Region},
			{col: "province", ptr: &p.Province},
			{col: "city", ptr: &p.City},
			{col: "graduation_year", ptr: &p.GraduationYear},
			{col: "degree_course", ptr: &p.DegreeCourse},
			{col: "macro_category", ptr: &p.MacroCategory},
			{col: "top_category", ptr: &p.TopCategory},
			{col: "relevance", ptr: &p.Relevance},
			{col: "competences", ptr: &p.Competences},
			{col: "tags", ptr: &p.Tags},
			{col: "offices", ptr: &p.Offices},
			{col: "extra", ptr: &p.Extra},
			// status and merged_into change only through MergePeople
			{col: "status", ptr: &p.Status, ro: true},
			{col: "merged_into", ptr: &p.MergedInto, ro: true},
		}
	},
	validate: func(p *calore.Person) error { return p.Validate() },
	prepare: func(p *calore.Person) {
		p.FirstName, p.LastName = strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName)
		if p.FirstNameASCII == "" {
			p.FirstNameASCII = ASCII(p.FirstName)
		}
		if p.LastNameASCII == "" {
			p.LastNameASCII = ASCII(p.LastName)
		}
		p.Competences, p.Tags, p.Offices = nonNil(p.Competences), nonNil(p.Tags), nonNil(p.Offices)
		p.Extra = nonNilMap(p.Extra)
		for i := range p.Emails {
			p.Emails[i].Address = strings.TrimSpace(p.Emails[i].Address)
		}
		if p.BirthDate != nil {
			d := p.BirthDate.UTC().Truncate(24 * time.Hour)
			p.BirthDate = &d
		}
	},
	saveChildren: savePersonChildren,
	loadChildren: loadPersonChildren,
	filterCols:   map[string]bool{},
}

// CreatePerson stores p with its emails, phones and sources, sets its id,
// version and computed fields, and writes "person.created" to the outbox. An
// email address another person holds is an error wrapping calore.ErrConflict.
func (s *Store) CreatePerson(ctx context.Context, p *calore.Person) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return people.insert(ctx, tx, p) })
}

// Person reads one person with emails, phones, sources and the preferred
// email; calore.ErrNotFound when there is none.
func (s *Store) Person(ctx context.Context, id int64) (*calore.Person, error) {
	return people.get(ctx, s.db, id)
}

// UpdatePerson writes p, which must carry the Version it was read at; its
// emails, phones and sources replace the stored ones (an email kept keeps its
// id), except that a nil slice leaves that kind untouched. A stale version is an error wrapping calore.ErrConflict, e.g. "person
// 42 changed since version 3". Writes "person.updated".
func (s *Store) UpdatePerson(ctx context.Context, p *calore.Person) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return people.update(ctx, tx, p) })
}

// DeletePerson removes a person read at version, with the child rows and
// everything that references it by cascade (right to be forgotten, R7.3),
// the duplicates merged into it and the merge history naming it, and writes
// "person.deleted" with the record as it was (one per duplicate too).
// Donations stay, without a donor.
func (s *Store) DeletePerson(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, version FROM people WHERE merged_into = $1 ORDER BY id FOR UPDATE`, id)
		if err != nil {
			return fmt.Errorf("delete person %d: %w", id, err)
		}
		var dups [][2]int64
		var dupID, dupVersion int64
		if _, err := pgx.ForEachRow(rows, []any{&dupID, &dupVersion}, func() error {
			dups = append(dups, [2]int64{dupID, dupVersion})
			return nil
		}); err != nil {
			return fmt.Errorf("delete person %d: %w", id, err)
		}
		for _, d := range dups {
			if err := people.delete(ctx, tx, d[0], int(d[1])); err != nil {
				return fmt.Errorf("delete person %d: duplicate: %w", id, err)
			}
		}
		if err := people.delete(ctx, tx, id, version); err != nil {
			return err
		}
		ids := []int64{id}
		for _, d := range dups {
			ids = append(ids, d[0])
		}
		_, err = tx.Exec(ctx, `DELETE FROM merges WHERE aggregate = 'person' AND (winner_id = ANY($1) OR loser_id = ANY($1))`, ids)
		return wrap(err, "delete person %d: merge history", id)
	})
}

// ConfirmEmail records that the holder of address confirmed it at time at
// (a confirmation link, a reply), which can make it the preferred email
// (R1.2). It bumps the person's version and writes "person.updated";
// calore.ErrNotFound when nobody holds the address.
func (s *Store) ConfirmEmail(ctx context.Context, address string, at time.Time) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE person_emails SET last_confirmed_at = greatest(last_confirmed_at, $2)
			WHERE address_norm = $1 RETURNING person_id`, calore.NormaliseEmail(address), at).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return calore.Errorf(calore.ErrNotFound, "no person with email %q", address)
		}
		if err != nil {
			return fmt.Errorf("confirm email: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE people SET version = version + 1, updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("confirm email of person %d: %w", id, err)
		}
		return wrap(people.emitUpdated(ctx, tx, id), "confirm email of person %d", id)
	})
}

// ListPeople lists people in id order (AfterID and Limit apply).
func (s *Store) ListPeople(ctx context.Context, f Filter) ([]*calore.Person, error) {
	return people.list(ctx, s.db, f)
}

// PersonByEmail returns the person holding address (compared normalised);
// calore.ErrNotFound when nobody does.
func (s *Store) PersonByEmail(ctx context.Context, address string) (*calore.Person, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT person_id FROM person_emails WHERE address_norm = $1`, calore.NormaliseEmail(address)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, calore.Errorf(calore.ErrNotFound, "no person with email %q", address)
	}
	if err != nil {
		return nil, fmt.Errorf("find person by email: %w", err)
	}
	return s.Person(ctx, id)
}

// PeopleByNameKey returns the active people whose name key is calore.NameKey
// of the given ASCII names, in id order.
func (s *Store) PeopleByNameKey(ctx context.Context, key string) ([]*calore.Person, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id FROM people WHERE name_key = $1 AND status = 'active' ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("find people by name key: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find people by name key: %w", err)
	}
	out := make([]*calore.Person, 0, len(ids))
	for _, id := range ids {
		p, err := s.Person(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// savePersonChildren makes the stored emails, phones and sources of p those
// it carries. A nil slice leaves that kind of child untouched (a partial
// update); an empty one removes them all.
func savePersonChildren(ctx context.Context, tx pgx.Tx, p *calore.Person) error {
	if p.Emails != nil {
		if err := saveEmails(ctx, tx, p); err != nil {
			return err
		}
	}
	if p.Phones != nil {
		if err := savePhones(ctx, tx, p); err != nil {
			return err
		}
	}
	if p.Sources != nil {
		return saveSources(ctx, tx, p)
	}
	return nil
}

func saveEmails(ctx context.Context, tx pgx.Tx, p *calore.Person) error {
	norms := make([]string, len(p.Emails))
	for i, e := range p.Emails {
		norms[i] = calore.NormaliseEmail(e.Address)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM person_emails WHERE person_id = $1 AND NOT address_norm = ANY($2)`, p.ID, norms); err != nil {
		return fmt.Errorf("save emails: %w", err)
	}
	for _, e := range p.Emails {
		// an address held by another person updates nothing and returns no row
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO person_emails (person_id, type, address, last_confirmed_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (address_norm) DO UPDATE SET type = excluded.type, address = excluded.address, last_confirmed_at = excluded.last_confirmed_at
			WHERE person_emails.person_id = excluded.person_id
			RETURNING id`, p.ID, e.Type, e.Address, e.LastConfirmedAt).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// not who holds it: the caller may not be allowed to see that person
			return calore.Errorf(calore.ErrConflict, "email %s belongs to another person", e.Address)
		}
		if err != nil {
			return fmt.Errorf("save email %q: %w", e.Address, err)
		}
	}
	return nil
}

func savePhones(ctx context.Context, tx pgx.Tx, p *calore.Person) error {
	if _, err := tx.Exec(ctx, `DELETE FROM person_phones WHERE person_id = $1`, p.ID); err != nil {
		return fmt.Errorf("save phones: %w", err)
	}
	for _, ph := range p.Phones {
		if _, err := tx.Exec(ctx, `INSERT INTO person_phones (person_id, type, number) VALUES ($1, $2, $3)`, p.ID, ph.Type, ph.Number); err != nil {
			return fmt.Errorf("save phone %q: %w", ph.Number, err)
		}
	}
	return nil
}

func saveSources(ctx context.Context, tx pgx.Tx, p *calore.Person) error {
	sources := make([]string, len(p.Sources))
	for i, src := range p.Sources {
		sources[i] = src.Source
	}
	if _, err := tx.Exec(ctx, `DELETE FROM person_sources WHERE person_id = $1 AND NOT source = ANY($2)`, p.ID, sources); err != nil {
		return fmt.Errorf("save sources: %w", err)
	}
	for _, src := range p.Sources {
		var seen *time.Time
		if !src.FirstSeenAt.IsZero() {
			seen = &src.FirstSeenAt
		}
		if _, err := tx.Exec(ctx, `INSERT INTO person_sources (person_id, source, first_seen_at) VALUES ($1, $2, coalesce($3, now()))
			ON CONFLICT (person_id, source) DO NOTHING`, p.ID, src.Source, seen); err != nil {
			return fmt.Errorf("save source %q: %w", src.Source, err)
		}
	}
	return nil
}

// loadPersonChildren reads the emails, phones and sources of ps and derives
// each preferred email.
func loadPersonChildren(ctx context.Context, db DB, ps []*calore.Person) error {
	byID := make(map[int64]*calore.Person, len(ps))
	ids := make([]int64, len(ps))
	for i, p := range ps {
		byID[p.ID], ids[i] = p, p.ID
		p.Emails, p.Phones, p.Sources = []calore.Email{}, []calore.Phone{}, []calore.PersonSource{}
	}
	rows, err := db.Query(ctx, `SELECT person_id, id, type, address, last_confirmed_at FROM person_emails WHERE person_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return fmt.Errorf("load emails: %w", err)
	}
	var pid int64
	var e calore.Email
	if _, err := pgx.ForEachRow(rows, []any{&pid, &e.ID, &e.Type, &e.Address, &e.LastConfirmedAt}, func() error {
		c := e
		if e.LastConfirmedAt != nil { // copy: the scan target is reused
			at := *e.LastConfirmedAt
			c.LastConfirmedAt = &at
		}
		byID[pid].Emails = append(byID[pid].Emails, c)
		return nil
	}); err != nil {
		return fmt.Errorf("load emails: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT person_id, id, type, number FROM person_phones WHERE person_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return fmt.Errorf("load phones: %w", err)
	}
	var ph calore.Phone
	if _, err := pgx.ForEachRow(rows, []any{&pid, &ph.ID, &ph.Type, &ph.Number}, func() error {
		byID[pid].Phones = append(byID[pid].Phones, ph)
		return nil
	}); err != nil {
		return fmt.Errorf("load phones: %w", err)
	}
	rows, err = db.Query(ctx, `SELECT person_id, source, first_seen_at FROM person_sources WHERE person_id = ANY($1) ORDER BY first_seen_at, source`, ids)
	if err != nil {
		return fmt.Errorf("load sources: %w", err)
	}
	var src calore.PersonSource
	if _, err := pgx.ForEachRow(rows, []any{&pid, &src.Source, &src.FirstSeenAt}, func() error {
		byID[pid].Sources = append(byID[pid].Sources, src)
		return nil
	}); err != nil {
		return fmt.Errorf("load sources: %w", err)
	}
	for _, p := range ps {
		p.PreferredEmail = calore.PreferredEmail(p.Emails)
	}
	return nil
}
