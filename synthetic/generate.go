package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/calore-crm/calore"
)

// Dataset is the synthetic university's records. IDs are assigned by the
// generator, from 1 per kind of record, so loaders can keep references.
type Dataset struct {
	Scale          Scale
	Seed           uint64
	Organisations  []calore.Organisation
	People         []calore.Person
	Affiliations   []calore.Affiliation
	Series         []calore.EventSeries
	Events         []calore.CalendarEvent
	Registrations  []calore.Registration
	Campaigns      []calore.Campaign
	Donations      []calore.Donation
	Interactions   []calore.Interaction
	Journey        []calore.JourneyStage
	Collaborations []calore.Collaboration
	Partnerships   []PartnershipHistory
	Contracts      []calore.ResearchContract
	Truth          []Truth
	Archetype      map[int64]string // organisation id → the archetype it was drawn from (for checking clusters)
}

// PartnershipHistory is a partnership with the successive states it went
// through (prospect → negotiation → active …); loaders emit one change per
// state, so funnels can read when each stage was reached.
type PartnershipHistory struct {
	States []calore.Partnership // same ID, increasing Version and UpdatedAt
}

// Truth is the giving model's true probability for one alumnus and year, and
// what happened. Gave is meaningful only when Known (years before AsOf).
type Truth struct {
	PersonID   int64
	Year       int
	Propensity float64
	Gave       bool
	Known      bool
}

// Hit is one tracking hit of the synthetic traffic.
type Hit struct {
	ID   string // event id (UUID text)
	Type string // calore.EventEmailOpen, …
	At   time.Time
	Hit  calore.TrackingHit
}

// Traffic is a batch of high-volume records, streamed rather than kept.
type Traffic struct {
	Sends []calore.CampaignSend
	Hits  []Hit
}

// Progress receives the generator's progress: a step name and how far along.
type Progress func(step string, done, total int)

// person-level state the generator keeps while simulating years
type alum struct {
	idx        int // in Dataset.People
	affinity   float64
	gradYear   int
	top        string
	mpp        bool // reads mail through a privacy proxy: machine opens
	mentorFrom int  // year mentoring started, 0 = never
	gaveYears  map[int]bool
	// giving model 2 (giving.go): hidden wealth, the true birth year (stored
	// for 70%), a yearly intent, the years given by a recurring gift
	wealth         float64
	birthYear      int
	intent         map[int]float64
	recurringYears map[int]bool
}

type yearCounters struct{ sends, opens, clicks, attended, givingVisits []int16 }

type generator struct {
	s        Scale
	ds       *Dataset
	rng      *rand.Rand
	emit     func(Traffic) error
	progress Progress

	alumni    []alum
	alumIndex map[int64]int // person id → index in alumni
	contacts  []int         // indices in People of newsletter/press contacts
	referents []int
	prospects map[int][]int // year → indices in People
	counters  map[int]*yearCounters

	nextSend, nextInteraction, nextRegistration, nextDonation int64
	uuidCounter                                               uint64
}

// Generate builds the synthetic university for scale s from seed. Sends and
// tracking hits go to emit in batches as they are made; everything else is
// returned. The same scale and seed always give the same data.
func Generate(s Scale, seed uint64, emit func(Traffic) error, progress Progress) (*Dataset, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	g := &generator{
		s: s, ds: &Dataset{Scale: s, Seed: seed, Archetype: map[int64]string{}},
		rng: rand.New(rand.NewPCG(seed, 0xca10e)), emit: emit, progress: progress,
		alumIndex: map[int64]int{}, prospects: map[int][]int{}, counters: map[int]*yearCounters{},
	}
	g.organisations()
	g.people()
	g.partnershipsAndContracts()
	for y := s.FirstYear(); y < s.AsOf.Year(); y++ {
		g.counters[y] = &yearCounters{
			sends: make([]int16, len(g.alumni)), opens: make([]int16, len(g.alumni)),
			clicks: make([]int16, len(g.alumni)), attended: make([]int16, len(g.alumni)), givingVisits: make([]int16, len(g.alumni)),
		}
		g.journeys(y)
		if err := g.events(y); err != nil {
			return nil, err
		}
		if err := g.mail(y); err != nil {
			return nil, err
		}
		if err := g.web(y); err != nil {
			return nil, err
		}
		g.interactions(y)
		g.giving(y)
		progress("years", y-s.FirstYear()+1, s.Years)
	}
	if err := g.upcomingEvents(); err != nil {
		return nil, err
	}
	g.giving(s.AsOf.Year()) // true propensities for the year ahead, outcome unknown
	return g.ds, nil
}

// ---------------------------------------------------------------- helpers

