package synthetic

// Name pools. Most people are Italian; international students and alumni
// bring names in their own scripts, which exercise transliteration (R4.3).
type namePool struct {
	nationality, language, country string
	weight                         float64
	first, last                    []string
}

var namePools = []namePool{
	{"IT", "it", "IT", 0.86,
		[]string{"Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Andrea", "Sara", "Matteo", "Elena", "Davide", "Martina", "Federico", "Valentina", "Simone", "Alessia", "Lorenzo", "Giorgia", "Stefano", "Silvia", "Paolo", "Anna", "Giovanni", "Laura", "Riccardo", "Beatrice", "Niccolò", "Ilaria", "Tommaso", "Federica"},
		[]string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti"}},
	{"CN", "zh", "CN", 0.03, []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳"}, []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵"}},
	{"RU", "ru", "RU", 0.015, []string{"Иван", "Анна", "Дмитрий", "Мария", "Сергей", "Ольга"}, []string{"Иванов", "Петрова", "Смирнов", "Кузнецова", "Попов", "Соколова"}},
	{"GR", "el", "GR", 0.01, []string{"Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Κώστας"}, []string{"Παπαδόπουλος", "Παπαδοπούλου", "Οικονόμου", "Γεωργίου", "Νικολάου"}},
	{"EG", "ar", "EG", 0.01, []string{"محمد", "فاطمة", "أحمد", "مريم", "علي"}, []string{"حسن", "علي", "إبراهيم", "محمود", "سعيد"}},
	{"VN", "vi", "VN", 0.01, []string{"Văn An", "Thị Hương", "Minh Đức", "Thu Trang"}, []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"}},
	{"TR", "tr", "TR", 0.015, []string{"Ayşe", "Mehmet", "Özge", "Çağla", "İbrahim", "Şükrü"}, []string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"}},
	{"IN", "en", "IN", 0.02, []string{"Aarav", "Priya", "Rohan", "Ananya", "Vikram"}, []string{"Sharma", "Patel", "Gupta", "Iyer", "Reddy"}},
	{"DE", "de", "DE", 0.01, []string{"Jürgen", "Björn", "Käthe", "Lukas", "Sophie"}, []string{"Müller", "Schröder", "Weiß", "Groß", "Köhler"}},
	{"FR", "fr", "FR", 0.01, []string{"Hélène", "François", "Zoé", "Jérôme", "Léa"}, []string{"Dubois", "Lefèvre", "Moreau", "Girard", "Bélanger"}},
}

// Italian regions with their weight among Italian contacts and a city each.
var regions = []struct {
	name, province, city string
	weight               float64
}{
	{"Lombardia", "MI", "Milano", 0.45}, {"Piemonte", "TO", "Torino", 0.08}, {"Veneto", "VR", "Verona", 0.07},
	{"Emilia-Romagna", "BO", "Bologna", 0.06}, {"Puglia", "BA", "Bari", 0.06}, {"Sicilia", "PA", "Palermo", 0.06},
	{"Campania", "NA", "Napoli", 0.05}, {"Lazio", "RM", "Roma", 0.05}, {"Toscana", "FI", "Firenze", 0.04},
	{"Liguria", "GE", "Genova", 0.04}, {"Trentino-Alto Adige", "TN", "Trento", 0.02}, {"Sardegna", "CA", "Cagliari", 0.02},
}

// Degree courses by macro-category.
var courses = []struct {
	macro, course string
	weight        float64
}{
	{"engineering", "Ingegneria Meccanica", 0.12}, {"engineering", "Ingegneria Informatica", 0.13},
	{"engineering", "Ingegneria Gestionale", 0.11}, {"engineering", "Ingegneria Civile", 0.07},
	{"engineering", "Ingegneria Elettronica", 0.06}, {"engineering", "Ingegneria Aerospaziale", 0.06},
	{"engineering", "Ingegneria Chimica", 0.04}, {"engineering", "Ingegneria Biomedica", 0.05},
	{"engineering", "Ingegneria Energetica", 0.04},
	{"architecture", "Architettura", 0.12}, {"architecture", "Pianificazione Urbana", 0.04}, {"architecture", "Architettura del Paesaggio", 0.03},
	{"design", "Design del Prodotto", 0.06}, {"design", "Design della Comunicazione", 0.04}, {"design", "Design degli Interni", 0.03},
}

// Programmes a prospect may apply to (the student journey, R1.9).
var programmes = []string{"BSc Ingegneria Informatica", "BSc Ingegneria Meccanica", "BSc Architettura", "BSc Design del Prodotto",
	"MSc Computer Science", "MSc Management Engineering", "MSc Aerospace Engineering", "MSc Sustainable Architecture", "MSc Interaction Design"}

// Where prospects first come from (marketing sources, R1.7), with how likely
// each kind of lead is to apply.
var leadSources = []struct {
	name            string
	weight, applyBy float64
}{
	{"portale-orientamento", 0.30, 0.50}, {"open-day", 0.20, 0.65}, {"fiera-studenti", 0.15, 0.35},
	{"social-ads", 0.15, 0.20}, {"chatbot", 0.10, 0.30}, {"portale-internazionale", 0.10, 0.40},
}

// Sectors of organisations (ATECO sections).
var sectors = []struct{ ateco, name string }{
	{"C.28", "machinery"}, {"C.26", "electronics"}, {"C.29", "automotive"}, {"C.30", "aerospace"},
	{"J.62", "software"}, {"M.71", "engineering services"}, {"D.35", "energy"}, {"F.41", "construction"},
	{"K.64", "banking"}, {"M.72", "research"}, {"C.21", "pharmaceuticals"}, {"H.49", "transport"},
}

var orgWords = []string{"Tecno", "Meccanica", "Sistemi", "Energia", "Digitale", "Costruzioni", "Innovazione", "Aerospazio", "Materiali", "Robotica", "Ricerca", "Logistica", "Automazione", "Ambiente", "Elettronica"}
var orgSuffix = []string{"S.p.A.", "S.r.l.", "S.r.l.", "S.p.A.", "GmbH", "Ltd", "S.r.l."}
