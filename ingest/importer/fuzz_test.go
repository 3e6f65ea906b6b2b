package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzParseRows feeds arbitrary bytes through the CSV reader, the header
// mapping and the row parser of every kind, and every cell through the
// normalisers, checking that nothing panics and that the normalised forms
// keep their promises. Run: go test -fuzz FuzzParseRows ./ingest/importer
func FuzzParseRows(f *testing.F) {
	seeds := []string{
		"Nome;Cognome;Email;Telefono;Anno di laurea;Data di nascita;Tipo;Minorenne;Tag\nMario;Rossi;m@x.it;333 1234567;2010;31/12/1990;laureato;no;a;b\n",
		"\xef\xbb\xbfFirst name,Last name,E-mail\nИван,Петров,ivan@example.ru\nΓιώργος,Παπαδόπουλος,\n",
		"Ragione sociale;P.IVA;Fatturato;Dimensione\nACME S.p.A.;IT01234567890;1.234.567,89;grande\n",
		"Email\n\"unterminated\n",
		"Nome\tCognome\nNguyễn\tThị Minh\nŞükrü\tIşıkoğlu\nمحمد\tعبد الله\n",
		"\xff\xfeN\x00o\x00m\x00e\x00\n\x00",
		"a;b\n\x00\x01\x02;\xff\xfe\n",
		"Email;Data di nascita;Fatturato\nx@y.z;45382;(1,5)\n;99999999999;1e400\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, spec := range []Spec{contactSpec, organisationSpec} {
			recs, err := OpenRecords(bytes.NewReader(data), FormatCSV, "")
			if err != nil {
				return
			}
			_, header, err := recs.Next()
			if err != nil {
				return
			}
			l, err := MapHeader(spec, header, nil)
			if err != nil {
				// fall back to every field in order, so the parser always runs
				l, err = MapHeader(spec, spec.FieldNames(), nil)
				if err != nil {
					t.Fatalf("own field names do not map: %v", err)
				}
			}
			p := &Parser{Layout: l, DefaultCC: "39", Location: time.UTC}
			for i := 0; i < 10000; i++ {
				n, rec, err := recs.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				var fe errFatal
				if errors.As(err, &fe) {
					break
				}
				if err != nil {
					continue
				}
				row, errs := p.Parse(n, rec)
				if len(errs) == 0 && len(row.Values) != len(l.StageColumns()) {
					t.Fatalf("row %d: %d values for %d columns", n, len(row.Values), len(l.StageColumns()))
				}
				for _, e := range errs {
					if e.Row != n || e.Reason == "" {
						t.Fatalf("row error %+v for row %d", e, n)
					}
				}
				for _, cell := range rec {
					checkNormalisers(t, cell)
				}
			}
		}
	})
}

func checkNormalisers(t *testing.T, s string) {
	t.Helper()
	if a := ASCII(s); !isPrintableASCII(a) || strings.Contains(a, "  ") || strings.TrimSpace(a) != a {
		t.Fatalf("ASCII(%q) = %q: not trimmed printable ASCII", s, a)
	}
	if k := NameKey(s, s); k != "" && k != strings.ToLower(k) {
		t.Fatalf("NameKey(%q) = %q: not lower case", s, k)
	}
	if e, err := NormEmail(s); err == nil && e != "" {
		if again, err := NormEmail(e); err != nil || again != e {
			t.Fatalf("NormEmail not idempotent: %q → %q → %q, %v", s, e, again, err)
		}
	}
	if ph, err := NormPhone(s, "39"); err == nil && ph != "" {
		if ph[0] != '+' || len(ph) < 7 || len(ph) > 16 {
			t.Fatalf("NormPhone(%q) = %q", s, ph)
		}
	}
	_, _ = parseAmount(s)
	_, _ = parseTime(s, time.UTC)
	_, _ = parseBool(s)
	_ = parseList(s)
	if c := CleanText(s); CleanText(c) != c {
		t.Fatalf("CleanText not idempotent on %q: %q → %q", s, c, CleanText(c))
	}
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