func (g *generator) uuid() string {
	// deterministic v4-shaped UUIDs from the generator's stream
	g.uuidCounter++
	a, b := g.rng.Uint64(), g.rng.Uint64()
	a = a&^(0xf<<12) | 0x4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func (g *generator) pick(weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	r := g.rng.Float64() * sum
	for i, w := range weights {
		if r -= w; r < 0 {
			return i
		}
	}
	return len(weights) - 1
}

func (g *generator) dayIn(year int) time.Time {
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	return start.Add(time.Duration(g.rng.Float64() * float64(start.AddDate(1, 0, 0).Sub(start))))
}

func (g *generator) poisson(lambda float64) int {
	// Knuth for small means, normal approximation for large
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*g.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func ptr[T any](v T) *T { return &v }

func meta(id int64, at time.Time) calore.Meta {
	return calore.Meta{ID: id, Version: 1, CreatedAt: at, UpdatedAt: at}
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ---------------------------------------------------------------- organisations

var archetypes = []struct {
	name                      string
	weight                    float64
	sizes                     []float64 // micro, small, medium, large
	interactions, placements  float64   // yearly means
	contracts, contractValue  float64   // count mean, median EUR
	partnershipP, activeGiven float64
}{
	{"strategic-partner", 0.10, []float64{0, 0.05, 0.25, 0.70}, 12, 8, 3, 250_000, 0.95, 0.85},
	{"recruiting-sme", 0.40, []float64{0.15, 0.50, 0.35, 0}, 3, 5, 0.1, 20_000, 0.40, 0.45},
	{"research-body", 0.15, []float64{0.05, 0.30, 0.45, 0.20}, 5, 0.5, 2.5, 120_000, 0.60, 0.60},
	{"dormant", 0.35, []float64{0.40, 0.45, 0.15, 0}, 0.4, 0.2, 0.02, 10_000, 0.15, 0.15},
}

var sizeClasses = []string{"micro", "small", "medium", "large"}
var sizeRevenue = []float64{500_000, 5_000_000, 40_000_000, 600_000_000}

func (g *generator) organisations() {
	n := g.s.Organisations
	weights := make([]float64, len(archetypes))
	for i, a := range archetypes {
		weights[i] = a.weight
	}
	for i := 0; i < n; i++ {
		id := int64(i + 1)
		a := archetypes[g.pick(weights)]
		size := g.pick(a.sizes)
		sec := sectors[g.rng.IntN(len(sectors))]
		kind := calore.OrgCompany
		switch {
		case a.name == "research-body" && g.rng.Float64() < 0.6:
			kind = []string{calore.OrgResearchBody, calore.OrgFoundation, calore.OrgPublicBody}[g.rng.IntN(3)]
		case size == 0 && g.rng.Float64() < 0.4:
			kind = []string{calore.OrgStartUp, calore.OrgSpinOff}[g.rng.IntN(2)]
		}
		// the id keeps names unique, so duplicate detection finds only planted duplicates
		name := fmt.Sprintf("%s%s %d %s", orgWords[g.rng.IntN(len(orgWords))], strings.ToLower(orgWords[g.rng.IntN(len(orgWords))]), id, orgSuffix[g.rng.IntN(len(orgSuffix))])
		rg := regions[g.pickRegion()]
		revenue := sizeRevenue[size] * math.Exp(0.6*g.rng.NormFloat64())
		area := map[string]string{"strategic-partner": "both", "recruiting-sme": "placement", "research-body": "research", "dormant": ""}[a.name]
		created := g.dayIn(g.s.FirstYear() - 1 - g.rng.IntN(5))
		o := calore.Organisation{
			Meta: meta(id, created), Kind: kind, LegalName: name,
			VATNumber:  fmt.Sprintf("IT%011d", 10_000_000_000+id*7919%89_999_999_999),
			ATECOCodes: []string{sec.ateco}, Disciplines: []string{sec.name},
			SizeClass: sizeClasses[size], Revenue: strconv.FormatFloat(math.Round(revenue), 'f', 2, 64), RevenueYear: ptr(g.s.AsOf.Year() - 1),
			Country: "IT", Region: rg.name, Province: rg.province, City: rg.city, Territory: rg.name,
			FunctionalArea: area, Labels: []string{}, SDGs: []int{}, Sites: []calore.Site{}, Extra: map[string]string{},
			Status: calore.StatusActive,
		}
		if a.name == "strategic-partner" {
			o.Labels = append(o.Labels, "strategic")
		}
		g.ds.Organisations = append(g.ds.Organisations, o)
		g.ds.Archetype[id] = a.name
	}
	g.progress("organisations", n, n)
}

func (g *generator) archetypeOf(orgID int64) int {
	name := g.ds.Archetype[orgID]
	for i, a := range archetypes {
		if a.name == name {
			return i
		}
	}
	return len(archetypes) - 1
}

func (g *generator) pickRegion() int {
	w := make([]float64, len(regions))
	for i, r := range regions {
		w[i] = r.weight
	}
	return g.pick(w)
}

// ---------------------------------------------------------------- people

func (g *generator) newPerson(kind string, created time.Time) *calore.Person {
	w := make([]float64, len(namePools))
	for i, p := range namePools {
		w[i] = p.weight
	}
	pool := namePools[g.pick(w)]
	id := int64(len(g.ds.People) + 1)
	p := calore.Person{
		Meta: meta(id, created), Kind: kind,
		FirstName: pool.first[g.rng.IntN(len(pool.first))], LastName: pool.last[g.rng.IntN(len(pool.last))],
		Language: pool.language, Nationality: pool.nationality, Country: pool.country,
		Competences: []string{}, Tags: []string{}, Offices: []string{}, Extra: map[string]string{},
		Emails: []calore.Email{}, Phones: []calore.Phone{}, Sources: []calore.PersonSource{},
		Status: calore.StatusActive,
	}
	if pool.country == "IT" || g.rng.Float64() < 0.5 { // many international people live in Italy
		rg := regions[g.pickRegion()]
		p.Country, p.Region, p.Province, p.City = "IT", rg.name, rg.province, rg.city
	}
	confirmed := created.Add(time.Duration(g.rng.IntN(300*24)) * time.Hour)
	p.Emails = append(p.Emails, calore.Email{Type: calore.EmailPersonal, Address: fmt.Sprintf("p%d@mail.example", id), LastConfirmedAt: &confirmed})
	if g.rng.Float64() < 0.6 {
		p.Phones = append(p.Phones, calore.Phone{Type: calore.PhoneMobile, Number: fmt.Sprintf("+39 3%02d %07d", g.rng.IntN(100), id%10_000_000)})
	}
	g.ds.People = append(g.ds.People, p)
	return &g.ds.People[len(g.ds.People)-1]
}

func (g *generator) people() {
	s := g.s
	total := s.People()
	cw := make([]float64, len(courses))
	for i, c := range courses {
		cw[i] = c.weight
	}
	// alumni: graduation years weighted towards recent decades
	for i := 0; i < s.Alumni; i++ {
		grad := s.AsOf.Year() - 1 - int(math.Min(55, math.Abs(g.rng.NormFloat64())*15))
		p := g.newPerson(calore.KindAlumnus, time.Date(grad, 7, 15, 0, 0, 0, 0, time.UTC))
		c := courses[g.pick(cw)]
		p.GraduationYear, p.DegreeCourse, p.MacroCategory = ptr(grad), c.course, c.macro
		p.Offices = []string{"alumni"}
		p.Sources = []calore.PersonSource{{Source: "anagrafe-studenti", FirstSeenAt: p.CreatedAt}}
		inst := p.CreatedAt.AddDate(0, -6, 0)
		p.Emails = append(p.Emails, calore.Email{Type: calore.EmailInstitutional, Address: fmt.Sprintf("a%d@alumni.polimi.example", p.ID), LastConfirmedAt: &inst})
		a := alum{idx: len(g.ds.People) - 1, affinity: g.rng.NormFloat64(), gradYear: grad, gaveYears: map[int]bool{}, mpp: g.rng.Float64() < 0.15,
			wealth: 0.8*g.rng.NormFloat64() + 0.02*math.Min(float64(s.AsOf.Year()-grad), 30), birthYear: grad - 23 - g.rng.IntN(5),
			intent: map[int]float64{s.FirstYear() - 1: g.rng.NormFloat64()}, recurringYears: map[int]bool{}}
		if g.rng.Float64() < 0.7 { // the birth date is on record for 70% of alumni
			p.BirthDate = ptr(time.Date(a.birthYear, time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC))
		}
		if grad > s.AsOf.Year()-4 {
			a.affinity -= 0.3
		}
		switch r := g.rng.Float64(); {
		case r < 0.010:
			a.top, p.Relevance = calore.TopPrestige, ptr(3+g.rng.IntN(3))
		case r < 0.025:
			a.top, p.Relevance = calore.TopEconomic, ptr(3+g.rng.IntN(3))
		case r < 0.030:
			a.top, p.Relevance = calore.TopVisibility, ptr(2+g.rng.IntN(4))
		}
		if a.top == calore.TopEconomic {
			a.wealth += 1.5
		}
		if a.top != "" {
			p.TopCategory = a.top
			a.affinity += 0.5
			p.Tags = append(p.Tags, "top-alumni")
		}
		if g.rng.Float64() < sigmoid(-4+a.affinity) {
			a.mentorFrom = s.FirstYear() + g.rng.IntN(s.Years)
		}
		g.alumIndex[p.ID] = len(g.alumni)
		g.alumni = append(g.alumni, a)
		if i%20_000 == 0 {
			g.progress("people", len(g.ds.People), total)
		}
	}
	// newsletter subscribers and press
	for i := 0; i < s.NewsletterContacts; i++ {
		kind := calore.KindOther
		if i < s.Journalists {
			kind = calore.KindJournalist
		}
		p := g.newPerson(kind, g.dayIn(s.FirstYear()-1-g.rng.IntN(4)))
		p.Offices = []string{"engagement"}
		p.Sources = []calore.PersonSource{{Source: []string{"iscrizione-newsletter", "evento", "stampa", "sito"}[g.rng.IntN(4)], FirstSeenAt: p.CreatedAt}}
		if kind == calore.KindJournalist {
			p.Tags = []string{"press"}
		}
		g.contacts = append(g.contacts, len(g.ds.People)-1)
		if i%20_000 == 0 {
			g.progress("people", len(g.ds.People), total)
		}
	}
	// company referents, more of them at bigger partners
	ow := make([]float64, len(g.ds.Organisations))
	for i, o := range g.ds.Organisations {
		ow[i] = []float64{1, 3, 8, 20}[indexOf(sizeClasses, o.SizeClass)] * []float64{3, 1.5, 1.5, 0.5}[g.archetypeOf(o.ID)]
	}
	for i := 0; i < s.Referents; i++ {
		org := g.ds.Organisations[g.pick(ow)]
		p := g.newPerson(calore.KindReferent, org.CreatedAt.Add(time.Duration(g.rng.IntN(1000*24))*time.Hour))
		p.Offices = []string{"career"}
		p.Emails[0].Address = fmt.Sprintf("r%d@%s.example", p.ID, slug(strings.Fields(org.LegalName)[0]))
		start := p.CreatedAt
		g.ds.Affiliations = append(g.ds.Affiliations, calore.Affiliation{
			Meta: meta(int64(len(g.ds.Affiliations)+1), start), PersonID: p.ID, OrganisationID: org.ID,
			Role:       []string{"HR manager", "CTO", "R&D lead", "CEO", "Talent acquisition", "Project manager"}[g.rng.IntN(6)],
			Department: []string{"HR", "R&D", "Direzione", "Engineering"}[g.rng.IntN(4)], IsReferent: true, StartDate: &start,
		})
		g.referents = append(g.referents, len(g.ds.People)-1)
	}
	// 55% of alumni have a current job on record; its seniority is a noisy
	// sign of their (hidden) wealth and of their years since graduation
	roles := [][]string{{"employee", "engineer", "analyst"}, {"project manager", "team lead", "senior engineer"}, {"director", "head of R&D", "direttore tecnico"}, {"CEO", "founder", "managing partner"}}
	for _, a := range g.alumni {
		if g.rng.Float64() > 0.55 {
			continue
		}
		p := &g.ds.People[a.idx]
		org := g.ds.Organisations[g.pick(ow)]
		start := time.Date(a.gradYear, 9, 1, 0, 0, 0, 0, time.UTC)
		z := 0.8*a.wealth + 0.04*math.Min(float64(s.AsOf.Year()-a.gradYear), 30) + 0.7*g.rng.NormFloat64()
		level := 0
		for _, cut := range []float64{0.3, 1.1, 1.9} {
			if z > cut {
				level++
			}
		}
		g.ds.Affiliations = append(g.ds.Affiliations, calore.Affiliation{
			Meta: meta(int64(len(g.ds.Affiliations)+1), p.CreatedAt), PersonID: p.ID, OrganisationID: org.ID,
			Role: roles[level][g.rng.IntN(3)], StartDate: &start,
		})
	}
	g.progress("people", len(g.ds.People), total)
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return 0
}

// ---------------------------------------------------------------- companies

func (g *generator) partnershipsAndContracts() {
	var pid, cid int64
	for _, o := range g.ds.Organisations {
		a := archetypes[g.archetypeOf(o.ID)]
		if g.rng.Float64() < a.partnershipP {
			pid++
			t := g.dayIn(g.s.FirstYear() + g.rng.IntN(g.s.Years))
			p := calore.Partnership{Meta: meta(pid, t), OrganisationID: o.ID, Product: []string{"career-service", "research-partnership", "sponsorship", "membership"}[g.rng.IntN(4)], Kind: "partnership", Stage: "prospect", ReminderDays: 30}
			h := PartnershipHistory{States: []calore.Partnership{p}}
			if g.rng.Float64() < 0.7 || a.name == "strategic-partner" {
				p.Version, p.Stage = p.Version+1, "negotiation"
				p.UpdatedAt = p.UpdatedAt.Add(time.Duration(20+g.rng.IntN(90)) * 24 * time.Hour)
				h.States = append(h.States, p)
				if g.rng.Float64() < a.activeGiven {
					p.Version, p.Stage = p.Version+1, "active"
					p.UpdatedAt = p.UpdatedAt.Add(time.Duration(15+g.rng.IntN(60)) * 24 * time.Hour)
					p.StartDate = ptr(p.UpdatedAt)
					p.RenewalDate = ptr(p.UpdatedAt.AddDate(1, 0, 0))
					h.States = append(h.States, p)
				}
			}
			g.ds.Partnerships = append(g.ds.Partnerships, h)
		}
		for k := g.poisson(a.contracts); k > 0; k-- {
			cid++
			start := g.dayIn(g.s.FirstYear() + g.rng.IntN(g.s.Years))
			end := start.AddDate(1+g.rng.IntN(3), 0, 0)
			status := "active"
			if end.Before(g.s.AsOf) {
				status = "expired"
			}
			g.ds.Contracts = append(g.ds.Contracts, calore.ResearchContract{
				Meta: meta(cid, start), ContractNumber: fmt.Sprintf("RC-%d-%05d", start.Year(), cid), OrganisationID: ptr(o.ID),
				Title: "Research contract " + strconv.FormatInt(cid, 10), Status: status, StartDate: &start, EndDate: &end,
				ScientificLead: "Prof. " + namePools[0].last[g.rng.IntN(len(namePools[0].last))], Department: []string{"DEIB", "DMEC", "DABC", "DIG", "DAER"}[g.rng.IntN(5)],
				Value: strconv.FormatFloat(math.Round(a.contractValue*math.Exp(0.7*g.rng.NormFloat64())), 'f', 2, 64), Currency: "EUR",
			})
		}
		// placements: internship hosting
		for y := g.s.FirstYear(); y < g.s.AsOf.Year(); y++ {
			for k := g.poisson(a.placements / 2); k > 0; k-- {
				start := g.dayIn(y)
				g.ds.Collaborations = append(g.ds.Collaborations, calore.Collaboration{
					Meta: meta(int64(len(g.ds.Collaborations)+1), start), OrganisationID: ptr(o.ID), Kind: "internship_host", StartDate: &start,
				})
			}
		}
	}
	// mentoring alumni
	for _, a := range g.alumni {
		if a.mentorFrom == 0 {
			continue
		}
		p := g.ds.People[a.idx]
		start := time.Date(a.mentorFrom, time.Month(1+g.rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		g.ds.Collaborations = append(g.ds.Collaborations, calore.Collaboration{
			Meta: meta(int64(len(g.ds.Collaborations)+1), start), PersonID: ptr(p.ID), Kind: "mentoring", Role: "mentor", StartDate: &start,
		})
	}
}

// ---------------------------------------------------------------- student journeys

func (g *generator) journeys(y int) {
	sw := make([]float64, len(leadSources))
	for i, s := range leadSources {
		sw[i] = s.weight
	}
	for i := 0; i < g.s.ProspectsPerYear; i++ {
		first := g.dayIn(y)
		p := g.newPerson(calore.KindProspect, first)
		src := leadSources[g.pick(sw)]
		prog := programmes[g.rng.IntN(len(programmes))]
		p.Offices = []string{"orientation"}
		p.Sources = []calore.PersonSource{{Source: src.name, FirstSeenAt: first}}
		if g.rng.Float64() < 0.25 {
			p.IsMinor = true
		}
		g.prospects[y] = append(g.prospects[y], len(g.ds.People)-1)
		stage := func(name string, at time.Time) {
			g.ds.Journey = append(g.ds.Journey, calore.JourneyStage{
				Meta: meta(int64(len(g.ds.Journey)+1), at), PersonID: p.ID, Programme: prog, Stage: name, ReachedAt: at, Source: src.name,
			})
		}
		stage(calore.StageFirstContact, first)
		applyP := src.applyBy
		if p.Country != "IT" {
			applyP *= 0.8
		}
		at := first.Add(time.Duration(20+g.rng.IntN(100)) * 24 * time.Hour)
		if g.rng.Float64() >= applyP || !at.Before(g.s.AsOf) {
			continue
		}
		stage(calore.StageApplication, at)
		at = at.Add(time.Duration(15+g.rng.IntN(45)) * 24 * time.Hour)
		if g.rng.Float64() >= 0.6 || !at.Before(g.s.AsOf) {
			continue
		}
		stage(calore.StageAdmission, at)
		at = at.Add(time.Duration(7+g.rng.IntN(35)) * 24 * time.Hour)
		if g.rng.Float64() >= 0.72 || !at.Before(g.s.AsOf) {
			continue
		}
		stage(calore.StageEnrolment, at)
		p.Kind = calore.KindStudent
		p.UpdatedAt = at
	}
}

// ---------------------------------------------------------------- events

var eventKinds = []struct {
	kind, audience, series string
	share, showUp          float64
	subEvents              int
	invite                 int // invitations at full scale
}{
	{"open_day", "prospects", "Open Day", 0.08, 0.72, 3, 0},
	{"alumni_night", "alumni", "Alumni Night", 0.10, 0.62, 0, 5000},
	{"career_day", "referents", "Career Day", 0.05, 0.80, 2, 3000},
	{"conference", "all", "", 0.25, 0.55, 0, 4000},
	{"webinar", "all", "", 0.45, 0.38, 0, 6000},
	{"gala", "top", "Gala dei Donatori", 0.02, 0.90, 0, 800},
	{"workshop", "alumni", "", 0.05, 0.70, 0, 1500},
}

func (g *generator) events(y int) error {
	return g.eventsAt(y, g.s.EventsPerYear, func() time.Time { return g.dayIn(y) })
}

// upcomingEvents schedules events in the weeks after AsOf, invitations sent
// and registrations open but nobody attended yet: what the turnout forecast
// predicts.
func (g *generator) upcomingEvents() error {
	y := g.s.AsOf.Year()
	g.counters[y] = &yearCounters{
		sends: make([]int16, len(g.alumni)), opens: make([]int16, len(g.alumni)),
		clicks: make([]int16, len(g.alumni)), attended: make([]int16, len(g.alumni)), givingVisits: make([]int16, len(g.alumni)),
	}
	return g.eventsAt(y, max(2, g.s.EventsPerYear/6), func() time.Time {
		return g.s.AsOf.Add(time.Duration(10*24+g.rng.IntN(20*24)) * time.Hour)
	})
}

func (g *generator) eventsAt(y, n int, when func() time.Time) error {
	if len(g.ds.Series) == 0 {
		for _, k := range eventKinds {
			if k.series != "" {
				g.ds.Series = append(g.ds.Series, calore.EventSeries{Meta: meta(int64(len(g.ds.Series)+1), time.Date(g.s.FirstYear(), 1, 1, 0, 0, 0, 0, time.UTC)),
					Name: k.series, Office: "engagement", Recurrence: "yearly", Template: map[string]string{"kind": k.kind}})
			}
		}
	}
	scale := float64(g.s.Alumni) / 200_000
	sw := make([]float64, len(eventKinds))
	for i, k := range eventKinds {
		sw[i] = k.share
	}
	for e := 0; e < n; e++ {
		k := eventKinds[g.pick(sw)]
		start := when().Truncate(24 * time.Hour).Add(17 * time.Hour)
		ev := calore.CalendarEvent{Meta: meta(int64(len(g.ds.Events)+1), start.AddDate(0, -2, 0)), Name: fmt.Sprintf("%s %s", strings.ReplaceAll(k.kind, "_", " "), start.Format("2006-01-02")),
			Kind: k.kind, Office: "engagement", StartsAt: start, Location: "Milano", IsOnline: k.kind == "webinar"}
		for _, s := range g.ds.Series {
			if s.Name == k.series {
				ev.SeriesID = ptr(s.ID)
			}
		}
		g.ds.Events = append(g.ds.Events, ev)
		parent := ev.ID
		for s := 0; s < k.subEvents; s++ {
			sub := ev
			sub.Meta = meta(int64(len(g.ds.Events)+1), ev.CreatedAt)
			sub.ParentID, sub.SeriesID = ptr(parent), nil
			sub.Name = fmt.Sprintf("%s, session %d", ev.Name, s+1)
			sub.StartsAt = start.Add(time.Duration(s+1) * time.Hour)
			g.ds.Events = append(g.ds.Events, sub)
		}
		if err := g.register(y, ev, k.audience, k.showUp, int(float64(k.invite)*scale)); err != nil {
			return err
		}
	}
	return nil
}

// register invites an audience to ev by email (an invitation campaign, with
// its sends, opens and clicks) and records who registered and came. Those who
// register have, as a rule, opened the invitation first.
func (g *generator) register(y int, ev calore.CalendarEvent, audience string, showUp float64, invites int) error {
	invitedOnce := map[int]bool{} // one registration per person and event
	var inv *calore.Campaign
	var tr Traffic
	add := func(personIdx int, registerP float64, vip bool) {
		p := g.ds.People[personIdx]
		invited := ev.StartsAt.AddDate(0, 0, -30)
		if p.CreatedAt.After(invited) || invitedOnce[personIdx] {
			return
		}
		invitedOnce[personIdx] = true
		r := calore.Registration{Meta: meta(g.nextID(&g.nextRegistration), invited), EventID: ev.ID, PersonID: p.ID, Status: calore.RegInvited,
			Source: []string{"form", "eventbrite", "open_day_app"}[g.rng.IntN(3)], InvitedAt: &invited, IsVIP: vip}
		if reg := invited.Add(time.Duration(g.rng.IntN(25*24)) * time.Hour); g.rng.Float64() < registerP && reg.Before(g.s.AsOf) {
			r.RegisteredAt, r.Status, r.UpdatedAt = &reg, calore.RegRegistered, reg
			if ev.StartsAt.Before(g.s.AsOf) {
				r.Status, r.UpdatedAt = calore.RegNoShow, ev.StartsAt.Add(3*time.Hour)
				if g.rng.Float64() < showUp {
					at := ev.StartsAt.Add(time.Duration(g.rng.IntN(40)) * time.Minute)
					r.Status, r.AttendedAt = calore.RegAttended, &at
					if ai, ok := g.alumIndex[p.ID]; ok {
						g.counters[y].attended[ai]++
					}
				}
			}
		}
		g.ds.Registrations = append(g.ds.Registrations, r)
		if audience == "prospects" { // open-day sign-ups come from the orientation portal, not email
			return
		}
		if inv == nil {
			c := g.campaign("Invito: "+ev.Name, "engagement", "", invited)
			inv = &c
		}
		openP, clickP := 0.3, 0.1
		if r.RegisteredAt != nil {
			openP, clickP = 0.95, 0.8
		}
		ai := -1
		if i, ok := g.alumIndex[p.ID]; ok {
			ai = i
		}
		g.send(&tr, *inv, personIdx, ai, openP, clickP, ai >= 0 && g.alumni[ai].mpp, y)
	}
	switch audience {
	case "prospects":
		pool := g.prospects[y]
		for _, idx := range pool {
			if g.rng.Float64() < 0.06 {
				add(idx, 1, false)
			}
		}
	case "referents":
		for i := 0; i < invites && len(g.referents) > 0; i++ {
			add(g.referents[g.rng.IntN(len(g.referents))], 0.25, false)
		}
	case "top":
		for _, a := range g.alumni {
			if a.top != "" || len(a.gaveYears) > 0 {
				add(a.idx, sigmoid(-0.5+a.affinity), a.top != "")
			}
		}
	default: // alumni, all
		for i := 0; i < invites && len(g.alumni) > 0; i++ {
			if audience == "all" && g.rng.Float64() < 0.3 && len(g.contacts) > 0 {
				add(g.contacts[g.rng.IntN(len(g.contacts))], 0.08, false)
				continue
			}
			a := g.alumni[g.rng.IntN(len(g.alumni))]
			add(a.idx, sigmoid(-2.6+0.9*a.affinity), a.top != "")
		}
	}
	if len(tr.Sends) == 0 {
		return nil
	}
	return g.emit(tr)
}

func (g *generator) nextID(c *int64) int64 { *c++; return *c }

// ---------------------------------------------------------------- mail

type newsletter struct {
	name              string
	size, alumniShare float64 // recipients at full scale, share of them alumni
	issuesPerYear     int
}

var newsletters = []newsletter{
	{"Frontiere", 100_000, 0.7, 4},
	{"Orizzonti Sostenibili", 80_000, 0.25, 4},
	{"Eventi", 100_000, 0.5, 6},
}

func (g *generator) mail(y int) error {
	scale := float64(g.s.Alumni) / 200_000
	for _, nl := range newsletters {
		nAlumni := min(len(g.alumni), int(nl.size*nl.alumniShare*scale))
		nContacts := min(len(g.contacts), int(nl.size*(1-nl.alumniShare)*scale))
		// a fixed subscriber list per newsletter: a deterministic slice of each pool
		offA := int(g.rng.Uint32()) % max(1, len(g.alumni))
		offC := int(g.rng.Uint32()) % max(1, len(g.contacts))
		for issue := 0; issue < nl.issuesPerYear; issue++ {
			sent := time.Date(y, time.Month(1+issue*12/nl.issuesPerYear), 5+g.rng.IntN(20), 9, 0, 0, 0, time.UTC)
			c := g.campaign(nl.name+" "+sent.Format("2006-01"), "engagement", nl.name, sent)
			var tr Traffic
			for i := 0; i < nAlumni; i++ {
				ai := (offA + i) % len(g.alumni)
				a := g.alumni[ai]
				g.send(&tr, c, a.idx, ai, sigmoid(-1.2+a.affinity), sigmoid(-1.8+0.6*a.affinity), a.mpp, y)
			}
			for i := 0; i < nContacts; i++ {
				idx := g.contacts[(offC+i)%len(g.contacts)]
				openP := 0.22
				if g.ds.People[idx].Kind == calore.KindJournalist {
					openP = 0.35
				}
				g.send(&tr, c, idx, -1, openP, 0.15, idx%7 == 0, y)
			}
			if err := g.emit(tr); err != nil {
				return fmt.Errorf("emit %s: %w", c.Name, err)
			}
		}
	}
	// fundraising appeals to alumni, biased to those more likely to give
	for k := 0; k < g.s.AppealsPerYear; k++ {
		sent := time.Date(y, time.Month(3+k*9/max(1, g.s.AppealsPerYear)), 10, 10, 0, 0, 0, time.UTC)
		c := g.campaign(fmt.Sprintf("Appello %d/%d", k+1, y), "fundraising", "", sent)
		var tr Traffic
		n := min(len(g.alumni), int(20_000*scale))
		for _, ai := range g.rng.Perm(len(g.alumni))[:n] { // each alumnus at most once
			a := g.alumni[ai]
			g.send(&tr, c, a.idx, ai, sigmoid(-1.0+a.affinity), sigmoid(-1.5+0.6*a.affinity), a.mpp, y)
		}
		if err := g.emit(tr); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) campaign(name, office, nl string, sent time.Time) calore.Campaign {
	c := calore.Campaign{Meta: meta(int64(len(g.ds.Campaigns)+1), sent.AddDate(0, 0, -7)), Name: name, Channel: "email",
		SenderAccount: office + "@polimi.example", Office: office, Newsletter: nl, Subject: name, Status: "sent", ScheduledAt: ptr(sent), SentAt: ptr(sent)}
	c.UpdatedAt = sent
	g.ds.Campaigns = append(g.ds.Campaigns, c)
	return c
}

// send records one email to People[idx]; ai is the alumni index or -1.
func (g *generator) send(tr *Traffic, c calore.Campaign, idx, ai int, openP, clickP float64, mpp bool, y int) {
	p := g.ds.People[idx]
	sent := *c.SentAt
	if p.CreatedAt.After(sent) {
		return
	}
	s := calore.CampaignSend{Meta: meta(g.nextID(&g.nextSend), sent), CampaignID: c.ID, PersonID: p.ID, Address: p.Emails[0].Address, Status: "delivered", SentAt: ptr(sent)}
	if ai >= 0 {
		g.counters[y].sends[ai]++
	}
	hit := func(typ string, at time.Time, machine bool, reason, url string) {
		tr.Hits = append(tr.Hits, Hit{ID: g.uuid(), Type: typ, At: at, Hit: calore.TrackingHit{
			ContactID: p.ID, CampaignID: c.ID, SendID: s.ID, URL: url, UserAgent: "Mozilla/5.0", IPPrefix: "192.0.2.0",
			IsMachine: machine, MachineReason: reason}})
	}
	if mpp {
		hit(calore.EventEmailOpen, sent.Add(time.Duration(30+g.rng.IntN(300))*time.Second), true, "apple-mpp", "")
	}
	if g.rng.Float64() < openP {
		at := sent.Add(time.Duration(g.rng.ExpFloat64()*20*3600) * time.Second)
		s.OpenedAt, s.UpdatedAt = &at, at
		hit(calore.EventEmailOpen, at, false, "", "")
		if ai >= 0 {
			g.counters[y].opens[ai]++
		}
		if g.rng.Float64() < clickP {
			ct := at.Add(time.Duration(5+g.rng.IntN(600)) * time.Second)
			s.ClickedAt, s.UpdatedAt = &ct, ct
			hit(calore.EventEmailClick, ct, false, "", "https://www.polimi.example/"+slug(c.Name))
			if ai >= 0 {
				g.counters[y].clicks[ai]++
			}
		}
	}
	tr.Sends = append(tr.Sends, s)
}

// ---------------------------------------------------------------- web

func (g *generator) web(y int) error {
	var tr Traffic
	for ai := range g.alumni {
		a := &g.alumni[ai]
		p := g.ds.People[a.idx]
		// this year's intent to give (hidden), seen only through visits to
		// the giving page
		a.intent[y] = 0.6*a.intent[y-1] + 0.8*g.rng.NormFloat64()
		for k := g.poisson(0.25 * math.Exp(0.9*a.intent[y]-0.4)); k > 0; k-- {
			at := g.dayIn(y)
			if at.Before(p.CreatedAt) {
				continue
			}
			g.counters[y].givingVisits[ai]++
			tr.Hits = append(tr.Hits, Hit{ID: g.uuid(), Type: calore.EventWebPageView, At: at, Hit: calore.TrackingHit{
				ContactID: p.ID, AnonymousID: fmt.Sprintf("anon-%d", p.ID), URL: "https://www.polimi.example/dona-ora",
				UserAgent: "Mozilla/5.0", IPPrefix: "198.51.100.0"}})
		}
		for k := g.poisson(g.s.WebVisitsPerAlumni * math.Exp(0.5*a.affinity-0.125)); k > 0; k-- {
			at := g.dayIn(y)
			if at.Before(p.CreatedAt) {
				continue
			}
			tr.Hits = append(tr.Hits, Hit{ID: g.uuid(), Type: calore.EventWebPageView, At: at, Hit: calore.TrackingHit{
				ContactID: p.ID, AnonymousID: fmt.Sprintf("anon-%d", p.ID), URL: []string{"https://www.polimi.example/alumni", "https://www.polimi.example/eventi", "https://www.polimi.example/carriere", "https://www.polimi.example/news"}[g.rng.IntN(4)],
				UserAgent: "Mozilla/5.0", IPPrefix: "198.51.100.0"}})
		}
		if len(tr.Hits) >= 50_000 {
			if err := g.emit(tr); err != nil {
				return err
			}
			tr = Traffic{}
		}
	}
	return g.emit(tr)
}

// ---------------------------------------------------------------- interactions

func (g *generator) interactions(y int) {
	add := func(person, org *int64, channel, office, subject string, at time.Time) {
		g.ds.Interactions = append(g.ds.Interactions, calore.Interaction{Meta: meta(g.nextID(&g.nextInteraction), at),
			PersonID: person, OrganisationID: org, Channel: channel, Direction: "outbound", OccurredAt: at, Subject: subject, Office: office})
	}
	for _, o := range g.ds.Organisations {
		a := archetypes[g.archetypeOf(o.ID)]
		for k := g.poisson(a.interactions); k > 0; k-- {
			add(nil, ptr(o.ID), []string{calore.ChannelMeeting, calore.ChannelEmail, calore.ChannelPhone}[g.rng.IntN(3)], "research", "account follow-up", g.dayIn(y))
		}
		for k := g.poisson(a.placements); k > 0; k-- {
			add(nil, ptr(o.ID), calore.ChannelEvent, "career", "job offer / career day", g.dayIn(y))
		}
	}
	for _, a := range g.alumni {
		if a.top == "" {
			continue
		}
		p := g.ds.People[a.idx]
		for k := g.poisson(3 * math.Exp(0.3*a.affinity)); k > 0; k-- {
			add(ptr(p.ID), nil, []string{calore.ChannelMeeting, calore.ChannelPhone}[g.rng.IntN(2)], "alumni", "one-to-one", g.dayIn(y))
		}
	}
}

// ---------------------------------------------------------------- giving

func (g *generator) features(ai int, y int) givingFeatures {
	a := g.alumni[ai]
	f := givingFeatures{Wealth: a.wealth, Affinity: a.affinity, Age: float64(y - a.birthYear), Intent: a.intent[y-1]}
	if a.gaveYears[y-1] {
		f.GaveLast = 1
	}
	if a.recurringYears[y-1] {
		f.RecurringLast = 1
	}
	for py := y - 1; a.gaveYears[py]; py-- {
		f.Consecutive++
	}
	for py := y - 5; py <= y-2; py++ {
		if a.gaveYears[py] {
			f.PriorYears++
		}
	}
	if c := g.counters[y-1]; c != nil {
		f.Attended1 = float64(c.attended[ai])
		f.Opens = float64(c.opens[ai])
	}
	if c := g.counters[y-2]; c != nil {
		f.Attended2 = float64(c.attended[ai])
	}
	if a.mentorFrom != 0 && a.mentorFrom < y {
		f.Mentor = 1
	}
	return f
}

func (g *generator) giving(y int) {
	logits := make([]float64, len(g.alumni))
	eligible := make([]bool, len(g.alumni))
	for ai, a := range g.alumni {
		if a.gradYear >= y {
			continue
		}
		eligible[ai] = true
		logits[ai] = g.features(ai, y).logit()
	}
	var el []float64
	for ai, ok := range eligible {
		if ok {
			el = append(el, logits[ai])
		}
	}
	b0 := solveIntercept(el, float64(g.s.DonorsPerYear))
	known := y < g.s.AsOf.Year()
	// appeals of the year, for campaign attribution
	var appeals []calore.Campaign
	for _, c := range g.ds.Campaigns {
		if c.Office == "fundraising" && c.SentAt.Year() == y {
			appeals = append(appeals, c)
		}
	}
	for ai, ok := range eligible {
		if !ok {
			continue
		}
		a := &g.alumni[ai]
		p := sigmoid(b0 + logits[ai])
		t := Truth{PersonID: g.ds.People[a.idx].ID, Year: y, Propensity: p, Known: known}
		if known && g.rng.Float64() < p {
			t.Gave = true
			a.gaveYears[y] = true
			g.gift(a, y, appeals)
		}
		g.ds.Truth = append(g.ds.Truth, t)
	}
}

func (g *generator) gift(a *alum, y int, appeals []calore.Campaign) {
	p := g.ds.People[a.idx]
	amount := 150 * math.Exp(0.8*g.rng.NormFloat64()+0.6*a.wealth) * (1 + 0.3*math.Min(float64(y-a.gradYear), 40)/10)
	switch a.top {
	case calore.TopEconomic:
		amount *= 40
	case calore.TopPrestige:
		amount *= 8
	}
	purpose := []string{calore.PurposeScholarship, calore.PurposeMembershipFee, calore.PurposeResearchProject, calore.PurposeGeneral}[g.rng.IntN(4)]
	at := g.dayIn(y)
	var campaign *int64
	for _, c := range appeals {
		if d := at.Sub(*c.SentAt); d > 0 && d < 45*24*time.Hour && g.rng.Float64() < 0.6 {
			campaign = ptr(c.ID)
		}
	}
	// a monthly donor gives each month from the first gift to the year's
	// end; most monthly donors of last year stay monthly
	if r := g.rng.Float64(); r < 0.12 || (a.recurringYears[y-1] && r < 0.8) {
		a.recurringYears[y] = true
		monthly := math.Max(5, math.Round(amount/12))
		for m := at.Month(); m <= 12; m++ {
			day := time.Date(y, m, min(at.Day(), 28), 12, 0, 0, 0, time.UTC)
			g.ds.Donations = append(g.ds.Donations, calore.Donation{Meta: meta(g.nextID(&g.nextDonation), day), PersonID: ptr(p.ID),
				Amount: strconv.FormatFloat(monthly, 'f', 2, 64), Currency: "EUR", DonatedOn: day, Periodicity: calore.Monthly, Purpose: purpose, CampaignID: campaign})
		}
		return
	}
	g.ds.Donations = append(g.ds.Donations, calore.Donation{Meta: meta(g.nextID(&g.nextDonation), at), PersonID: ptr(p.ID),
		Amount: strconv.FormatFloat(math.Round(amount*100)/100, 'f', 2, 64), Currency: "EUR", DonatedOn: at, Periodicity: calore.OneOff, Purpose: purpose, CampaignID: campaign})
}
