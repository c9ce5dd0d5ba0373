package i18n

import "strings"

// PlanCheck says the result of a patrol plan's check (geofence/plan.Check:
// its name and parameters) in lang; without parameters or a message for
// the name, its English detail as it is.
func PlanCheck(lang Lang, name string, params map[string]string, detail string) string {
	key := "plan_check." + strings.ReplaceAll(name, " ", "_")
	if len(params) == 0 || !Has(En, key) {
		return detail
	}
	return Msg(lang, key, params)
}
