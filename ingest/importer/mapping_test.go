package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadMapping: the plain header → field form still works next to the
// {"columns", "values"} form, and value mappings are checked against the
// field's values when the import starts.
func TestLoadMapping(t *testing.T) {
	tests := []struct {
		name, body string
		cols       map[string]string
		values     map[string]map[string]string
		err        string // LoadMapping
		checkErr   string // valueMaps on donations
	}{
		{"plain", `{"Cell. privato": "phone", "Note": "-"}`, map[string]string{"Cell. privato": "phone", "Note": "-"}, nil, "", ""},
		{"columns and values", `{"columns": {"Causale": "purpose"}, "values": {"purpose": {"Quota": "membership fee", "ignota": ""}}}`,
			map[string]string{"Causale": "purpose"}, map[string]map[string]string{"purpose": {"Quota": "membership fee", "ignota": ""}}, "", ""},
		{"values only", `{"values": {"purpose": {"x": "general"}}}`, nil, map[string]map[string]string{"purpose": {"x": "general"}}, "", ""},
		{"unknown key", `{"columns": {}, "valeurs": {}}`, nil, nil, `unknown key "valeurs"`, ""},
		{"bad target", `{"values": {"purpose": {"x": "beneficenza"}}}`, nil, nil, "", `"beneficenza" is not one of`},
		{"unknown field", `{"values": {"scopo": {"x": "general"}}}`, nil, nil, "", `has no field "scopo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := LoadMapping(path)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LoadMapping error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Columns) != len(tt.cols) || (tt.cols != nil && m.Columns["Causale"] != tt.cols["Causale"]) {
				t.Errorf("columns = %v, want %v", m.Columns, tt.cols)
			}
			vm, err := valueMaps(donationSpec, m.Values)
			if tt.checkErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.checkErr) {
					t.Fatalf("valueMaps error = %v, want %q", err, tt.checkErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.values != nil && vm["purpose"]["quota"] != "membership_fee" && vm["purpose"]["x"] != "general" {
				t.Errorf("value maps = %v", vm)
			}
		})
	}
}
