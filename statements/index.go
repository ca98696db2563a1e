package statements

import "fmt"

// PLACEHOLDER: replaced by the index extraction owner.

// AgentKey returns the identifier key of an Agent or identified Group: its one
// inverse functional identifier as "mbox:mailto:x@y", "mbox_sha1sum:<hex>",
// "openid:<uri>" or "account:<homePage> <name>". It returns "" for an
// anonymous group.
func AgentKey(agent map[string]any) string {
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid"} {
		if s, ok := agent[k].(string); ok {
			return k + ":" + s
		}
	}
	if a, ok := agent["account"].(map[string]any); ok {
		return fmt.Sprintf("account:%v %v", a["homePage"], a["name"])
	}
	return ""
}

// Index fills the filter fields of rec (Agents, RelatedAgents, Activities,
// RelatedActivities, VerbID, Registration, RefID, Voids, Timestamp) from the
// validated statement s.
func Index(s map[string]any, rec *Record) {
	if v, ok := s["verb"].(map[string]any); ok {
		rec.VerbID, _ = v["id"].(string)
	}
}
