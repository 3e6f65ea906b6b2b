package importer

import "testing"

// TestSynonymsUnambiguous: within a kind, a header (folded) names one field
// only; otherwise the first field listing it would take the column silently.
// Seen failing with "nome" added to the registrations' event headers.
func TestSynonymsUnambiguous(t *testing.T) {
	for _, k := range AllKinds {
		spec, _ := SpecOf(k)
		seen := map[string]string{}
		for _, f := range spec.Fields {
			for _, s := range append([]string{f.Name}, f.Synonyms...) {
				key := Fold(s)
				if prev, ok := seen[key]; ok && prev != f.Name {
					t.Errorf("%s: header %q names both %s and %s", k, s, prev, f.Name)
				}
				seen[key] = f.Name
			}
		}
	}
}
