package sqlite

import (
	"database/sql"
	"time"
)

// walBackstop is the size of the write-ahead log, in pages, that makes the
// writer checkpoint the log itself. Normally the checkpointer keeps the log
// far below it.
const walBackstop = 50000

// checkpointEvery spaces checkpoints so that each copies many commits (a
// page written by several commits is copied once).
const checkpointEvery = 250 * time.Millisecond

// checkpointer copies the write-ahead log into the database file in the
// background, so that the writer does not pay for it: a passive checkpoint
// runs beside readers and the writer, and once all of the log is copied
// SQLite starts writing it from its beginning again.
type checkpointer struct {
	db      *sql.DB
	kicks   chan struct{}
	quit    chan struct{}
	stopped chan struct{}
}

func newCheckpointer(path string) (*checkpointer, error) {
	d, err := sql.Open("sqlite", dsn(path, "busy_timeout(10000)", "synchronous(FULL)"))
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(1)
	cp := &checkpointer{db: d, kicks: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	go cp.loop()
	return cp, nil
}

// kick tells the checkpointer that a commit added to the log.
func (cp *checkpointer) kick() {
	select {
	case cp.kicks <- struct{}{}:
	default:
	}
}

func (cp *checkpointer) loop() {
	defer close(cp.stopped)
	for {
		select {
		case <-cp.kicks:
		case <-cp.quit:
			return
		}
		// An error (e.g. SQLITE_BUSY) is left to the next round; the
		// writer's own automatic checkpoint is the backstop.
		cp.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		select {
		case <-time.After(checkpointEvery):
		case <-cp.quit:
			return
		}
	}
}

func (cp *checkpointer) close() error {
	close(cp.quit)
	<-cp.stopped
	return cp.db.Close()
}
