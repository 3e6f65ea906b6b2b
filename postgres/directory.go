package postgres

// The staff workspace's directory: one search over people and organisations
// (package workspace). The text matches a transliterated name key (any
// script, R4.3), an email address, a phone number, a VAT number or a tax
// code; the filters and the keyset bound are bind parameters, the column
// names constants.

import (
	"context"
	"fmt"
	"strings"
)

// Directory entities.
const (
	EntityPerson       = "person"
	EntityOrganisation = "organisation"
)

// DirectoryQuery is one page of the directory. People come before
// organisations; within each, in id order. Person-only filters (PersonKind,
// Heat, Tier, Cohort) leave organisations out.
type DirectoryQuery struct {
	Text       string // free text: name (any script), email, phone, VAT, tax code
	Entity     string // "", EntityPerson or EntityOrganisation
	PersonKind string // people.kind
	Heat       int    // 1-4, 0: any
	Tier       string // A-D, "": any
	Cohort     int    // graduation decade, e.g. 1990; 0: any
	Country    string // ISO 3166-1 alpha-2
	After      DirectoryCursor
	Limit      int // default 100, at most 1000
}

// DirectoryCursor is the last entry of the previous page.
type DirectoryCursor struct {
	Entity string
	ID     int64
}

// DirectoryEntry is one result.
type DirectoryEntry struct {
	Entity    string // EntityPerson or EntityOrganisation
	ID        int64
	Name      string // as written
	NameASCII string // transliterated
	Kind      string // person or organisation kind
	Country   string
	City      string
	Email     string // a person's preferred email
	Year      *int   // a person's graduation year
	Heat      *int
	Tier      string
}

// nameKey is text as a name key: lower-case ASCII letters and digits, words
// one space apart (as people.name_key and organisations.name_key).
func nameKey(text string) string {
	k := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == ' ':
			return r
		}
		return ' '
	}, strings.ToLower(ASCII(text)))
	return strings.Join(strings.Fields(k), " ")
}

// digits keeps the digits and a leading plus of a phone number, as
// person_phones.number_norm does.
func digits(text string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, text)
}

func (q DirectoryQuery) personOnly() bool {
	return q.PersonKind != "" || q.Heat != 0 || q.Tier != "" || q.Cohort != 0
}

