package packages_test

import (
	"slices"
	"testing"

	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/reporting"
)

// imported returns the package as an import makes it from the zip.
func imported(t *testing.T, z []byte) *packages.Package {
	t.Helper()
	m := parse(t, z)
	p := &packages.Package{ID: packages.PackageID(m.Identifier), Kind: m.Kind, Identifier: m.Identifier, Title: m.Title,
		Titles: m.Titles, ActivityID: m.ActivityID, Launchables: m.Launchables}
	if p.ActivityID == "" {
		p.ActivityID = packages.SCORMCourseIRI("https://lrs.test", "oslo", m.Identifier)
		for i := range p.Launchables {
			p.Launchables[i].ActivityID = packages.SCORMItemIRI(p.ActivityID, p.Launchables[i].ID)
		}
	}
	return p
}

func TestSuggestModule(t *testing.T) {
	course := packages.SCORMCourseIRI("https://lrs.test", "oslo", "no.lrs.test.personvern")
	for _, tt := range []struct {
		name       string
		zip        []byte
		id         string
		title      map[string]string
		activities []string
		parts      []string
		rule       reporting.CompletionRule
	}{
		{"SCORM 1.2 with a mastery score", packagetest.SCORM12(), "grunnleggende-informasjonssikkerhet",
			map[string]string{"und": "Grunnleggende informasjonssikkerhet"},
			[]string{"https://lrs.test/activities/scorm/oslo/no.lrs.test.infosikkerhet"},
			[]string{"https://lrs.test/activities/scorm/oslo/no.lrs.test.infosikkerhet/sco-1"}, reporting.Passed},
		{"SCORM 2004, two SCOs, one scored", packagetest.SCORM2004(), "personvern-i-praksis",
			map[string]string{"und": "Personvern i praksis"}, []string{course},
			[]string{course + "/intro", course + "/test"}, reporting.CompletedAndPassed},
		{"cmi5, two AUs CompletedAndPassed", packagetest.CMI5(), "beredskap",
			map[string]string{"nb-NO": "Beredskap", "en-US": "Preparedness"}, []string{"https://lrs.example/kurs/beredskap"},
			[]string{"https://lrs.example/kurs/beredskap/au/1", "https://lrs.example/kurs/beredskap/au/2"}, reporting.CompletedAndPassed},
		{"Tin Can", packagetest.TinCan(), "varsling", map[string]string{"nb-NO": "Varsling"},
			[]string{"https://lrs.example/tincan/varsling"}, nil, reporting.CompletedOrPassed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := packages.SuggestModule(imported(t, tt.zip))
			if err := m.Validate(); err != nil {
				t.Fatalf("the suggested module is not valid: %v (%+v)", err, m)
			}
			if m.ID != tt.id || jsonOf(m.Title) != jsonOf(tt.title) || !slices.Equal(m.Activities, tt.activities) ||
				!slices.Equal(m.Parts, tt.parts) || m.Completion != tt.rule {
				t.Errorf("suggested %s", jsonOf(m))
			}
		})
	}
}

// TestSuggestModuleMixedMoveOn: AUs with different moveOn criteria make a
// module completed or passed; NotApplicable AUs are no parts.
func TestSuggestModuleMixedMoveOn(t *testing.T) {
	p := imported(t, packagetest.CMI5())
	p.Launchables[0].MoveOn = "Completed"
	p.Launchables[1].MoveOn = "Passed"
	if m := packages.SuggestModule(p); m.Completion != reporting.CompletedOrPassed || len(m.Parts) != 2 {
		t.Errorf("Completed and Passed AUs: %s", jsonOf(m))
	}
	p.Launchables[1].MoveOn = "NotApplicable"
	if m := packages.SuggestModule(p); m.Completion != reporting.Completed || !slices.Equal(m.Parts, []string{p.Launchables[0].ActivityID}) {
		t.Errorf("a Completed and a NotApplicable AU: %s", jsonOf(m))
	}
}

// TestLinkModule: linking adds the package's activity to a module of
// another platform and keeps its rule; a new version's parts replace the
// old version's.
func TestLinkModule(t *testing.T) {
	m := &reporting.Module{ID: "beredskap", Title: map[string]string{"nb-NO": "Beredskap"},
		Activities: []string{"https://moodle.example/mod/scorm/7"}, Completion: reporting.Passed}
	v1 := imported(t, packagetest.CMI5())
	packages.LinkModule(m, v1, nil)
	if !slices.Equal(m.Activities, []string{"https://moodle.example/mod/scorm/7", "https://lrs.example/kurs/beredskap"}) ||
		len(m.Parts) != 2 || m.Completion != reporting.Passed {
		t.Fatalf("linked: %s", jsonOf(m))
	}
	v2 := imported(t, packagetest.CMI5())
	v2.Launchables = v2.Launchables[1:]
	v2.Launchables = append(v2.Launchables, packages.Launchable{ID: "https://lrs.example/kurs/beredskap/au/3",
		ActivityID: "https://lrs.example/kurs/beredskap/au/3", MoveOn: "Completed"})
	packages.LinkModule(m, v2, v1)
	if len(m.Activities) != 2 || !slices.Equal(m.Parts, []string{"https://lrs.example/kurs/beredskap/au/2", "https://lrs.example/kurs/beredskap/au/3"}) {
		t.Errorf("relinked to version 2: %s", jsonOf(m))
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}
