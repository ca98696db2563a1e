package web

// The texts of the unit page's filters and downloads, added to messages.
func init() {
	for lang, m := range unitMessages {
		for k, v := range m {
			messages[lang][k] = v
		}
	}
}

var unitMessages = map[string]map[string]string{
	langNB: {
		"unit.xlsx":          "Last ned som Excel-arbeidsbok (XLSX)",
		"filter.status":      "Status",
		"filter.all":         "Alle",
		"filter.open":        "Ikke fullført (alt som gjenstår)",
		"filter.module":      "Modul",
		"filter.modules.all": "Alle moduler",
		"filter.nobody":      "Ingen krav i enheten passer filteret per denne datoen.",
		"evidence.title":     "Signert bevispakke",
		"evidence.help":      "Alle krav i enheten med bevis (utsagn og SHA-256), signert av LRS-et. Statusen er per periodens siste dag; fullføringer i perioden er merket.",
		"evidence.from":      "Fra og med",
		"evidence.to":        "Til og med",
		"evidence.download":  "Last ned bevispakke",
	},
	langEN: {
		"unit.xlsx":          "Download as an Excel workbook (XLSX)",
		"filter.status":      "Status",
		"filter.all":         "All",
		"filter.open":        "Not completed (all that remains)",
		"filter.module":      "Module",
		"filter.modules.all": "All modules",
		"filter.nobody":      "No requirement in the unit matches the filter on this date.",
		"evidence.title":     "Signed evidence pack",
		"evidence.help":      "Every requirement in the unit with its evidence (statements and SHA-256), signed by the LRS. The status is as of the period's last day; completions within the period are marked.",
		"evidence.from":      "From",
		"evidence.to":        "To (inclusive)",
		"evidence.download":  "Download the evidence pack",
	},
}
