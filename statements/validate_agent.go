package statements

var (
	agentKeys   = []string{"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
	groupKeys   = []string{"objectType", "name", "member", "mbox", "mbox_sha1sum", "openid", "account"}
	accountKeys = []string{"homePage", "name"}
	actorTypes  = []string{"Agent", "Group"}
	ifiKeys     = []string{"mbox", "mbox_sha1sum", "openid", "account"}
)

// actor validates an Agent or a Group (objectType absent means Agent).
func (c *checker) actor(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	ot, _, err := checkObjectType(p, m, actorTypes)
	if err != nil {
		return err
	}
	if ot == "Group" {
		return c.group(p, m)
	}
	return c.agent(p, m)
}

// agent validates an Agent: objectType "Agent" or absent, an optional name
// and exactly one inverse functional identifier.
func (c *checker) agent(p *jpath, m map[string]any) error {
	if _, ok := m["member"]; ok {
		if _, has := m["objectType"]; !has {
			q := p.k("objectType")
			return invalidAt(&q, "group-objecttype", `a Group must have "objectType": "Group"; without it the object is taken to be an Agent, which has no "member"`)
		}
	}
	if err := checkKeys(p, m, "an Agent", agentKeys...); err != nil {
		return err
	}
	if _, _, err := checkObjectType(p, m, []string{"Agent"}); err != nil {
		return err
	}
	if err := optString(p, m, "name"); err != nil {
		return err
	}
	n, err := c.ifis(p, m)
	if err != nil {
		return err
	}
	if n == 0 {
		return invalidAt(p, "agent-ifi", `an Agent must have exactly one identifier: "mbox", "mbox_sha1sum", "openid" or "account"`)
	}
	return nil
}

// group validates a Group: objectType "Group", an optional name, at most one
// inverse functional identifier (none makes it anonymous, and then "member"
// is required) and members that are Agents.
func (c *checker) group(p *jpath, m map[string]any) error {
	if err := checkKeys(p, m, "a Group", groupKeys...); err != nil {
		return err
	}
	if _, has, err := checkObjectType(p, m, []string{"Group"}); err != nil {
		return err
	} else if !has {
		q := p.k("objectType")
		return invalidAt(&q, "required", `a Group must have "objectType": "Group"`)
	}
	if err := optString(p, m, "name"); err != nil {
		return err
	}
	n, err := c.ifis(p, m)
	if err != nil {
		return err
	}
	v, ok, err := prop(p, m, "member")
	if err != nil {
		return err
	}
	if !ok {
		if n == 0 {
			q := p.k("member")
			return invalidAt(&q, "anonymous-group-member", `an anonymous Group (one without "mbox", "mbox_sha1sum", "openid" or "account") must list its Agents in "member"`)
		}
		return nil
	}
	q := p.k("member")
	a, err := listAt(&q, v, MaxGroupMembers, "members")
	if err != nil {
		return err
	}
	if n == 0 && len(a) == 0 {
		return invalidAt(&q, "anonymous-group-member", `an anonymous Group must list at least one Agent in "member"`)
	}
	for i, e := range a {
		r := q.i(i)
		am, err := objectAt(&r, e)
		if err != nil {
			return err
		}
		ot, _, err := checkObjectType(&r, am, actorTypes)
		if err != nil {
			return err
		}
		if ot == "Group" {
			s := r.k("objectType")
			return invalidAt(&s, "group-member", "the members of a Group must be Agents, not Groups")
		}
		if err := c.agent(&r, am); err != nil {
			return err
		}
	}
	return nil
}

// authority validates the authority: an Agent, or for 3-legged OAuth an
// anonymous Group of exactly two Agents, one of them (the OAuth consumer)
// identified by an account.
func (c *checker) authority(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	ot, _, err := checkObjectType(p, m, actorTypes)
	if err != nil {
		return err
	}
	if ot != "Group" {
		return c.agent(p, m)
	}
	if err := c.group(p, m); err != nil {
		return err
	}
	for _, key := range ifiKeys {
		if _, ok := m[key]; ok {
			q := p.k(key)
			return invalidAt(&q, "authority-group", "a Group authority must be an anonymous Group of two Agents (OAuth consumer and user), without an identifier")
		}
	}
	members, _ := m["member"].([]any)
	if len(members) != 2 {
		q := p.k("member")
		return invalidAt(&q, "authority-group", "a Group authority must have exactly two members (the OAuth consumer and the user), not %d", len(members))
	}
	for _, e := range members {
		if am, _ := e.(map[string]any); am != nil {
			if _, ok := am["account"]; ok {
				return nil
			}
		}
	}
	q := p.k("member")
	return invalidAt(&q, "authority-group", "one member of a Group authority must be the OAuth consumer, identified by an \"account\"")
}

// ifis validates the inverse functional identifiers present in m and returns
// how many there are; more than one is an error.
func (c *checker) ifis(p *jpath, m map[string]any) (int, error) {
	n := 0
	first := ""
	for _, key := range ifiKeys {
		v, ok, err := prop(p, m, key)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		q := p.k(key)
		if n > 0 {
			return 0, invalidAt(&q, "one-ifi", "an Agent or identified Group must have exactly one identifier, but it has both %q and %q", first, key)
		}
		n++
		first = key
		switch key {
		case "mbox":
			s, err := stringAt(&q, v)
			if err != nil {
				return 0, err
			}
			if !validMbox(s) {
				return 0, invalidAt(&q, "mbox", "%s is not \"mailto:\" followed by an email address, e.g. \"mailto:jane@example.com\"", quoteTrunc(s))
			}
		case "mbox_sha1sum":
			s, err := stringAt(&q, v)
			if err != nil {
				return 0, err
			}
			if !validSHA1Hex(s) {
				return 0, invalidAt(&q, "mbox-sha1sum", "%s is not a hex-encoded SHA-1 hash (40 hexadecimal digits)", quoteTrunc(s))
			}
		case "openid":
			if err := iriValue(&q, v); err != nil {
				return 0, err
			}
		case "account":
			am, err := objectAt(&q, v)
			if err != nil {
				return 0, err
			}
			if err := checkKeys(&q, am, "an Account", accountKeys...); err != nil {
				return 0, err
			}
			hp, err := requiredProp(&q, am, "homePage", "an Account")
			if err != nil {
				return 0, err
			}
			r := q.k("homePage")
			if err := iriValue(&r, hp); err != nil {
				return 0, err
			}
			name, err := requiredProp(&q, am, "name", "an Account")
			if err != nil {
				return 0, err
			}
			r = q.k("name")
			if _, err := stringAt(&r, name); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// optString checks that m[key], when present, is a string.
func optString(p *jpath, m map[string]any, key string) error {
	v, ok, err := prop(p, m, key)
	if err != nil || !ok {
		return err
	}
	q := p.k(key)
	_, err = stringAt(&q, v)
	return err
}
