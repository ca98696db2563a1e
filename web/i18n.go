package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// Languages of the pages: Norwegian bokmål (the default) and English.
const (
	langNB = "nb"
	langEN = "en"
)

// pickLang chooses the language of a request: the language cookie (set by
// the switch in the page header), else the first language of
// Accept-Language that the pages have (Norwegian in any form counts as
// bokmål), else bokmål.
func pickLang(cookie, acceptLanguage string) string {
	if cookie == langNB || cookie == langEN {
		return cookie
	}
	best, bestQ := langNB, 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		var l string
		switch primary {
		case "nb", "nn", "no":
			l = langNB
		case "en":
			l = langEN
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// messages are the texts of the pages by language and key. Every key has
// both languages (TestMessagesComplete).
var messages = map[string]map[string]string{
	langNB: {
		"site":            "Opplæringsstatus",
		"skip":            "Hopp til hovedinnholdet",
		"nav":             "Hovedmeny",
		"nav.me":          "Min opplæring",
		"nav.units":       "Enheter",
		"signout":         "Logg ut",
		"signedin":        "Logget inn som",
		"lang.other":      "English",
		"lang.other.code": "en",
		"footer":          "Opplæringsstatus fra læringsregisteret (xAPI LRS).",

		"login.title":      "Logg inn",
		"login.first":      "Ingen kan logge inn ennå: det finnes ingen kontoer. Lag den første på serveren, i mappen til tjenesten (eller med --db):",
		"login.first.name": "deg@kommune.no",
		"login.first.more": "Kommandoen viser passordet én gang. Innlogging med OpenID Connect (ID-porten, Entra ID) settes opp med --oidc-issuer; se README.",
		"login.name":       "Brukernavn",
		"login.password":   "Passord",
		"login.submit":     "Logg inn",
		"login.oidc":       "Logg inn med %s",
		"login.or":         "eller med brukernavn og passord",
		"login.failed":     "Feil brukernavn eller passord.",
		"login.expired":    "Innloggingen varte for lenge eller ble avbrutt. Prøv igjen.",
		"login.notfound":   "Du er ikke registrert hos denne virksomheten. Kontakt HR om du mener dette er feil.",
		"login.throttle":   "For mange mislykkede forsøk. Vent litt og prøv igjen.",

		"me.title":      "Min opplæring",
		"me.must":       "Dette må du ta",
		"me.must.none":  "Du har ingen obligatorisk opplæring som venter.",
		"me.done":       "Dette har du fullført",
		"me.done.none":  "Du har ikke fullført noen moduler ennå.",
		"me.notperson":  "Kontoen din er ikke knyttet til en person i personallisten.",
		"units.title":   "Enheter",
		"units.caption": "Enhetene du har tilgang til",
		"units.none":    "Du har ikke tilgang til noen enheter.",
		"unit.title":    "Status for %s",
		"unit.caption":  "Obligatorisk opplæring per person og modul per %s",
		"unit.nobody":   "Ingen i enheten har obligatorisk opplæring per denne datoen.",
		"unit.csv":      "Last ned som CSV (regneark)",
		"unit.sub":      "Underenheter",
		"person.title":  "Opplæring for %s",
		"person.reqs":   "Krav",
		"person.trans":  "Utskrift: alle registrerte resultater",
		"person.none":   "Ingen registrerte resultater.",
		"person.noreqs": "Ingen krav per denne datoen.",
		"person.id":     "Ansattnummer",
		"person.units":  "Enheter",

		"asof":         "Status per dato",
		"knownat":      "Slik registeret kjente den per",
		"knownat.help": "Tomt: alt registeret kjenner nå.",
		"show":         "Vis",
		"summary":      "Oppsummering",
		"people":       "Personer",
		"rows":         "Krav",
		"compliant":    "Fullført (andel)",

		"col.name":      "Navn",
		"col.module":    "Modul",
		"col.status":    "Status",
		"col.due":       "Frist",
		"col.completed": "Fullført",
		"col.expires":   "Utløper",
		"col.score":     "Poeng",
		"col.evidence":  "Bevis (utsagn-ID)",
		"col.when":      "Tidspunkt",
		"col.activity":  "Aktivitet",
		"col.outcome":   "Resultat",
		"col.statement": "Utsagn-ID",
		"col.sha256":    "SHA-256",
		"col.authority": "Lagret av",
		"col.unit":      "Enhet",
		"col.campaign":  "kampanje %s",

		"status.completed":     "Fullført",
		"status.expiring-soon": "Utløper snart",
		"status.expired":       "Utløpt",
		"status.overdue":       "Forfalt",
		"status.due":           "Frist nærmer seg",
		"status.in-progress":   "Påbegynt",
		"status.not-started":   "Ikke startet",
		"status.exempt":        "Fritatt",
		"status.none":          "Ikke påkrevd",

		"error.title":            "Noe gikk galt",
		"error.403":              "Du har ikke tilgang til denne siden.",
		"error.404":              "Siden finnes ikke.",
		"error.400":              "Forespørselen er ugyldig: %s",
		"error.429":              "For mange forespørsler. Vent litt og prøv igjen.",
		"error.500":              "En feil oppstod (feil-ID %s). Prøv igjen senere.",
		"error.503":              "Tjenesten er ikke tilgjengelig akkurat nå. Prøv igjen senere.",
		"error.csrf":             "Skjemaet var utløpt eller kom fra en annen side. Last siden på nytt og prøv igjen.",
		"error.home":             "Til forsiden",
		"error.noaccount":        "Kontoen din har ingen sider ennå.",
		"nav.overview":           "Oversikt",
		"overview.title":         "Oversikt",
		"overview.scope.all":     "Hele virksomheten.",
		"overview.computed":      "Tallene ble beregnet %s; er de eldre enn to minutter, beregnes de på nytt til neste gang. Enhets- og personsidene er alltid oppdatert.",
		"overview.scope.units":   "Enhetene du leder, med underenhetene.",
		"overview.trend":         "Andel fullført de siste 12 månedene",
		"overview.trend.desc":    "Linjediagram over andelen fullførte krav ved hver månedsslutt: fra %s (%s) til %s (%s). Tallene står i tabellen under.",
		"overview.trend.none":    "Ingen krav i perioden.",
		"overview.trend.table":   "Vis tallene som tabell",
		"overview.trend.caption": "Andel fullført ved hver månedsslutt",
		"overview.units":         "Per enhet (med underenheter)",
		"overview.modules":       "Per modul",
		"overview.campaigns":     "Kampanjer",
		"overview.campaign":      "Kampanje",
		"overview.period":        "Periode",
		"overview.none":          "Ingen krav per denne datoen.",
		"col.day":                "Dato",
		"col.template":           "Mal",
		"person.reminders":       "Påminnelser sendt",
		"person.reminders.none":  "Ingen påminnelser er sendt.",
		"reminder.digest":        "Oversikt til leder",
		"reminder.sent":          "Sendt",
		"reminder.failed":        "Feilet",
		"reminder.no-address":    "Ingen e-postadresse (sendt til leder)",
		"template.learner":       "Til deltakeren",
		"template.manager":       "Ukesoversikt til leder",
		"col.start":              "Start",
		"me.start":               "Start",
	},
	langEN: {
		"site":            "Training status",
		"skip":            "Skip to main content",
		"nav":             "Main menu",
		"nav.me":          "My training",
		"nav.units":       "Units",
		"signout":         "Sign out",
		"signedin":        "Signed in as",
		"lang.other":      "Norsk (bokmål)",
		"lang.other.code": "nb",
		"footer":          "Training status from the learning record store (xAPI LRS).",

		"login.title":      "Sign in",
		"login.first":      "Nobody can sign in yet: there are no accounts. Make the first on the server, in the service's directory (or with --db):",
		"login.first.name": "you@example.org",
		"login.first.more": "The command shows the password once. Sign-in with OpenID Connect (ID-porten, Entra ID) is set up with --oidc-issuer; see the README.",
		"login.name":       "User name",
		"login.password":   "Password",
		"login.submit":     "Sign in",
		"login.oidc":       "Sign in with %s",
		"login.or":         "or with user name and password",
		"login.failed":     "Wrong user name or password.",
		"login.expired":    "The sign-in took too long or was interrupted. Please try again.",
		"login.notfound":   "You are not registered with this organisation. Contact HR if you think this is wrong.",
		"login.throttle":   "Too many failed attempts. Wait a little and try again.",

		"me.title":      "My training",
		"me.must":       "What you must take",
		"me.must.none":  "You have no mandatory training waiting.",
		"me.done":       "What you have completed",
		"me.done.none":  "You have not completed any modules yet.",
		"me.notperson":  "Your account is not linked to a person in the staff list.",
		"units.title":   "Units",
		"units.caption": "The units you have access to",
		"units.none":    "You have access to no units.",
		"unit.title":    "Status of %s",
		"unit.caption":  "Mandatory training per person and module as of %s",
		"unit.nobody":   "Nobody in the unit has mandatory training on this date.",
		"unit.csv":      "Download as CSV (spreadsheet)",
		"unit.sub":      "Sub-units",
		"person.title":  "Training of %s",
		"person.reqs":   "Requirements",
		"person.trans":  "Transcript: every recorded result",
		"person.none":   "No recorded results.",
		"person.noreqs": "No requirements on this date.",
		"person.id":     "Employee ID",
		"person.units":  "Units",

		"asof":         "Status as of",
		"knownat":      "As the record store knew it on",
		"knownat.help": "Empty: everything the record store knows now.",
		"show":         "Show",
		"summary":      "Summary",
		"people":       "People",
		"rows":         "Requirements",
		"compliant":    "Completed (share)",

		"col.name":      "Name",
		"col.module":    "Module",
		"col.status":    "Status",
		"col.due":       "Due",
		"col.completed": "Completed",
		"col.expires":   "Expires",
		"col.score":     "Score",
		"col.evidence":  "Evidence (statement IDs)",
		"col.when":      "Time",
		"col.activity":  "Activity",
		"col.outcome":   "Outcome",
		"col.statement": "Statement ID",
		"col.sha256":    "SHA-256",
		"col.authority": "Stored by",
		"col.unit":      "Unit",
		"col.campaign":  "campaign %s",

		"status.completed":     "Completed",
		"status.expiring-soon": "Expiring soon",
		"status.expired":       "Expired",
		"status.overdue":       "Overdue",
		"status.due":           "Due soon",
		"status.in-progress":   "In progress",
		"status.not-started":   "Not started",
		"status.exempt":        "Exempt",
		"status.none":          "Not required",

		"error.title":            "Something went wrong",
		"error.403":              "You do not have access to this page.",
		"error.404":              "The page does not exist.",
		"error.400":              "The request is not valid: %s",
		"error.429":              "Too many requests. Wait a little and try again.",
		"error.500":              "An error occurred (error ID %s). Please try again later.",
		"error.503":              "The service is unavailable right now. Please try again later.",
		"error.csrf":             "The form had expired or came from another site. Reload the page and try again.",
		"error.home":             "To the front page",
		"error.noaccount":        "Your account has no pages yet.",
		"nav.overview":           "Overview",
		"overview.title":         "Overview",
		"overview.scope.all":     "The whole organisation.",
		"overview.computed":      "Figures computed %s; once they are two minutes old, new ones are computed for the next visit. The unit and person pages are always up to date.",
		"overview.scope.units":   "The units you manage, with their sub-units.",
		"overview.trend":         "Share completed over the last 12 months",
		"overview.trend.desc":    "Line chart of the share of requirements completed at each month's end: from %s (%s) to %s (%s). The figures are in the table below.",
		"overview.trend.none":    "No requirements in the period.",
		"overview.trend.table":   "Show the figures as a table",
		"overview.trend.caption": "Share completed at each month's end",
		"overview.units":         "Per unit (with sub-units)",
		"overview.modules":       "Per module",
		"overview.campaigns":     "Campaigns",
		"overview.campaign":      "Campaign",
		"overview.period":        "Period",
		"overview.none":          "No requirements on this date.",
		"col.day":                "Date",
		"col.template":           "Template",
		"person.reminders":       "Reminders sent",
		"person.reminders.none":  "No reminders have been sent.",
		"reminder.digest":        "Digest to a manager",
		"reminder.sent":          "Sent",
		"reminder.failed":        "Failed",
		"reminder.no-address":    "No e-mail address (told to the manager)",
		"template.learner":       "To the learner",
		"template.manager":       "Weekly digest to a manager",
		"col.start":              "Start",
		"me.start":               "Start",
	},
}

// locale formats texts, dates and numbers in one language, with calendar
// days in one time zone.
type locale struct {
	lang string
	loc  *time.Location
}

// Lang is the language's tag, for the lang attribute.
func (l locale) Lang() string { return l.lang }

// T returns the text of key, formatted with args when given.
func (l locale) T(key string, args ...any) string {
	s, ok := messages[l.lang][key]
	if !ok {
		s = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

var monthsEN = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Date writes a day: 31.10.2026 in Norwegian, 31 Oct 2026 in English; ""
// for none.
func (l locale) Date(d reporting.Date) string {
	if d == 0 {
		return ""
	}
	t := d.Start(time.UTC)
	if l.lang == langNB {
		return t.Format("02.01.2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), monthsEN[t.Month()-1], t.Year())
}

// Time writes an instant in the pages' time zone: 31.10.2026 kl. 14.05 in
// Norwegian (the Language Council's form), 31 Oct 2026, 14:05 in English;
// "" for none.
func (l locale) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(l.loc)
	day := l.Date(reporting.DateOf(t, l.loc))
	if l.lang == langNB {
		return day + " kl. " + t.Format("15.04")
	}
	return day + ", " + t.Format("15:04")
}

// Day returns the calendar day of an instant in the pages' time zone.
func (l locale) Day(t time.Time) reporting.Date {
	if t.IsZero() {
		return 0
	}
	return reporting.DateOf(t, l.loc)
}

// Percent writes a percentage with one decimal: 87,5 % (with a no-break
// space) in Norwegian, 87.5% in English.
func (l locale) Percent(p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if l.lang == langNB {
		return strings.Replace(s, ".", ",", 1) + "\u00a0%"
	}
	return s + "%"
}

// Number writes a decimal number (a score): 0,85 in Norwegian, 0.85 in
// English.
func (l locale) Number(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if l.lang == langNB {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Template names a reminder's template ("learner/nb": to the learner, in
// bokmål).
func (l locale) Template(t string) string {
	name, lang, _ := strings.Cut(t, "/")
	s := l.T("template." + name)
	if lang != "" {
		s += " (" + lang + ")"
	}
	return s
}

// Status names a status.
func (l locale) Status(s reporting.Status) string { return l.T("status." + string(s)) }

// Title picks a title from a language map: the page's language first
// (nb also takes nb-NO, no, nn), then English, then any.
func (l locale) Title(m map[string]string, fallback string) string {
	prefs := []string{"en", "en-GB", "en-US", "nb-NO", "nb", "no", "nn-NO", "nn"}
	if l.lang == langNB {
		prefs = []string{"nb-NO", "nb", "no", "nn-NO", "nn", "en", "en-GB", "en-US"}
	}
	for _, k := range prefs {
		if s := m[k]; s != "" {
			return s
		}
	}
	for _, k := range sortedKeys(m) {
		if m[k] != "" {
			return m[k]
		}
	}
	return fallback
}
