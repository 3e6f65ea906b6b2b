package warehouse

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed queries/person_timeline.sql
var personTimelineSQL string

// PersonEvent is one warehouse event of a person: a campaign send ("send",
// with its status), an email open ("open"), a link click ("click") or a web
// visit ("pageview"). Machine hits (mail scanners, prefetch) are flagged.
type PersonEvent struct {
	At         time.Time
	Kind       string
	CampaignID int64
	Status     string
	URL        string
	Machine    bool
}

// PersonTimeline returns a person's latest warehouse events, newest first,
// at most limit.
func PersonTimeline(ctx context.Context, conn driver.Conn, personID int64, limit int) ([]PersonEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := conn.Query(ctx, personTimelineSQL, personID, personID, uint64(limit))
	if err != nil {
		return nil, fmt.Errorf("timeline of person %d: %w", personID, err)
	}
	defer rows.Close()
	out := []PersonEvent{}
	for rows.Next() {
		var e PersonEvent
		var machine uint8
		if err := rows.Scan(&e.At, &e.Kind, &e.CampaignID, &e.Status, &e.URL, &machine); err != nil {
			return nil, fmt.Errorf("timeline of person %d: %w", personID, err)
		}
		e.Machine = machine != 0
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("timeline of person %d: %w", personID, err)
	}
	return out, nil
}

// Timeline reads people's warehouse events through one connection (the
// staff workspace's dependency).
type Timeline struct{ Conn driver.Conn }

// PersonEvents is PersonTimeline on t's connection.
func (t Timeline) PersonEvents(ctx context.Context, personID int64, limit int) ([]PersonEvent, error) {
	return PersonTimeline(ctx, t.Conn, personID, limit)
}
