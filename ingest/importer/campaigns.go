package importer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/postgres"
)

// CampaignActivity imports an email tool's export of a campaign's history:
// one row per recipient event (sent, delivered, open, click, bounce,
// unsubscribe). The campaigns and their sends are written to the store
// (created when missing, so their ids are the store's); the opens and clicks
// come back in Report.Hits for the caller to produce as tracking events,
// the shape live tracking gives them (docs/import.md).
const CampaignActivity Kind = "campaign-activity"

// Actions of a campaign activity row.
const (
	ActionSent        = "sent"
	ActionDelivered   = "delivered"
	ActionOpen        = "open"
	ActionClick       = "click"
	ActionBounce      = "bounce"
	ActionUnsubscribe = "unsubscribe"
)

// The header synonyms cover the exports of widely used tools: Mailchimp
// (Email Address, Campaign Title, Subject Line, Action, Timestamp, URL),
// Brevo/Sendinblue (Email, Campaign name, Event, Date, Link), MailUp in
// Italian (Email, Messaggio, Oggetto, Tipo evento, Data, URL), and plain
// English and Italian names; a mapping file covers the rest.
var campaignActivitySpec = Spec{Kind: CampaignActivity, Fields: fields(who, []Field{
	{Name: "campaign", Type: TypeText, Synonyms: []string{"campaign", "campaign name", "campaign title", "campagna", "nome campagna", "titolo campagna", "messaggio", "nome messaggio", "newsletter", "mailing", "invio"}},
	{Name: "campaign_source_id", Type: TypeText, Synonyms: append([]string{"campaign id", "id messaggio", "message id", "mailing id", "codice invio"}, campaignCodeSynonyms...)},
	{Name: "subject", Type: TypeText, Synonyms: []string{"subject", "subject line", "oggetto", "oggetto email", "oggetto messaggio"}},
	{Name: "action", Type: TypeEnum, Values: []string{ActionSent, ActionDelivered, ActionOpen, ActionClick, ActionBounce, ActionUnsubscribe}, Aliases: map[string]string{
		"send": "sent", "request": "sent", "requests": "sent", "inviata": "sent", "inviato": "sent", "invio": "sent", "spedita": "sent", "spedito": "sent",
		"delivered": "delivered", "delivery": "delivered", "consegnata": "delivered", "consegnato": "delivered", "recapitata": "delivered", "recapitato": "delivered",
		"opened": "open", "opens": "open", "open": "open", "unique opened": "open", "first opening": "open", "aperta": "open", "aperto": "open", "apertura": "open", "letta": "open", "letto": "open",
		"clicked": "click", "clicks": "click", "click": "click", "clic": "click", "cliccato": "click", "cliccata": "click", "clic su link": "click", "link cliccato": "click",
		"bounced": "bounce", "bounces": "bounce", "hard bounce": "bounce", "soft bounce": "bounce", "hardbounce": "bounce", "softbounce": "bounce",
		"hard bounces": "bounce", "soft bounces": "bounce", "hardbounces": "bounce", "softbounces": "bounce", "deferred": "bounce", "rifiutata": "bounce",
		"rimbalzo": "bounce", "rimbalzata": "bounce", "rimbalzato": "bounce", "non consegnata": "bounce", "errore": "bounce", "blocked": "bounce", "invalid": "bounce",
		"unsubscribed": "unsubscribe", "unsub": "unsubscribe", "unsubscribes": "unsubscribe", "opt out": "unsubscribe", "optout": "unsubscribe",
		"disiscrizione": "unsubscribe", "disiscritto": "unsubscribe", "disiscritta": "unsubscribe", "cancellazione": "unsubscribe", "cancellato": "unsubscribe"},
		Synonyms: []string{"action", "activity", "event", "event type", "type", "azione", "evento", "tipo evento", "attivita", "tipo"}},
	{Name: "at", Type: TypeTime, Synonyms: []string{"timestamp", "date", "time", "event date", "event time", "datetime", "date time", "data", "data ora", "data evento", "ora", "quando"}},
	{Name: "url", Type: TypeText, Synonyms: []string{"url", "link", "clicked url", "clicked link", "link url", "link cliccato", "collegamento"}},
	{Name: "sent_at", Type: TypeTime, Synonyms: []string{"send time", "send date", "sent at", "sent date", "data invio", "data spedizione"}},
})}

// Hit is one historic open or click, with the store's ids, for the caller
// to produce as an email.open or email.click tracking event.
type Hit struct {
	Type       string // calore.EventEmailOpen or calore.EventEmailClick
	PersonID   int64
	CampaignID int64
	SendID     int64
	URL        string
	At         time.Time
	SentAt     time.Time // the send's time, zero when unknown: the fast-open and fast-click rules measure from it
}

type campaignMerger struct {
	opts  Options
	match map[string]bool
}

func newCampaignMerger(opts Options) (*campaignMerger, error) {
	match, err := matchSet(opts.Match, "source_id", "email", "name")
	if err != nil {
		return nil, err
	}
	return &campaignMerger{opts: opts, match: match}, nil
}

