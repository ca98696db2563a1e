package launch

import (
	"encoding/json"
	"net/url"
	"strings"
)

// TinCanURL returns the launch URL of a Tin Can activity after the Tin Can
// launch convention (Rustici's "Tin Can Launch", the launch section of
// the xAPI-Launch documents): the content's URL with the query
// parameters
//
//	endpoint      the LRS's xAPI endpoint, ending in "/"
//	auth          the Authorization header value the content sends
//	actor         the learner's Agent, as JSON
//	registration  the attempt's UUID
//	activity_id   the launched activity's IRI
//
// added to the query the URL may already have (a fragment stays last).
func TinCanURL(content, endpoint, auth string, learner map[string]any, registration, activityID string) string {
	actor, _ := json.Marshal(learner)
	q := url.Values{
		"endpoint":     {endpoint},
		"auth":         {auth},
		"actor":        {string(actor)},
		"registration": {registration},
		"activity_id":  {activityID},
	}
	return withQuery(content, q.Encode())
}

// withQuery adds the encoded query q to the URL u, before its fragment.
func withQuery(u, q string) string {
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + q + frag
}
