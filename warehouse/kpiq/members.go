package kpiq

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClusterMember is one organisation in the company clustering.
type ClusterMember struct {
	OrganisationID int64              `json:"organisation_id"`
	Cluster        int32              `json:"cluster"`
	Label          string             `json:"label"`
	X              float64            `json:"x"`
	Y              float64            `json:"y"`
	Features       map[string]float64 `json:"features"`
}

// ClusterMembers reads the company clustering of the day asOf (zero: the
// newest day), the newest computation of that day: the day, the model
// version and the members by organisation id. No clustering: "", "" and an
// empty list.
func ClusterMembers(ctx context.Context, conn driver.Conn, asOf time.Time) (string, string, []ClusterMember, error) {
	if asOf.IsZero() {
		asOf = time.Unix(0, 0).UTC()
	}
	var out []ClusterMember
	var version string
	var day time.Time
	err := scan(ctx, conn, "company clusters", queries.Get("cluster_members.sql"), []any{asOf, asOf}, func(rows driver.Rows) error {
		var m ClusterMember
		var feats string
		if err := rows.Scan(&m.OrganisationID, &m.Cluster, &m.Label, &m.X, &m.Y, &feats, &version, &day); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(feats), &m.Features); err != nil {
			return fmt.Errorf("features of organisation %d: %w", m.OrganisationID, err)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return "", "", nil, err
	}
	if len(out) == 0 {
		return "", "", []ClusterMember{}, nil
	}
	return day.Format(time.DateOnly), version, out, nil
}
