package statements

// Limits on the lists of a statement. The xAPI specification sets none, but
// every person and activity a statement names becomes an index entry that
// the store writes in the one write transaction, and a statement of tens of
// thousands of them is an attack or a bug, never a learning record. The
// limits are far above what any LMS, cmi5 player or authoring tool sends
// (a handful of context activities, a team of a few dozen members) and far
// above the largest lists of the ADL conformance suite (4 entries). A
// statement over a limit is refused with a 400 (rule "list-too-long")
// whose message names the list's path and the limit.
//
// Nested lists multiply (a contextGroups list of Groups with members, a
// batch of statements), so MaxIndexEntries bounds what one request adds to
// the index in all: the time it holds the write transaction (about 0.3 s
// at the limit, measured), which every other write waits for.
//
// Extensions and language maps have no limit of their own: they are not
// indexed, their validation is linear, and the request body limit bounds
// them.
const (
	// MaxListEntries is the most entries the LRS accepts in each list of a
	// statement but a Group's members: each contextActivities list (parent,
	// grouping, category, other), contextAgents, contextGroups,
	// relevantTypes, attachments, each interaction component list (choices,
	// scale, source, target, steps) and correctResponsesPattern.
	MaxListEntries = 1000
	// MaxGroupMembers is the most members the LRS accepts in one Group.
	MaxGroupMembers = 10000
	// MaxIndexEntries is the most index entries (Record.IndexEntries) the
	// statements of one request may have in all; more is refused with a
	// 413. A batch of 1,000 typical statements has about 5,000.
	MaxIndexEntries = 100000
)

// IndexEntries returns the number of people and activities r is indexed
// by: the length of its Agents, RelatedAgents, Activities and
// RelatedActivities.
func (r *Record) IndexEntries() int {
	return len(r.Agents) + len(r.RelatedAgents) + len(r.Activities) + len(r.RelatedActivities)
}

// listAt is arrayAt for a list that holds at most max entries (named by
// what, e.g. "Activities", in the error).
func listAt(p *jpath, v any, max int, what string) ([]any, error) {
	a, err := arrayAt(p, v)
	if err != nil {
		return nil, err
	}
	if len(a) > max {
		return nil, invalidAt(p, "list-too-long", "%s holds %d %s; this LRS accepts at most %d in one list",
			p.String(), len(a), what, max)
	}
	return a, nil
}
