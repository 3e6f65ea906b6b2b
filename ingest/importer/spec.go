package importer

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is what a file holds: one record of that kind per row.
type Kind string

// The kinds `calore import --kind` accepts.
const (
	Contacts      Kind = "contacts"
	Organisations Kind = "organisations"
	Donations     Kind = "donations"
	Events        Kind = "events"
	Registrations Kind = "registrations"
	Interactions  Kind = "interactions"
	Journey       Kind = "journey"
	Affiliations  Kind = "affiliations"
)

// AllKinds lists every kind, in the order the usage text shows them.
var AllKinds = []Kind{Contacts, Organisations, Affiliations, Donations, Events, Registrations, Interactions, Journey, CampaignActivity}

// ParseKind checks a --kind value.
func ParseKind(s string) (Kind, error) {
	for _, k := range AllKinds {
		if string(k) == strings.ToLower(strings.TrimSpace(s)) {
			return k, nil
		}
	}
	names := make([]string, len(AllKinds))
	for i, k := range AllKinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// FieldType says how a cell is parsed and normalised.
type FieldType int

const (
	TypeText        FieldType = iota // trimmed, white space collapsed, NFC
	TypeName                         // text kept as written plus an ASCII twin (column <name>_ascii)
	TypeEmail                        // normalised address
	TypePhone                        // +digits
	TypeInt                          // whole number
	TypeYear                         // whole number between 1900 and 2100
	TypeDate                         // day: 2006-01-02, 02/01/2006, 02.01.2006 or an Excel serial
	TypeTime                         // instant: a date, or a date with hh:mm[:ss], Europe/Rome when no zone
	TypeAmount                       // decimal, "1.234,56" and "1,234.56" both read
	TypeBool                         // sì/si/yes/true/1/x and no/false/0
	TypeList                         // values separated by ; or |, each cleaned
	TypeEnum                         // one of Field.Values, matched folded
	TypeCode                         // identifiers (VAT number, tax code): upper case, no spaces or dots
	TypeCountry                      // ISO 3166-1 alpha-2 from a code or a name ("Italia", "Germany", "DEU" → IT, DE, DE)
	TypeNationality                  // as TypeCountry when it names a country, else kept as written ("italiana")
)

// Field is one importable field of a kind: its name (also its staging column),
// its type and the headers it is recognised by.
type Field struct {
	Name     string
	Type     FieldType
	Synonyms []string // headers, matched folded (case, accents and punctuation ignored)
	Values   []string // TypeEnum: allowed values (canonical spelling)
	Aliases  map[string]string
}

// Spec is the list of fields of one kind.
type Spec struct {
	Kind   Kind
	Fields []Field
}

// Field returns the field called name.
func (s Spec) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FieldNames lists the names of the fields, in order.
func (s Spec) FieldNames() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

var personKinds = []string{"prospect", "student", "alumnus", "faculty", "staff", "referent", "journalist", "vip", "internal", "other"}

var personKindAliases = map[string]string{
	"lead": "prospect", "potenziale": "prospect", "futuro studente": "prospect", "aspirante": "prospect",
	"studente": "student", "studentessa": "student", "students": "student", "iscritto": "student",
	"alumni": "alumnus", "alumna": "alumnus", "laureato": "alumnus", "laureata": "alumnus", "ex studente": "alumnus", "graduate": "alumnus",
	"docente": "faculty", "professore": "faculty", "professoressa": "faculty", "professor": "faculty", "ricercatore": "faculty", "ricercatrice": "faculty", "researcher": "faculty", "expert": "faculty", "esperto": "faculty",
	"personale": "staff", "dipendente": "staff", "pta": "staff", "employee": "staff",
	"referente": "referent", "referente aziendale": "referent", "company referent": "referent",
	"giornalista": "journalist", "press": "journalist", "stampa": "journalist", "media": "journalist",
	"istituzionale": "vip", "institutional": "vip", "ospite": "vip", "guest": "vip",
	"interno": "internal", "altro": "other",
}

// Source keys (docs/import.md): a record's own code in the system it comes
// from is its source_id; activity files name other records by their codes.
// The lists keep each header to the field it really means: in a donations
// file "Matricola" is the donor's code, "Codice donazione" or a bare "ID" the
// donation's own.
var (
	genericCodeSynonyms = []string{"source id", "external id", "id esterno", "codice esterno", "codice", "code", "id", "identificativo",
		"legacy id", "old id", "id origine", "codice origine", "record id"}
	personCodeSynonyms = []string{"matricola", "numero di matricola", "n matricola", "num matricola", "student id", "student number",
		"codice persona", "id persona", "person id", "person code", "contact id", "id contatto", "codice anagrafico", "codice anagrafica",
		"id anagrafica", "donor id", "codice donatore", "alumni id", "codice alumni", "codice laureato"}
	orgCodeSynonyms = []string{"codice azienda", "id azienda", "company id", "company code", "organisation id", "organization id",
		"organisation code", "organization code", "codice ente", "id ente", "codice organizzazione"}
	eventCodeSynonyms    = []string{"codice evento", "cod evento", "event code", "event id", "id evento"}
	campaignCodeSynonyms = []string{"codice campagna", "campaign id", "campaign code", "id campagna"}
)

// sourceID is the field of a record's own source key, recognised by the
// generic headers and by extra.
func sourceID(extra ...[]string) Field {
	return Field{Name: "source_id", Type: TypeText, Synonyms: slices.Concat(append(extra, genericCodeSynonyms)...)}
}

var contactSpec = Spec{Kind: Contacts, Fields: []Field{
	{Name: "first_name", Type: TypeName, Synonyms: []string{"first name", "firstname", "given name", "nome", "nome proprio", "prenom", "vorname", "nombre"}},
	{Name: "last_name", Type: TypeName, Synonyms: []string{"last name", "lastname", "surname", "family name", "cognome", "nom", "nachname", "apellido", "apellidos"}},
	{Name: "email", Type: TypeEmail, Synonyms: []string{"email", "e-mail", "mail", "email address", "e-mail address", "indirizzo email", "indirizzo e-mail", "posta elettronica", "email principale", "primary email", "email personale", "personal email", "email privata"}},
	{Name: "email_institutional", Type: TypeEmail, Synonyms: []string{"institutional email", "work email", "university email", "email istituzionale", "email di ateneo", "email aziendale", "email lavoro"}},
	{Name: "email_2", Type: TypeEmail, Synonyms: []string{"email 2", "email2", "secondary email", "other email", "email secondaria", "altra email", "e-mail 2", "pec"}},
	{Name: "phone", Type: TypePhone, Synonyms: []string{"phone", "telephone", "phone number", "mobile", "cell", "cellphone", "telefono", "tel", "cellulare", "numero di telefono", "recapito telefonico", "cell."}},
	{Name: "kind", Type: TypeEnum, Values: personKinds, Aliases: personKindAliases, Synonyms: []string{"kind", "type", "contact type", "category", "tipo", "tipologia", "categoria", "tipo contatto"}},
	{Name: "minor", Type: TypeBool, Synonyms: []string{"minor", "is minor", "under 18", "minorenne"}},
	{Name: "language", Type: TypeText, Synonyms: []string{"language", "lingua", "idioma", "sprache"}},
	{Name: "nationality", Type: TypeNationality, Synonyms: []string{"nationality", "citizenship", "nazionalita", "cittadinanza"}},
	{Name: "country", Type: TypeCountry, Synonyms: []string{"country", "nation", "nazione", "paese", "stato", "pays", "land"}},
	{Name: "region", Type: TypeText, Synonyms: []string{"region", "regione", "state", "county"}},
	{Name: "province", Type: TypeText, Synonyms: []string{"province", "provincia", "prov", "prov."}},
	{Name: "city", Type: TypeText, Synonyms: []string{"city", "town", "citta", "comune", "localita", "ville", "stadt"}},
	{Name: "birth_date", Type: TypeDate, Synonyms: []string{"birth date", "date of birth", "birthdate", "dob", "data di nascita", "data nascita", "nato il"}},
	{Name: "graduation_year", Type: TypeYear, Synonyms: []string{"graduation year", "year of graduation", "anno di laurea", "anno laurea", "anno conseguimento titolo"}},
	{Name: "degree_course", Type: TypeText, Synonyms: []string{"degree course", "degree", "course", "programme", "program", "corso di laurea", "corso di studi", "corso", "laurea"}},
	{Name: "macro_category", Type: TypeText, Synonyms: []string{"macro category", "macro-category", "school", "macro categoria", "macroarea", "scuola", "area"}},
	{Name: "tags", Type: TypeList, Synonyms: []string{"tags", "tag", "labels", "etichette", "parole chiave", "keywords"}},
	{Name: "top_category", Type: TypeEnum, Values: []string{"prestige", "economic", "visibility"}, Aliases: map[string]string{
		"prestigio": "prestige", "economico": "economic", "economica": "economic", "economy": "economic", "visibilita": "visibility", "visibile": "visibility"},
		Synonyms: []string{"top category", "top alumni", "top alumni category", "categoria top", "categoria top alumni", "top alumni categoria", "categoria alumni top"}},
	{Name: "relevance", Type: TypeInt, Synonyms: []string{"relevance", "top relevance", "rilevanza", "livello di rilevanza", "rilevanza top alumni"}},
	sourceID(personCodeSynonyms),
}}

var orgKinds = []string{"company", "public_body", "research_body", "foundation", "spin_off", "start_up", "association", "other"}

var orgKindAliases = map[string]string{
	"azienda": "company", "impresa": "company", "societa": "company", "business": "company",
	"ente pubblico": "public_body", "pubblica amministrazione": "public_body", "pa": "public_body", "public body": "public_body", "public administration": "public_body",
	"ente di ricerca": "research_body", "research body": "research_body", "research institute": "research_body", "istituto di ricerca": "research_body",
	"fondazione": "foundation", "spin off": "spin_off", "spinoff": "spin_off", "start up": "start_up", "startup": "start_up",
	"associazione": "association", "altro": "other",
}

var sizeAliases = map[string]string{
	"micro impresa": "micro", "microimpresa": "micro", "piccola": "small", "piccola impresa": "small", "media": "medium", "media impresa": "medium", "grande": "large", "grande impresa": "large",
}

var organisationSpec = Spec{Kind: Organisations, Fields: []Field{
	{Name: "legal_name", Type: TypeName, Synonyms: []string{"legal name", "name", "company", "company name", "organisation", "organization", "ragione sociale", "denominazione", "azienda", "nome azienda", "ente", "societa", "impresa"}},
	{Name: "kind", Type: TypeEnum, Values: orgKinds, Aliases: orgKindAliases, Synonyms: []string{"kind", "type", "organisation type", "tipo", "tipologia", "tipo ente", "natura"}},
	{Name: "vat_number", Type: TypeCode, Synonyms: []string{"vat", "vat number", "vat no", "vat id", "partita iva", "p iva", "piva"}},
	{Name: "tax_code", Type: TypeCode, Synonyms: []string{"tax code", "fiscal code", "codice fiscale", "cf"}},
	{Name: "ateco_codes", Type: TypeList, Synonyms: []string{"ateco", "codice ateco", "codici ateco", "ateco code", "ateco codes", "nace"}},
	{Name: "legal_status", Type: TypeText, Synonyms: []string{"legal status", "legal form", "forma giuridica", "natura giuridica"}},
	{Name: "size_class", Type: TypeEnum, Values: []string{"micro", "small", "medium", "large"}, Aliases: sizeAliases, Synonyms: []string{"size", "size class", "dimensione", "dimensione azienda", "classe dimensionale"}},
	{Name: "revenue", Type: TypeAmount, Synonyms: []string{"revenue", "turnover", "fatturato", "ricavi"}},
	{Name: "territory", Type: TypeText, Synonyms: []string{"territory", "territorio", "area geografica"}},
	{Name: "country", Type: TypeCountry, Synonyms: []string{"country", "nazione", "paese", "stato"}},
	{Name: "region", Type: TypeText, Synonyms: []string{"region", "regione"}},
	{Name: "province", Type: TypeText, Synonyms: []string{"province", "provincia", "prov"}},
	{Name: "city", Type: TypeText, Synonyms: []string{"city", "citta", "comune", "sede", "localita"}},
	{Name: "labels", Type: TypeList, Synonyms: []string{"labels", "tags", "etichette", "tag"}},
	sourceID(orgCodeSynonyms),
}}

// SpecOf returns the field list of a kind, and false for a kind this build
// cannot import (its tables are not in the schema yet).
func SpecOf(k Kind) (Spec, bool) {
	switch k {
	case Contacts:
		return contactSpec, true
	case Organisations:
		return organisationSpec, true
	case CampaignActivity:
		return campaignActivitySpec, true
	}
	if a, ok := activities[k]; ok {
		return a.spec, true
	}
	return Spec{}, false
}