func (m *campaignMerger) merge(ctx context.Context, tx pgx.Tx, logger *slog.Logger) (mergeResult, error) {
	st, src := stageTable, m.opts.Source
	steps := []step{
		{what: "reference columns", sql: `ALTER TABLE ` + st + ` ADD COLUMN person_id bigint, ADD COLUMN campaign_id bigint, ADD COLUMN send_id bigint`},
		{what: "default action", sql: `UPDATE ` + st + ` SET action = 'sent' WHERE action IS NULL`},
	}
	steps = append(steps, personSteps(m.match, src, true)...)
	if m.match["source_id"] {
		steps = append(steps, refByCode("campaigns", "campaign_id", "campaign_source_id", "campaigns have", src))
	}
	steps = append(steps,
		step{what: "find campaigns", sql: `UPDATE ` + st + ` s
			SET campaign_id = CASE WHEN m.n = 1 THEN m.cid END,
			    conflict = CASE WHEN m.n > 1 THEN format('%s campaigns are called %s (ids %s): give the campaign code', m.n, s.campaign, m.ids) END
			FROM (SELECT s.row_no, min(c.id) AS cid, count(*) AS n, array_to_string((array_agg(c.id ORDER BY c.id))[1:5], ', ') AS ids
			        FROM ` + st + ` s JOIN campaigns c ON lower(c.name) = lower(s.campaign)
			       WHERE s.conflict IS NULL AND s.campaign_id IS NULL AND s.campaign_source_id IS NULL GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no AND s.conflict IS NULL`},
		// campaigns the store does not have yet: one per code, or per name
		step{what: "new campaigns", sql: `CREATE TEMP TABLE import_campaigns ON COMMIT DROP AS
			SELECT nextval(pg_get_serial_sequence('campaigns', 'id')) AS id, k.* FROM (
			  SELECT coalesce(campaign_source_id, '') AS code, CASE WHEN campaign_source_id IS NULL THEN lower(campaign) END AS lname,
			         coalesce(min(campaign), min(campaign_source_id)) AS name, coalesce(min(subject), '') AS subject,
			         coalesce(min(sent_at), min(at) FILTER (WHERE action IN ('sent', 'delivered', 'bounce')), min(at)) AS sent_at
			    FROM ` + st + ` WHERE campaign_id IS NULL AND conflict IS NULL
			   GROUP BY 1, 2 ORDER BY min(row_no)) k`},
		step{what: "insert campaigns", args: []any{src}, sql: `INSERT INTO campaigns (id, name, channel, status, subject, sent_at, source, source_id) OVERRIDING SYSTEM VALUE
			SELECT id, name, 'email', 'sent', subject, sent_at, CASE WHEN code = '' THEN '' ELSE $1 END, code FROM import_campaigns ORDER BY id`},
		step{what: "link new campaigns", sql: `UPDATE ` + st + ` s SET campaign_id = c.id FROM import_campaigns c
			WHERE s.campaign_id IS NULL AND s.conflict IS NULL
			  AND ((c.code <> '' AND c.code = s.campaign_source_id) OR (c.code = '' AND s.campaign_source_id IS NULL AND c.lname = lower(s.campaign)))`},
		// one send per campaign and person, with what the rows say happened
		step{what: "sends", sql: `CREATE TEMP TABLE import_sends ON COMMIT DROP AS
			SELECT s.campaign_id, s.person_id, NULL::bigint AS id, false AS is_new, min(s.email) AS address,
			       coalesce(min(s.sent_at), min(s.at) FILTER (WHERE s.action IN ('sent', 'delivered', 'bounce')), c.sent_at) AS sent_at,
			       min(s.at) FILTER (WHERE s.action = 'open') AS opened_at,
			       min(s.at) FILTER (WHERE s.action = 'click') AS clicked_at,
			       CASE WHEN bool_or(s.action = 'bounce') THEN 'bounced'
			            WHEN bool_or(s.action IN ('delivered', 'open', 'click', 'unsubscribe')) THEN 'delivered' ELSE 'sent' END AS status
			  FROM ` + st + ` s JOIN campaigns c ON c.id = s.campaign_id
			 WHERE s.conflict IS NULL GROUP BY s.campaign_id, s.person_id, c.sent_at`},
		step{what: "match sends", sql: `UPDATE import_sends n SET id = t.id FROM campaign_sends t WHERE t.campaign_id = n.campaign_id AND t.person_id = n.person_id`},
		step{what: "draw send ids", sql: `UPDATE import_sends SET is_new = true, id = nextval(pg_get_serial_sequence('campaign_sends', 'id')) WHERE id IS NULL`},
		step{what: "insert sends", sql: `INSERT INTO campaign_sends (id, campaign_id, person_id, address, status, sent_at, opened_at, clicked_at) OVERRIDING SYSTEM VALUE
			SELECT id, campaign_id, person_id, coalesce(address, ''), status, sent_at, opened_at, clicked_at FROM import_sends WHERE is_new ORDER BY id`},
		step{what: "changed set", sql: `CREATE TEMP TABLE import_changed (id bigint PRIMARY KEY, fields boolean NOT NULL) ON COMMIT DROP`},
		// history only adds: the first open and click stay the first, a bounce stays
		step{what: "update sends", sql: `WITH u AS (
			UPDATE campaign_sends t SET sent_at = least(t.sent_at, n.sent_at), opened_at = least(t.opened_at, n.opened_at),
			       clicked_at = least(t.clicked_at, n.clicked_at),
			       status = CASE WHEN 'bounced' IN (t.status, n.status) THEN 'bounced'
			                     WHEN n.status = 'delivered' AND t.status IN ('queued', 'sent') THEN 'delivered' ELSE t.status END,
			       version = t.version + 1, updated_at = now()
			  FROM import_sends n
			 WHERE n.id = t.id AND NOT n.is_new
			   AND (t.sent_at, t.opened_at, t.clicked_at, t.status) IS DISTINCT FROM
			       (least(t.sent_at, n.sent_at), least(t.opened_at, n.opened_at), least(t.clicked_at, n.clicked_at),
			        CASE WHEN 'bounced' IN (t.status, n.status) THEN 'bounced'
			             WHEN n.status = 'delivered' AND t.status IN ('queued', 'sent') THEN 'delivered' ELSE t.status END)
			RETURNING t.id)
			INSERT INTO import_changed SELECT id, true FROM u`},
		step{what: "link sends", sql: `UPDATE ` + st + ` s SET send_id = n.id FROM import_sends n WHERE n.campaign_id = s.campaign_id AND n.person_id = s.person_id AND s.conflict IS NULL`},
		// an unsubscribe withdraws the newsletter consent, as of its time
		step{what: "unsubscribes", args: []any{src}, sql: `CREATE TEMP TABLE import_consents ON COMMIT DROP AS
			WITH ins AS (
			INSERT INTO consents (person_id, purpose, granted, source, recorded_at)
			SELECT DISTINCT s.person_id, 'newsletter', false, $1, s.at FROM ` + st + ` s
			 WHERE s.conflict IS NULL AND s.action = 'unsubscribe' AND s.at IS NOT NULL
			   AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.person_id = s.person_id AND c.purpose = 'newsletter' AND NOT c.granted AND c.recorded_at = s.at)
			RETURNING id) SELECT id FROM ins`},
	)
	if err := exec(ctx, tx, logger, steps...); err != nil {
		return mergeResult{}, err
	}
	var r mergeResult
	for _, c := range []struct {
		aggregate, created, updated string
	}{
		{"campaign", `SELECT id FROM import_campaigns ORDER BY id`, ""},
		{"campaign_send", `SELECT id FROM import_sends WHERE is_new ORDER BY id`, `SELECT id FROM import_changed ORDER BY id`},
		{"consent", `SELECT id FROM import_consents ORDER BY id`, ""},
	} {
		ch := postgres.Changed{Aggregate: c.aggregate}
		var err error
		if ch.Created, err = ids(ctx, tx, c.created); err != nil {
			return r, err
		}
		if c.updated != "" {
			if ch.Updated, err = ids(ctx, tx, c.updated); err != nil {
				return r, err
			}
		}
		n, err := postgres.Emit(ctx, tx, ch)
		if err != nil {
			return r, fmt.Errorf("write outbox: %w", err)
		}
		r.events += n
		switch c.aggregate {
		case "campaign":
			r.campaigns = len(ch.Created)
		case "campaign_send":
			r.created, r.updated = len(ch.Created), len(ch.Updated)
		case "consent":
			r.consents = len(ch.Created)
		}
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_sends WHERE NOT is_new AND id NOT IN (SELECT id FROM import_changed)`).Scan(&r.unchanged); err != nil {
		return r, fmt.Errorf("count unchanged sends: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT s.action, s.person_id, s.campaign_id, s.send_id, coalesce(s.url, ''), s.at, n.sent_at
		FROM `+st+` s JOIN import_sends n ON n.id = s.send_id
		WHERE s.conflict IS NULL AND s.action IN ('open', 'click') AND s.at IS NOT NULL ORDER BY s.at, s.row_no`)
	if err != nil {
		return r, fmt.Errorf("read hits: %w", err)
	}
	var h Hit
	var action string
	var sentAt *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&action, &h.PersonID, &h.CampaignID, &h.SendID, &h.URL, &h.At, &sentAt}, func() error {
		h.Type, h.SentAt = "email."+action, time.Time{}
		if sentAt != nil {
			h.SentAt = *sentAt
		}
		r.hits = append(r.hits, h)
		return nil
	}); err != nil {
		return r, fmt.Errorf("read hits: %w", err)
	}
	r.conflicts, err = conflicts(ctx, tx)
	return r, err
}

// ids reads a column of ids.
func ids(ctx context.Context, tx pgx.Tx, q string) ([]int64, error) {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read ids: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("read ids: %w", err)
	}
	return out, nil
}
