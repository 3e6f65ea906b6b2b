package erasure

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	cols := map[string][]string{
		"change_log":           {"aggregate_id", "payload"},
		"dim_people":           {"id", "payload"},
		"dim_organisations":    {"id", "payload"},
		"fact_donations":       {"id", "payload", "person_id"},
		"fact_sends":           {"id", "payload", "person_id"},
		"tracking_events":      {"contact_id"},
		"erasures":             {"person_id"},
		"synthetic_propensity": {"person_id"},
	}
	got := map[string]string{}
	for _, tg := range plan("wh", cols, []int64{42, 7}) {
		label := tg.Table
		if tg.Label != "" {
			label = tg.Label
		}
		got[label] = tg.alterSQL()
	}
	for _, c := range []struct{ table, want string }{
		{"dim_people", "ALTER TABLE `wh`.`dim_people` DELETE WHERE id IN (42, 7)"},
		{"fact_sends", "ALTER TABLE `wh`.`fact_sends` DELETE WHERE person_id IN (42, 7)"},
		{"synthetic_propensity", "ALTER TABLE `wh`.`synthetic_propensity` DELETE WHERE person_id IN (42, 7)"},
		{"tracking_events", "ALTER TABLE `wh`.`tracking_events` DELETE WHERE contact_id IN (42, 7)"},
	} {
		if got[c.table] != c.want {
			t.Errorf("%s: %q, want %q", c.table, got[c.table], c.want)
		}
	}
	if s := got["fact_donations"]; !strings.HasPrefix(s, "ALTER TABLE `wh`.`fact_donations` UPDATE person_id = 0, payload = ") || !strings.HasSuffix(s, "WHERE person_id IN (42, 7)") {
		t.Errorf("fact_donations: %s", s)
	}
	if s := got["change_log"]; !strings.Contains(s, "aggregate_id IN ('42', '7')") || !strings.Contains(s, "visitParamExtractInt(payload, 'contact_id') IN (42, 7)") {
		t.Errorf("change_log: %s", s)
	}
	if _, ok := got["change_log (mentions)"]; !ok {
		t.Error("no update of the change log's mentions")
	}
	for _, skip := range []string{"erasures", "dim_organisations"} {
		if _, ok := got[skip]; ok {
			t.Errorf("%s is erased from", skip)
		}
	}
}
