package workspace

import (
	"net/http"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"golang.org/x/text/number"
)

// langCookie keeps the language a user chose (Italian or English); without
// it, the browser's Accept-Language decides.
const langCookie = "calore_lang"

// languages the pages are written in; the first is the fallback.
var languages = []language.Tag{language.English, language.Italian}

var matcher = language.NewMatcher(languages)

// italian is the Italian of every message; the English is the key itself.
// A message missing here shows in English (TestCatalogComplete lists the
// messages the templates use and fails on a missing one).
var italian = map[string]string{
	"Workspace":                           "Area di lavoro",
	"Search":                              "Cerca",
	"Dashboards":                          "Cruscotti",
	"Signed in as %s":                     "Accesso come %s",
	"Log out":                             "Esci",
	"Language":                            "Lingua",
	"Skip to content":                     "Vai al contenuto",
	"Name, email, phone, VAT or tax code": "Nome, email, telefono, partita IVA o codice fiscale",
	"People and organisations":            "Persone e organizzazioni",
	"Everything":                          "Tutto",
	"Show":                                "Mostra",
	"People":                              "Persone",
	"Organisations":                       "Organizzazioni",
	"Kind":                                "Tipo",
	"any":                                 "qualsiasi",
	"Heat":                                "Calore",
	"Tier":                                "Fascia",
	"Cohort (decade)":                     "Coorte (decennio)",
	"Country":                             "Paese",
	"Apply":                               "Applica",
	"No results.":                         "Nessun risultato.",
	"Next page":                           "Pagina successiva",
	"First page":                          "Prima pagina",
	"Person":                              "Persona",
	"Organisation":                        "Organizzazione",
	"Name":                                "Nome",
	"Transliterated":                      "Traslitterato",
	"Emails":                              "Email",
	"preferred":                           "preferita",
	"Phones":                              "Telefoni",
	"Affiliations":                        "Affiliazioni",
	"since %s":                            "dal %s",
	"until %s":                            "fino al %s",
	"referent":                            "referente",
	"Alumni data":                         "Dati alumni",
	"Graduation year":                     "Anno di laurea",
	"Degree course":                       "Corso di laurea",
	"Category":                            "Area",
	"Top alumni":                          "Top alumni",
	"Relevance":                           "Rilevanza",
	"Consents":                            "Consensi",
	"granted":                             "concesso",
	"refused":                             "negato",
	"Tags":                                "Etichette",
	"Engagement":                          "Coinvolgimento",
	"Heat level %d of 4":                  "Livello di calore %d su 4",
	"score %s":                            "punteggio %s",
	"model %s, as of %s":                  "modello %s, al %s",
	"Not scored yet.":                     "Non ancora valutato.",
	"Donation potential":                  "Potenziale di donazione",
	"Probability":                         "Probabilità",
	"Expected amount":                     "Importo atteso",
	"Suggested ask":                       "Richiesta suggerita",
	"Reasons":                             "Motivi",
	"Suspected duplicates":                "Possibili duplicati",
	"None found.":                         "Nessuno trovato.",
	"Timeline":                            "Cronologia",
	"All":                                 "Tutto",
	"Interactions":                        "Interazioni",
	"Registrations":                       "Iscrizioni",
	"Donations":                           "Donazioni",
	"Sends":                               "Invii",
	"Opens":                               "Aperture",
	"Clicks":                              "Clic",
	"Web visits":                          "Visite web",
	"Nothing on the timeline.":            "Niente in cronologia.",
	"Log an interaction":                  "Registra un'interazione",
	"Edit":                                "Modifica",
	"Channel":                             "Canale",
	"Direction":                           "Direzione",
	"outbound":                            "in uscita",
	"inbound":                             "in entrata",
	"Subject":                             "Oggetto",
	"Notes":                               "Note",
	"Office":                              "Ufficio",
	"When":                                "Quando",
	"Save":                                "Salva",
	"Cancel":                              "Annulla",
	"Saved.":                              "Salvato.",
	"Someone changed this interaction while you were editing it.": "Qualcuno ha modificato questa interazione mentre la stavi modificando.",
	"Yours":                 "La tua versione",
	"Theirs (saved)":        "La loro (salvata)",
	"Save mine over theirs": "Salva la mia al posto della loro",
	"Keep theirs":           "Tieni la loro",
	"Erase (GDPR)":          "Cancella (GDPR)",
	"Erase this person":     "Cancella questa persona",
	"This anonymises the person everywhere and cannot be undone.": "La persona viene anonimizzata ovunque e non si può annullare.",
	"Reason":                             "Motivo",
	"Erase":                              "Cancella",
	"Erased.":                            "Cancellata.",
	"Referents":                          "Referenti",
	"Partnerships":                       "Partnership",
	"Research contracts":                 "Contratti di ricerca",
	"renewal %s":                         "rinnovo %s",
	"Cluster":                            "Cluster",
	"VAT number":                         "Partita IVA",
	"Tax code":                           "Codice fiscale",
	"City":                               "Città",
	"Not allowed":                        "Non consentito",
	"Your roles do not allow this page.": "I tuoi ruoli non consentono questa pagina.",
	"Not found":                          "Non trovato",
	"Something went wrong":               "Qualcosa è andato storto",
	"Back to search":                     "Torna alla ricerca",
	"Please correct the fields marked below.": "Correggi i campi segnalati qui sotto.",
	"machine":     "automatico",
	"minor":       "minorenne",
	"merged into": "unito a",
	"Warehouse events are not available right now.": "Gli eventi del data warehouse non sono disponibili ora.",
	"Results on this page: %d":                      "Risultati in questa pagina: %d",
	"signal":                                        "segnale", "count": "numero", "weight": "peso",
	"Filter":          "Filtra",
	"Open the person": "Apri la persona",
	"Status":          "Stato",
	"Event":           "Evento",
	"Amount":          "Importo",
	"Value":           "Valore",
	"Product":         "Prodotto",
	"Stage":           "Fase",
	"Role":            "Ruolo",
	"Department":      "Dipartimento",
	"Workspace pages": "Pagine di lavoro",
	// channels of an interaction (calore.Channel*)
	"phone": "telefono", "meeting": "incontro", "email": "email", "note": "nota", "sms": "SMS",
	"social": "social", "letter": "lettera", "event": "evento", "chatbot": "chatbot", "other": "altro",
	// kinds of timeline entries
	"interaction": "interazione", "registration": "iscrizione", "donation": "donazione", "send": "invio",
	"open": "apertura", "click": "clic", "pageview": "visita web",
}