// toSQL returns the query and its arguments.
func (q DirectoryQuery) toSQL() (string, []any) {
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	text := strings.TrimSpace(q.Text)
	key, num, low := nameKey(text), digits(text), strings.ToLower(text)
	var parts []string
	if q.Entity != EntityOrganisation {
		conds := []string{"p.status = 'active'"}
		if text != "" {
			or := []string{}
			if key != "" {
				or = append(or, "p.name_key LIKE '%' || "+arg(likeEscape.Replace(key))+" || '%'")
			}
			or = append(or, "EXISTS (SELECT 1 FROM person_emails e WHERE e.person_id = p.id AND e.address_norm = "+arg(low)+")")
			if len(num) >= 6 {
				or = append(or, "EXISTS (SELECT 1 FROM person_phones f WHERE f.person_id = p.id AND f.number_norm IN ("+arg(num)+", '+39' || "+arg(num)+"))")
			}
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		}
		if q.PersonKind != "" {
			conds = append(conds, "p.kind = "+arg(q.PersonKind))
		}
		if q.Heat != 0 {
			conds = append(conds, "s.heat_level = "+arg(q.Heat))
		}
		if q.Tier != "" {
			conds = append(conds, "s.donor_tier = "+arg(q.Tier))
		}
		if q.Cohort != 0 {
			c := q.Cohort - q.Cohort%10
			conds = append(conds, "p.graduation_year BETWEEN "+arg(c)+" AND "+arg(c+9))
		}
		if q.Country != "" {
			conds = append(conds, "p.country = "+arg(strings.ToUpper(q.Country)))
		}
		if q.After.Entity == EntityPerson {
			conds = append(conds, "p.id > "+arg(q.After.ID))
		} else if q.After.Entity == EntityOrganisation {
			conds = append(conds, "false")
		}
		parts = append(parts, `(SELECT 0 AS rank, 'person' AS entity, p.id, btrim(p.first_name || ' ' || p.last_name) AS name,
		        btrim(p.first_name_ascii || ' ' || p.last_name_ascii) AS name_ascii, p.kind, p.country, p.city,
		        coalesce(pe.address, '') AS email, p.graduation_year AS year, s.heat_level AS heat, coalesce(s.donor_tier, '') AS tier
		   FROM people p
		   LEFT JOIN person_preferred_email pe ON pe.person_id = p.id
		   LEFT JOIN person_scores s ON s.person_id = p.id
		  WHERE `+strings.Join(conds, " AND ")+`
		  ORDER BY p.id LIMIT `+fmt.Sprint(Filter{Limit: q.Limit}.limit())+`)`)
	}
	if q.Entity != EntityPerson && !q.personOnly() {
		conds := []string{"o.status <> 'duplicate'"}
		if text != "" {
			or := []string{}
			if key != "" {
				or = append(or, "o.name_key LIKE '%' || "+arg(likeEscape.Replace(key))+" || '%'")
			}
			if v := strings.ToUpper(strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
					return r
				}
				return -1
			}, text)); len(v) >= 5 {
				or = append(or, "o.vat_norm = "+arg(v), "upper(o.tax_code) = "+arg(v))
			}
			if len(or) == 0 {
				or = append(or, "false")
			}
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		}
		if q.Country != "" {
			conds = append(conds, "o.country = "+arg(strings.ToUpper(q.Country)))
		}
		if q.After.Entity == EntityOrganisation {
			conds = append(conds, "o.id > "+arg(q.After.ID))
		}
		parts = append(parts, `(SELECT 1 AS rank, 'organisation' AS entity, o.id, o.legal_name AS name, o.legal_name_ascii AS name_ascii,
		        o.kind, o.country, o.city, '' AS email, NULL::integer AS year, NULL::integer AS heat, '' AS tier
		   FROM organisations o
		  WHERE `+strings.Join(conds, " AND ")+`
		  ORDER BY o.id LIMIT `+fmt.Sprint(Filter{Limit: q.Limit}.limit())+`)`)
	}
	if len(parts) == 0 {
		return "SELECT 0, '', 0::bigint, '', '', '', '', '', '', NULL::integer, NULL::integer, '' WHERE false", nil
	}
	return "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") d ORDER BY rank, id LIMIT " + fmt.Sprint(Filter{Limit: q.Limit}.limit()), args
}

// Directory returns a page of the directory. Merged people and
// organisations are left out (their winner is found).
func (s *Store) Directory(ctx context.Context, q DirectoryQuery) ([]DirectoryEntry, error) {
	sql, args := q.toSQL()
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("directory search: %w", translate(err))
	}
	defer rows.Close()
	out := []DirectoryEntry{}
	for rows.Next() {
		var e DirectoryEntry
		var rank int
		if err := rows.Scan(&rank, &e.Entity, &e.ID, &e.Name, &e.NameASCII, &e.Kind, &e.Country, &e.City, &e.Email, &e.Year, &e.Heat, &e.Tier); err != nil {
			return nil, fmt.Errorf("directory search: %w", err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "directory search")
}

// OrganisationCluster is an organisation's latest cluster as `calore score`
// stored it.
type OrganisationCluster struct {
	Cluster int
	Label   string
	Model   string
	AsOf    string
}

// ClusterOf returns an organisation's cluster; nil when it was never scored.
func (s *Store) ClusterOf(ctx context.Context, organisationID int64) (*OrganisationCluster, error) {
	rows, err := s.db.Query(ctx, `SELECT cluster, label, model, as_of::text FROM organisation_clusters WHERE organisation_id = $1`, organisationID)
	if err != nil {
		return nil, fmt.Errorf("cluster of organisation %d: %w", organisationID, translate(err))
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, wrap(rows.Err(), "cluster of organisation %d", organisationID)
	}
	var c OrganisationCluster
	if err := rows.Scan(&c.Cluster, &c.Label, &c.Model, &c.AsOf); err != nil {
		return nil, fmt.Errorf("cluster of organisation %d: %w", organisationID, err)
	}
	return &c, nil
}
