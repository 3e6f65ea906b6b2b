package synthetic

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

func smallScale(t *testing.T) Scale {
	t.Helper()
	s, err := ScaleByName("demo")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func digest(t *testing.T, s Scale, seed uint64) (string, *Dataset, int, int) {
	t.Helper()
	h := sha256.New()
	var sends, hits int
	ds, err := Generate(s, seed, func(tr Traffic) error {
		sends += len(tr.Sends)
		hits += len(tr.Hits)
		return json.NewEncoder(h).Encode(tr)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(h).Encode(ds); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), ds, sends, hits
}

func TestGenerateIsDeterministic(t *testing.T) {
	s := smallScale(t)
	s.Alumni, s.NewsletterContacts, s.Referents, s.ProspectsPerYear, s.Organisations = 2000, 1000, 300, 200, 40
	a, _, _, _ := digest(t, s, 42)
	b, _, _, _ := digest(t, s, 42)
	c, _, _, _ := digest(t, s, 43)
	if a != b {
		t.Error("same seed, different data")
	}
	if a == c {
		t.Error("different seeds, same data")
	}
}

func TestGenerateDemoScale(t *testing.T) {
	s := smallScale(t)
	_, ds, sends, hits := digest(t, s, 1)
	if got := len(ds.People); got != s.People() {
		t.Errorf("people = %d, want %d", got, s.People())
	}
	if len(ds.Organisations) != s.Organisations {
		t.Errorf("organisations = %d", len(ds.Organisations))
	}
	if sends == 0 || hits == 0 || len(ds.Registrations) == 0 || len(ds.Journey) == 0 || len(ds.Donations) == 0 {
		t.Fatalf("empty parts: sends %d hits %d registrations %d journey %d donations %d", sends, hits, len(ds.Registrations), len(ds.Journey), len(ds.Donations))
	}
	// donors per year match the calibration target (a binomial draw around it)
	donors := map[int]int{}
	for _, tr := range ds.Truth {
		if tr.Gave {
			donors[tr.Year]++
		}
	}
	for y := s.FirstYear(); y < s.AsOf.Year(); y++ {
		want := float64(s.DonorsPerYear)
		if d := float64(donors[y]); math.Abs(d-want) > 4*math.Sqrt(want)+2 {
			t.Errorf("year %d: %d donors, want about %v", y, donors[y], want)
		}
	}
	ev, err := ds.BayesAUC(s.AsOf.Year() - 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ROCAUC < 0.7 || ev.ROCAUC > 0.99 {
		t.Errorf("Bayes AUC %.3f outside the designed range", ev.ROCAUC)
	}
	// every referenced person exists
	for _, r := range ds.Registrations {
		if r.PersonID < 1 || int(r.PersonID) > len(ds.People) {
			t.Fatalf("registration %d references person %d", r.ID, r.PersonID)
		}
	}
	t.Logf("people %d, sends %d, hits %d, registrations %d, donations %d, Bayes AUC %.3f", len(ds.People), sends, hits, len(ds.Registrations), len(ds.Donations), ev.ROCAUC)
}
