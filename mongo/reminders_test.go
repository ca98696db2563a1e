package mongo

import (
	"testing"

	"github.com/xapi-lrs/lrs/reminders"
	reminderstest "github.com/xapi-lrs/lrs/reminders/storetest"
)

func TestRemindersSent(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			reminderstest.Run(t, func(t *testing.T) reminders.Store { return openDB(t, uri) })
		})
	}
}
