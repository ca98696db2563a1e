package ingest

import "github.com/xapi-lrs/lrs/statements"

// definitions collects the activity definitions a batch of statements
// carries (object, SubStatement object, context activities), merged in
// statement order when several statements define the same activity.
func definitions(stmts []map[string]any) map[string]map[string]any {
	var out map[string]map[string]any
	add := func(a any) {
		m, ok := a.(map[string]any)
		if !ok {
			return
		}
		if ot, ok := m["objectType"]; ok && ot != "Activity" {
			return
		}
		id, _ := m["id"].(string)
		def, _ := m["definition"].(map[string]any)
		if id == "" || len(def) == 0 {
			return
		}
		if out == nil {
			out = map[string]map[string]any{}
		}
		if old, ok := out[id]; !ok {
			out[id] = def // not modified: merges copy
		} else if !statements.DefinitionUnchanged(old, def) {
			out[id] = statements.MergeDefinition(old, def)
		}
	}
	var walk func(st map[string]any)
	walk = func(st map[string]any) {
		obj, _ := st["object"].(map[string]any)
		add(obj)
		if ctx, ok := st["context"].(map[string]any); ok {
			if ca, ok := ctx["contextActivities"].(map[string]any); ok {
				for _, kind := range []string{"parent", "grouping", "category", "other"} {
					switch v := ca[kind].(type) {
					case []any:
						for _, a := range v {
							add(a)
						}
					case map[string]any:
						add(v)
					}
				}
			}
		}
		if obj != nil && obj["objectType"] == "SubStatement" {
			walk(obj)
		}
	}
	for _, st := range stmts {
		walk(st)
	}
	return out
}
