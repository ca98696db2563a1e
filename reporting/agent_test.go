package reporting

import (
	"encoding/json"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// TestPersonAgent: a person is launched by their e-mail address while they
// hold it, else by another identifier they hold that day (an account
// first), with their name; a cmi5 launch by their account (PersonAccount).
func TestPersonAgent(t *testing.T) {
	day := MustDate("2026-03-01")
	rows := []RosterRow{
		{Kind: RowPerson, Key: "1", Name: "Kari", Email: "Kari@Example.com"},
		{Kind: RowIdent, Key: "1", Value: "mbox:mailto:kari@example.com"},
		{Kind: RowIdent, Key: "1", Value: "account:https://lms.example kari"},
		{Kind: RowPerson, Key: "2", Name: "Ola", Email: "ola@example.com"},
		{Kind: RowIdent, Key: "2", Value: "mbox:mailto:ola@example.com", Interval: Interval{To: MustDate("2026-02-01")}},
		{Kind: RowIdent, Key: "2", Value: "openid:https://id.example/ola"},
		{Kind: RowIdent, Key: "2", Value: "account:https://lms%20x.example/%25 ola"},
		{Kind: RowPerson, Key: "3", Name: "Nils"},
		{Kind: RowIdent, Key: "3", Value: "mbox_sha1sum:0123456789abcdef0123456789abcdef01234567"},
		{Kind: RowPerson, Key: "4", Name: "Uten"},
	}
	for person, want := range map[string]string{
		"1": `{"mbox":"mailto:kari@example.com","name":"Kari","objectType":"Agent"}`,
		"2": `{"account":{"homePage":"https://lms x.example/%","name":"ola"},"name":"Ola","objectType":"Agent"}`,
		"3": `{"mbox_sha1sum":"0123456789abcdef0123456789abcdef01234567","name":"Nils","objectType":"Agent"}`,
	} {
		a, err := PersonAgent(rows, person, day)
		b, _ := json.Marshal(a)
		if err != nil || string(b) != want {
			t.Errorf("person %s: %s %v, want %s", person, b, err, want)
		}
	}
	if _, err := PersonAgent(rows, "4", day); !errs.Is(err, errs.Invalid) {
		t.Errorf("a person without identifiers: %v", err)
	}
	if _, err := PersonAgent(rows, "9", day); !errs.Is(err, errs.NotFound) {
		t.Errorf("an unknown person: %v", err)
	}

	// For cmi5, the account, though the e-mail address comes first.
	a, err := PersonAccount(rows, "1", day)
	if b, _ := json.Marshal(a); err != nil || string(b) != `{"account":{"homePage":"https://lms.example","name":"kari"},"name":"Kari","objectType":"Agent"}` {
		t.Errorf("Kari's account: %s %v", b, err)
	}
	if _, err := PersonAccount(rows, "3", day); !errs.Is(err, errs.Invalid) {
		t.Errorf("the account of a person without one: %v", err)
	}
}
