package sqlite_test

import (
	"testing"

	"github.com/xapi-lrs/lrs/reminders"
	reminderstest "github.com/xapi-lrs/lrs/reminders/storetest"
)

func TestRemindersSent(t *testing.T) {
	reminderstest.Run(t, func(t *testing.T) reminders.Store { return MustOpen(t) })
}
