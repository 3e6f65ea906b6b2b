package scoring

import (
	"context"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func stepCounts(t *testing.T, segs []FunnelSegment, segment string) []int64 {
	t.Helper()
	for _, s := range segs {
		if s.Segment == segment {
			var out []int64
			for _, st := range s.Steps {
				out = append(out, st.Entered)
			}
			return out
		}
	}
	t.Fatalf("no segment %q in %+v", segment, segs)
	return nil
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFunnelsOnFixture checks the three funnels on hand-made entities whose
// path through the steps is known, including steps out of order (which do
// not count), entities outside the period and duplicated deliveries.
func TestFunnelsOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	f := &fixture{t: t, conn: conn}
	d := func(m, day int) time.Time { return time.Date(2025, time.Month(m), day, 10, 0, 0, 0, time.UTC) }
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	// student journey: 4 people in programme P; person 5 first contacted before the period
	var sid int64
	stage := func(person int64, name string, at time.Time, src string) {
		sid++
		f.change("journey_stage", sid, at, calore.JourneyStage{Meta: calore.Meta{ID: sid, Version: 1}, PersonID: person, Programme: "P", Stage: name, ReachedAt: at, Source: src})
	}
	for p := int64(1); p <= 5; p++ {
		f.person(p, calore.KindProspect, 0, "")
	}
	stage(1, calore.StageFirstContact, d(1, 1), "web")
	stage(1, calore.StageApplication, d(1, 3), "web") // 48 h later
	stage(1, calore.StageAdmission, d(2, 1), "web")
	stage(1, calore.StageEnrolment, d(3, 1), "web")
	stage(2, calore.StageFirstContact, d(1, 1), "web")
	stage(2, calore.StageApplication, d(1, 2), "web") // 24 h later
	stage(3, calore.StageFirstContact, d(1, 1), "fair")
	stage(3, calore.StageAdmission, d(2, 1), "fair") // admission without application: stops at step 1
	stage(4, calore.StageFirstContact, d(5, 1), "fair")
	stage(4, calore.StageApplication, d(4, 1), "fair") // application before first contact: does not count
	stage(5, calore.StageFirstContact, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), "web")
	stage(5, calore.StageApplication, d(1, 5), "web")

	// company lifecycle: organisation 1 all the way, 2 contacted only, 3 never contacted
	for o := int64(1); o <= 3; o++ {
		f.change("organisation", o, d(1, 1), calore.Organisation{Meta: calore.Meta{ID: o, Version: 1}, Kind: calore.OrgCompany, LegalName: "Org", SizeClass: "small", Status: calore.StatusActive})
	}
	partnership := func(id, org int64, version int, stageName string, at time.Time) {
		f.change("partnership", id, at, calore.Partnership{Meta: calore.Meta{ID: id, Version: version, UpdatedAt: at}, OrganisationID: org, Product: "x", Stage: stageName})
	}
	interaction := func(id, org int64, at time.Time) {
		f.change("interaction", id, at, calore.Interaction{Meta: calore.Meta{ID: id, Version: 1}, OrganisationID: &org, Channel: calore.ChannelMeeting, OccurredAt: at})
	}
	partnership(1, 1, 1, "prospect", d(2, 1))
	interaction(1, 1, d(1, 15)) // before the prospect: not the contact
	interaction(2, 1, d(2, 10))
	partnership(1, 1, 2, "negotiation", d(3, 1))
	partnership(1, 1, 3, "active", d(4, 1))
	partnership(2, 2, 1, "prospect", d(2, 1))
	interaction(3, 2, d(2, 2))
	partnership(3, 3, 1, "prospect", d(2, 1))

	// campaign: 3 sends; send 1 opened (human) and clicked, recipient registered
	// and attended; send 2 only a machine open; send 3 nothing
	f.change("campaign", 1, d(6, 1), calore.Campaign{Meta: calore.Meta{ID: 1, Version: 1}, Name: "Invito", Channel: "email", Status: "sent", SentAt: ptr(d(6, 1))})
	for s := int64(1); s <= 3; s++ {
		f.change("campaign_send", s, d(6, 1), calore.CampaignSend{Meta: calore.Meta{ID: s, Version: 1}, CampaignID: 1, PersonID: s, Status: "delivered", SentAt: ptr(d(6, 1))})
	}
	f.hit(calore.EventEmailOpen, d(6, 1).Add(2*time.Hour), calore.TrackingHit{ContactID: 1, CampaignID: 1, SendID: 1})
	f.hit(calore.EventEmailClick, d(6, 1).Add(3*time.Hour), calore.TrackingHit{ContactID: 1, CampaignID: 1, SendID: 1})
	f.hit(calore.EventEmailOpen, d(6, 1).Add(time.Minute), calore.TrackingHit{ContactID: 2, CampaignID: 1, SendID: 2, IsMachine: true, MachineReason: "apple-mpp"})
	f.change("registration", 1, d(6, 2), calore.Registration{Meta: calore.Meta{ID: 1, Version: 1}, EventID: 7, PersonID: 1, Status: calore.RegAttended, RegisteredAt: ptr(d(6, 2)), AttendedAt: ptr(d(6, 20))})
	f.rows = append(f.rows, f.rows...) // every change and hit delivered twice
	f.load()

	env := &Env{Warehouse: conn}
	tests := []struct {
		funnel, kind, segment string
		want                  []int64
	}{
		{"student_journey", "all", "all", []int64{4, 2, 1, 1}},
		{"student_journey", "source", "web", []int64{2, 2, 1, 1}},
		{"student_journey", "source", "fair", []int64{2, 0, 0, 0}},
		{"company_lifecycle", "all", "all", []int64{3, 2, 1, 1}},
		{"campaign", "all", "all", []int64{3, 1, 1, 1, 1}},
		{"campaign_raw", "all", "all", []int64{3, 2, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.funnel+"/"+tt.segment, func(t *testing.T) {
			def, err := FunnelByName(tt.funnel)
			if err != nil {
				t.Fatal(err)
			}
			segs, err := RunFunnel(ctx, env, def, []string{tt.kind}, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got := stepCounts(t, segs, tt.segment); !equal(got, tt.want) {
				t.Errorf("steps %v, want %v", got, tt.want)
			}
		})
	}
	// median time first contact → application: persons 1 (48 h) and 2 (24 h);
	// quantileExact takes the upper middle value of an even count → 48 h
	def, _ := FunnelByName("student_journey")
	segs, err := RunFunnel(ctx, env, def, []string{"all"}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if h := segs[0].Steps[1].MedianHours; h != 48 {
		t.Errorf("median hours to application = %v, want 48", h)
	}
	if c := segs[0].Steps[1].Conversion; c != 0.5 {
		t.Errorf("conversion to application = %v, want 0.5", c)
	}
	// several segment kinds in one query give what each gives alone
	both, err := RunFunnel(ctx, env, def, []string{"all", "source"}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(both) != 3 || !equal(stepCounts(t, both, "all"), []int64{4, 2, 1, 1}) || !equal(stepCounts(t, both, "fair"), []int64{2, 0, 0, 0}) {
		t.Errorf("all + source in one query: %+v", both)
	}
	if _, err := RunFunnel(ctx, env, def, []string{"shoe size"}, from, to); err == nil {
		t.Error("unknown segment kind accepted")
	}
}
