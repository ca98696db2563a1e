package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

var _ reminders.Store = (*DB)(nil)

// RecordReminders stores the records of reminders sent in one write.
func (db *DB) RecordReminders(ctx context.Context, recs []*reminders.Sent) error {
	return db.w.do(ctx, len(recs), nil, func(tx *wtx) error {
		for _, r := range recs {
			if _, err := tx.conn.ExecContext(context.Background(), `INSERT INTO reminders_sent
				(tenant, person, module, due, template, time, message_id, outcome, error, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.Tenant, r.Person, r.Module, int64(r.Due), r.Template, r.Time.UnixNano(), r.MessageID, r.Outcome, r.Error, r.Attempts); err != nil {
				return err
			}
		}
		return nil
	})
}

const reminderColumns = `tenant, person, module, due, template, time, message_id, outcome, error, attempts`

// RemindersSince returns a tenant's records at or after since, oldest first.
func (db *DB) RemindersSince(ctx context.Context, tenant string, since time.Time) ([]*reminders.Sent, error) {
	return scanReminders(db.read.QueryContext(ctx, `SELECT `+reminderColumns+` FROM reminders_sent
		WHERE tenant = ? AND time >= ? ORDER BY time, seq`, tenant, since.UnixNano()))
}

// RemindersTo returns the records of a person, newest first.
func (db *DB) RemindersTo(ctx context.Context, tenant, person string, limit int) ([]*reminders.Sent, error) {
	return scanReminders(db.read.QueryContext(ctx, `SELECT `+reminderColumns+` FROM reminders_sent
		WHERE tenant = ? AND person = ? ORDER BY time DESC, seq DESC LIMIT ?`, tenant, person, limit))
}

// RecentReminders returns a tenant's records, newest first.
func (db *DB) RecentReminders(ctx context.Context, tenant string, limit int) ([]*reminders.Sent, error) {
	return scanReminders(db.read.QueryContext(ctx, `SELECT `+reminderColumns+` FROM reminders_sent
		WHERE tenant = ? ORDER BY time DESC, seq DESC LIMIT ?`, tenant, limit))
}

func scanReminders(rows *sql.Rows, err error) ([]*reminders.Sent, error) {
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: reminders sent")
	}
	defer rows.Close()
	out := []*reminders.Sent{}
	for rows.Next() {
		r := &reminders.Sent{}
		var due, at int64
		if err := rows.Scan(&r.Tenant, &r.Person, &r.Module, &due, &r.Template, &at, &r.MessageID, &r.Outcome, &r.Error, &r.Attempts); err != nil {
			return nil, errs.Wrap(err, "sqlite: reminders sent")
		}
		r.Due, r.Time = reporting.Date(due), time.Unix(0, at).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: reminders sent")
	}
	return out, nil
}