// newCatalog builds the message catalogue.
func newCatalog() (catalog.Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for en, it := range italian {
		if err := b.SetString(language.English, en, en); err != nil {
			return nil, err
		}
		if err := b.SetString(language.Italian, en, it); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// locale is the language of one request and what formats in it.
type locale struct {
	Tag language.Tag
	p   *message.Printer
}

// Lang is the language's code ("it", "en") for the html lang attribute.
func (l locale) Lang() string {
	base, _ := l.Tag.Base()
	return base.String()
}

// T translates a message (the English text), with fmt verbs.
func (l locale) T(key string, args ...any) string { return l.p.Sprintf(key, args...) }

// Date formats a day as the locale writes it.
func (l locale) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if l.Lang() == "it" {
		return t.Format("02/01/2006")
	}
	return t.Format("2 Jan 2006")
}

// DateTime formats a moment (UTC) as the locale writes it.
func (l locale) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if l.Lang() == "it" {
		return t.UTC().Format("02/01/2006 15:04")
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

// Amount formats an amount of money in the locale: "€ 1.234,50" or
// "€1,234.50"; currency "" is EUR.
func (l locale) Amount(v float64, currency string) string {
	sym := currency
	if currency == "" || currency == "EUR" {
		sym = "€"
	}
	n := l.p.Sprint(number.Decimal(v, number.MinFractionDigits(2), number.MaxFractionDigits(2)))
	if l.Lang() == "it" {
		return n + " " + sym
	}
	return sym + n
}

// Percent formats a probability 0-1 as a percentage.
func (l locale) Percent(v float64) string {
	return l.p.Sprint(number.Percent(v, number.MaxFractionDigits(1)))
}

// pickLocale chooses the request's language: the user's choice (cookie),
// else the browser's Accept-Language, else English.
func pickLocale(r *http.Request, cat catalog.Catalog) locale {
	var prefs []string
	if c, err := r.Cookie(langCookie); err == nil {
		prefs = append(prefs, c.Value)
	}
	prefs = append(prefs, r.Header.Get("Accept-Language"))
	tag, _ := language.MatchStrings(matcher, prefs...)
	base, _ := tag.Base()
	tag = language.Make(base.String()) // no -u-rg extensions: the two pages' languages
	return locale{Tag: tag, p: message.NewPrinter(tag, message.Catalog(cat))}
}
