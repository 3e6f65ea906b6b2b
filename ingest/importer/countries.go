package importer

import (
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// countries reads a country written as an ISO 3166-1 code (alpha-2 or
// alpha-3) or as its name in Italian, English, French, German or Spanish
// (CLDR names shipped with golang.org/x/text), case and accents ignored, and
// gives its alpha-2 code, as people.country and organisations.country hold.
type countries map[string]string

// countryAliases are names CLDR does not give but files use.
var countryAliases = map[string]string{
	"usa": "US", "stati uniti d america": "US", "america": "US", "uk": "GB", "inghilterra": "GB", "england": "GB",
	"scozia": "GB", "scotland": "GB", "galles": "GB", "wales": "GB", "gran bretagna": "GB", "great britain": "GB",
	"olanda": "NL", "holland": "NL", "repubblica ceca": "CZ", "czech republic": "CZ", "russia": "RU",
	"corea": "KR", "south korea": "KR", "vaticano": "VA", "persia": "IR", "birmania": "MM", "burma": "MM",
	"turkey": "TR", "turchia": "TR", "turkiye": "TR", "ivory coast": "CI", "costa d avorio": "CI",
}

// countryTable is built once, on first use, and only read after: a lookup
// table like a constant, not state.
var countryTable = sync.OnceValue(newCountries)

func newCountries() countries {
	c := countries{}
	namers := []display.Namer{display.Italian.Regions(), display.English.Regions(), display.French.Regions(),
		display.German.Regions(), display.Spanish.Regions()}
	for _, r := range display.Values.Regions() {
		if !r.IsCountry() {
			continue
		}
		for _, n := range namers {
			if name := Fold(n.Name(r)); name != "" {
				if _, taken := c[name]; !taken {
					c[name] = r.String()
				}
			}
		}
	}
	for k, v := range countryAliases {
		c[k] = v
	}
	return c
}

// code returns the alpha-2 code of s, and false when s names no country.
func (c countries) code(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) == 2 || len(t) == 3 {
		if r, err := language.ParseRegion(t); err == nil && r.IsCountry() {
			return r.String(), true
		}
	}
	if v, ok := c[Fold(s)]; ok {
		return v, true
	}
	return "", false
}
