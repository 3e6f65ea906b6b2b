package importer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest/importer"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestImportActivities imports events, registrations, donations,
// interactions and journey stages against people and an organisation already
// in the store: rows naming unknown people or events are conflicts, bad
// values are named, every created record has its outbox event (decoding into
// its calore type), and a second run changes nothing.
func TestImportActivities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	mustRun(t, pool, "people.csv", []byte("Nome;Cognome;Email\nMario;Rossi;mario@example.com\nAnna;Bianchi;anna@example.com\nLuca;Neri;\n"), importer.Options{Kind: importer.Contacts})
	mustRun(t, pool, "orgs.csv", []byte("Ragione sociale;Partita IVA\nACME S.p.A.;IT01234567890\n"), importer.Options{Kind: importer.Organisations})

	tests := []struct {
		kind                 importer.Kind
		file                 string
		source               string
		wantCreated, wantBad int
		wantConflicts        []string
		aggregate            string
		decode               any
		check                string // SQL returning one text, compared with want
		want                 string
	}{
		{importer.Events, "Evento;Data;Fine;Luogo;Capienza;Online\n" +
			"Open Day Ingegneria;15/03/2026 10:00;15/03/2026 13:00;Campus Leonardo;500;no\n" +
			"Gala Alumni;2026-05-20 19:30;;Milano;;\n" +
			";2026-01-01;;x;;\n" +
			"Rovescio;2026-01-02 10:00;2026-01-01 10:00;;;\n" +
			"Gala Alumni;20/05/2026 19:30;;Milano;;\n",
			"", 2, 2, []string{"row 6: same event as row 3"}, "event", &calore.CalendarEvent{},
			`SELECT string_agg(name || '@' || to_char(starts_at AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD HH24:MI') || ' cap ' || coalesce(capacity::text, '-'), ', ' ORDER BY starts_at) FROM events`,
			"Open Day Ingegneria@2026-03-15 10:00 cap 500, Gala Alumni@2026-05-20 19:30 cap -"},
		{importer.Registrations, "Email;Nome;Cognome;Evento;Data evento;Stato;VIP\n" +
			"mario@example.com;;;Open Day Ingegneria;15/03/2026;presente;\n" +
			";Anna;Bianchi;open day ingegneria;;iscritta;sì\n" +
			"nobody@example.com;;;Open Day Ingegneria;;iscritto;\n" +
			"mario@example.com;;;Evento Inesistente;;;\n" +
			"luca@example.com;Luca;Neri;Gala Alumni;;invitato;\n",
			"open-day-app", 3, 0, []string{"row 4: no person with email nobody@example.com", "row 5: no event Evento Inesistente"}, "registration", &calore.Registration{},
			`SELECT string_agg(p.first_name || ':' || r.status || ':' || r.source || ':' || r.is_vip, ', ' ORDER BY p.first_name) FROM registrations r JOIN people p ON p.id = r.person_id`,
			"Anna:registered:open-day-app:true, Luca:invited:open-day-app:false, Mario:attended:open-day-app:false"},
		{importer.Donations, "Email;Importo;Data;Finalità;Valuta;Partita IVA\n" +
			"mario@example.com;1.000,00;01/02/2026;borsa di studio;;\n" +
			"anna@example.com;50;2026-02-03;;usd;\n" +
			";25000;2026-02-04;progetto di ricerca;;IT 01234567890\n" +
			"anna@example.com;0;2026-02-05;;;\n" +
			"anna@example.com;10;2026-02-05;;EURO;\n",
			"", 3, 2, nil, "donation", &calore.Donation{},
			`SELECT string_agg(amount || ' ' || currency || ' ' || purpose || ' ' || coalesce(person_id::text, 'org ' || organisation_id), ', ' ORDER BY amount) FROM donations`,
			"50.00 USD general 2, 1000.00 EUR scholarship 1, 25000.00 EUR research_project org 1"},
		{importer.Interactions, "Email;Canale;Data;Oggetto;Ragione sociale;Direzione\n" +
			"mario@example.com;telefonata;2026-03-01 10:00;Follow-up;;uscita\n" +
			";incontro;2026-03-02 11:00;Visita;ACME SpA;\n" +
			"anna@example.com;piccione;2026-03-03;;;\n" +
			";nota;2026-03-04;;Sconosciuta srl;\n",
			"", 2, 1, []string{"row 5: no organisation Sconosciuta srl"}, "interaction", &calore.Interaction{},
			`SELECT string_agg(channel || ':' || direction || ':' || coalesce(person_id::text, '-') || ':' || coalesce(organisation_id::text, '-'), ', ' ORDER BY occurred_at) FROM interactions`,
			"phone:outbound:1:-, meeting::-:1"},
		{importer.Journey, "Email;Corso di laurea;Fase;Data;Canale\n" +
			"mario@example.com;Ingegneria Informatica;candidatura;2026-01-10;open day\n" +
			"mario@example.com;Ingegneria Informatica;immatricolazione;2026-09-01;\n" +
			"anna@example.com;Design;laureata;2026-09-01;\n",
			"portale", 2, 1, nil, "journey_stage", &calore.JourneyStage{},
			`SELECT string_agg(programme || ':' || stage || ':' || touchpoint || ':' || source, ', ' ORDER BY reached_at) FROM journey_stages`,
			"Ingegneria Informatica:application:open day:portale, Ingegneria Informatica:enrolment::portale"},
	}
	// in order: registrations need the events
	for _, tt := range tests {
		opts := importer.Options{Kind: tt.kind, Source: tt.source}
		rep := mustRun(t, pool, string(tt.kind)+".csv", []byte(tt.file), opts)
		if rep.Created != tt.wantCreated || len(rep.Errors) != tt.wantBad || len(rep.Conflicts) != len(tt.wantConflicts) {
			t.Errorf("%s: created %d bad %d conflicts %d, want %d %d %d\n%s%s", tt.kind, rep.Created, len(rep.Errors), len(rep.Conflicts),
				tt.wantCreated, tt.wantBad, len(tt.wantConflicts), errorLines(rep.Errors), errorLines(rep.Conflicts))
		}
		for i, w := range tt.wantConflicts {
			if i < len(rep.Conflicts) && !strings.HasPrefix(rep.Conflicts[i].String(), w) {
				t.Errorf("%s: conflict %q, want %q…", tt.kind, rep.Conflicts[i], w)
			}
		}
		if got := text(t, pool, tt.check); got != tt.want {
			t.Errorf("%s: %s\n got %q\nwant %q", tt.kind, tt.check, got, tt.want)
		}
		if n := count(t, pool, `SELECT count(*) FROM outbox WHERE aggregate_type = $1 AND event_type = $1 || '.created'`, tt.aggregate); n != tt.wantCreated {
			t.Errorf("%s: %d %s.created events, want %d", tt.kind, n, tt.aggregate, tt.wantCreated)
		}
		var payload []byte
		if err := pool.QueryRow(ctx, `SELECT payload FROM outbox WHERE aggregate_type = $1 ORDER BY id LIMIT 1`, tt.aggregate).Scan(&payload); err != nil {
			t.Fatalf("%s: %v", tt.kind, err)
		}
		if err := json.Unmarshal(payload, tt.decode); err != nil {
			t.Errorf("%s: payload does not decode into %T: %v\n%s", tt.kind, tt.decode, err, payload)
		}
		again := mustRun(t, pool, string(tt.kind)+".csv", []byte(tt.file), opts)
		if again.Created != 0 || again.Updated != 0 || again.Unchanged != tt.wantCreated {
			t.Errorf("%s second run: created %d updated %d unchanged %d, want 0 0 %d", tt.kind, again.Created, again.Updated, again.Unchanged, tt.wantCreated)
		}
	}

	// a registration's status overwritten by a later file
	pol, err := importer.ParsePolicies(mustSpec(t, importer.Registrations), "status=overwrite")
	if err != nil {
		t.Fatal(err)
	}
	rep := mustRun(t, pool, "checkin.csv", []byte("Nome;Cognome;Evento;Stato\nLuca;Neri;Gala Alumni;presente\n"), importer.Options{Kind: importer.Registrations, Policies: pol})
	if rep.Updated != 1 || text(t, pool, `SELECT r.status FROM registrations r JOIN people p ON p.id = r.person_id WHERE p.first_name = 'Luca'`) != "attended" {
		t.Errorf("check-in: %+v", rep)
	}
	if n := count(t, pool, `SELECT count(*) FROM outbox WHERE event_type = 'registration.updated'`); n != 1 {
		t.Errorf("%d registration.updated events, want 1", n)
	}
}
