package importer

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestASCII(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"cyrillic", "Иван Петров", "Ivan Petrov"},
		{"greek", "Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"},
		{"arabic", "محمد عبد الله", "mHmd bd llh"},
		{"vietnamese", "Nguyễn Thị Minh Khai", "Nguyen Thi Minh Khai"},
		{"turkish", "Şükrü Işıkoğlu", "Sukru Isikoglu"},
		{"turkish dotted capital", "İstanbul", "Istanbul"},
		{"italian accents", "Niccolò Città", "Niccolo Citta"},
		{"german", "Müller Straße", "Muller Strasse"},
		{"polish", "Łukasz Żółć", "Lukasz Zolc"},
		{"decomposed accent", "Jose\u0301", "Jose"},
		{"spaces and zero width", "  Anna\u200b \u00a0Maria\t", "Anna Maria"},
		{"emoji dropped", "Luca 😀", "Luca"},
		{"ascii kept", "O'Brien-Smith", "O'Brien-Smith"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ASCII(tt.in); got != tt.want {
				t.Errorf("ASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct {
		first, last, want string
	}{
		{"Mario", "Rossi", "mario rossi"},
		{"  MARIO ", "rossi", "mario rossi"},
		{"Niccolò", "D'Àngelo", "niccolo dangelo"},
		{"Đặng", "Văn Lâm", "dang vanlam"},
		{"Иван", "Петров", "ivan petrov"},
		{"Şükrü", "Işıkoğlu", "sukru isikoglu"},
		{"Γιώργος", "Παπαδόπουλος", "giorgos papadopoulos"},
		{"Mario", "", ""},
		{"!!", "Rossi", ""},
	}
	for _, tt := range tests {
		if got := NameKey(tt.first, tt.last); got != tt.want {
			t.Errorf("NameKey(%q, %q) = %q, want %q", tt.first, tt.last, got, tt.want)
		}
	}
}

func TestNormEmail(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"Mario.Rossi@Example.COM", "mario.rossi@example.com", false},
		{"  mailto:anna@polimi.it ", "anna@polimi.it", false},
		{"Anna Bianchi <Anna@PoliMi.it>", "anna@polimi.it", false},
		{"anna+news@polimi.it;", "anna+news@polimi.it", false},
		{"", "", false},
		{"anna@", "", true},
		{"@polimi.it", "", true},
		{"anna@polimi", "", true},
		{"anna rossi@polimi.it", "", true},
		{"anna..b@polimi.it", "", true},
		{"anna@polimi..it", "", true},
	}
	for _, tt := range tests {
		got, err := NormEmail(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("NormEmail(%q) = %q, %v; want %q, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
		if tt.bad && !errors.Is(err, errEmail) {
			t.Errorf("NormEmail(%q): error %v is not errEmail", tt.in, err)
		}
	}
}

func TestNormPhone(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"333 123 4567", "+393331234567", false},
		{"+39 02 2399 1", "+390223991", false},
		{"0039 (02) 2399-1234", "+390223991234", false},
		{"+7 495 123-45-67", "+74951234567", false},
		{"02.2399.1234", "+390223991234", false},
		{"", "", false},
		{"12", "", true},
		{"call me", "", true},
		{"+39 333 1234567 int. 4", "", true},
		{"1234567890123456789", "", true},
	}
	for _, tt := range tests {
		got, err := NormPhone(tt.in, "39")
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("NormPhone(%q) = %q, %v; want %q, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"1.234,56", "1234.56", false},
		{"1,234.56", "1234.56", false},
		{"1234,5", "1234.5", false},
		{"€ 1 000", "1000", false},
		{"1.000.000", "1000000", false},
		{"(50)", "-50", false},
		{"50 EUR", "50", false},
		{"abc", "", true},
		{"1e9", "", true},
		{"NaN", "", true},
	}
	for _, tt := range tests {
		n, err := parseAmount(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("parseAmount(%q): err %v, want bad=%v", tt.in, err, tt.bad)
			continue
		}
		if tt.bad {
			continue
		}
		f, _ := n.Float64Value()
		want, _ := strconv.ParseFloat(tt.want, 64)
		if f.Float64 != want {
			t.Errorf("parseAmount(%q) = %v, want %s", tt.in, f.Float64, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"2024-03-31", time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), false},
		{"31/03/2024", time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), false},
		{"1/2/2024", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), false},
		{"31.03.2024", time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), false},
		{"45382", time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), false}, // Excel serial
		{"2024-03-31 18:30", time.Date(2024, 3, 31, 18, 30, 0, 0, time.UTC), false},
		{"31/13/2024", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, time.UTC)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, bad=%v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParsePolicies(t *testing.T) {
	p, err := ParsePolicies(contactSpec, "phone=overwrite, *=keep,city=fill-empty")
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]Policy{"phone": Overwrite, "city": FillEmpty, "email": Keep} {
		if got := p.For(field); got != want {
			t.Errorf("policy of %s = %s, want %s", field, got, want)
		}
	}
	for _, bad := range []string{"nosuch=keep", "city=replace", "city"} {
		if _, err := ParsePolicies(contactSpec, bad); err == nil {
			t.Errorf("ParsePolicies(%q): no error", bad)
		}
	}
	if got := (Policies{}).For("city"); got != FillEmpty {
		t.Errorf("zero Policies: %s, want fill-empty", got)
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		p             Policy
		old, nw, want string
	}{
		{Overwrite, "a", "b", "b"},
		{Overwrite, "a", "", "a"},
		{FillEmpty, "a", "b", "a"},
		{FillEmpty, "", "b", "b"},
		{Keep, "a", "b", "a"},
		{Keep, "", "b", ""},
	}
	for _, tt := range tests {
		if got := Merge(tt.p, tt.old, tt.nw); got != tt.want {
			t.Errorf("Merge(%s, %q, %q) = %q, want %q", tt.p, tt.old, tt.nw, got, tt.want)
		}
	}
}

func TestCountries(t *testing.T) {
	c := newCountries()
	for in, want := range map[string]string{
		"IT": "IT", "it": "IT", "ITA": "IT", "Italia": "IT", "ITALY": "IT", "Germania": "DE", "Deutschland": "DE", "DEU": "DE",
		"Stati Uniti": "US", "USA": "US", "Regno Unito": "GB", "Repubblica Ceca": "CZ", "Cechia": "CZ", "Russia": "RU",
		"Türkiye": "TR", "Turchia": "TR", "Vietnam": "VN", "Grecia": "GR", "Arabia Saudita": "SA", "Città del Vaticano": "VA",
		"Svizzera": "CH", "España": "ES", "  francia ": "FR",
	} {
		if got, ok := c.code(in); !ok || got != want {
			t.Errorf("code(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"Atlantide", "", "EU", "Lombardia", "XX"} {
		if got, ok := c.code(bad); ok {
			t.Errorf("code(%q) = %q, want no country", bad, got)
		}
	}
}
