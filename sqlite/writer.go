package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// Bounds of a group of calls committed together: the number of calls, and
// the statements they write (a group stops growing once over it).
const (
	maxGroup        = 512
	maxGroupRecords = 2000
)

// A group of small calls smaller than the last waits up to linger for more
// (lingerWeight: at most this many statements make a group small).
const (
	linger       = 500 * time.Microsecond
	lingerWeight = 64
)

// A job is one call's writes. check, if not nil, decides without writing
// whether the call can go ahead (e.g. no id conflict, given the writes of
// the jobs before it in the group); its error fails the call alone. apply
// then writes; its error aborts the group's transaction, and the other calls
// of the group are run again without it. Checking first spares a SAVEPOINT
// per call, whose page copies cost more than the check.
type job struct {
	ctx    context.Context
	check  func(*wtx) error
	apply  func(*wtx) error
	weight int // the statements it writes
	done   chan error
}

// writer owns the write connection and commits queued jobs in groups.
type writer struct {
	tx        *wtx
	committed func() // called after each commit

	txMu  sync.Mutex // held while a transaction runs on tx's connection
	wrote bool       // a transaction was committed (under txMu)

	closeMu sync.RWMutex // read-held by senders; closed is set under the write lock
	closed  bool
	jobs    chan *job
	quit    chan struct{}
	stopped chan struct{}
}

func newWriter(conn *sql.Conn) (*writer, error) {
	tx, err := prepareWrites(conn)
	if err != nil {
		return nil, err
	}
	w := &writer{tx: tx, jobs: make(chan *job, maxGroup), quit: make(chan struct{}), stopped: make(chan struct{})}
	go w.loop()
	return w, nil
}

// do queues a job and waits for the commit of its group. Once queued, a
// job is always answered: its result says whether it was committed, whatever
// happens to ctx meanwhile (a job whose ctx is done before it runs is
// skipped).
func (w *writer) do(ctx context.Context, weight int, check, apply func(*wtx) error) error {
	j := &job{ctx: ctx, check: check, apply: apply, weight: weight, done: make(chan error, 1)}
	w.closeMu.RLock()
	if w.closed {
		w.closeMu.RUnlock()
		return errClosed
	}
	select {
	case w.jobs <- j:
	case <-ctx.Done():
		w.closeMu.RUnlock()
		return ctx.Err()
	}
	w.closeMu.RUnlock()
	return <-j.done
}

func (w *writer) loop() {
	defer close(w.stopped)
	group := make([]*job, 0, maxGroup)
	prev := 0 // the calls of the last group
	for {
		var j *job
		select {
		case j = <-w.jobs:
		case <-w.quit:
			// No sender is left (closed is set); commit what is queued.
			for {
				select {
				case j := <-w.jobs:
					w.run([]*job{j})
				default:
					return
				}
			}
		}
		group = append(group[:0], j)
		weight := j.weight
		// Take the calls queued while the previous commit synced: they
		// share the next commit.
	collect:
		for len(group) < maxGroup && weight < maxGroupRecords {
			select {
			case j := <-w.jobs:
				group = append(group, j)
				weight += j.weight
			default:
				break collect
			}
		}
		// Many small calls at once (single statements from many
		// clients): wait a moment for as many as the last commit had, so
		// that they share one commit, whose log writes and sync cost the
		// same for one statement as for twenty.
		if want := min(prev, maxGroup); len(group) < want && weight < lingerWeight {
			timer := time.NewTimer(linger)
		wait:
			for len(group) < want && weight < maxGroupRecords {
				select {
				case j := <-w.jobs:
					group = append(group, j)
					weight += j.weight
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		prev = len(group)
		w.run(group)
		clear(group)
	}
}

// run executes the jobs in one transaction and answers each.
func (w *writer) run(group []*job) {
	w.txMu.Lock()
	results, abortErr, failed := w.runTx(group)
	w.txMu.Unlock()
	if failed >= 0 {
		// A job failed in a way that aborted the transaction: it gets the
		// error; the others are run again without it.
		group[failed].done <- abortErr
		rest := append(group[:failed:failed], group[failed+1:]...)
		if len(rest) > 0 {
			w.run(rest)
		}
		return
	}
	for i, j := range group {
		j.done <- results[i]
	}
}

// runTx runs group in one transaction. It returns each job's result, or the
// index of a job whose error aborted the transaction (-1 if none).
func (w *writer) runTx(group []*job) (results []error, abortErr error, failed int) {
	tx := w.tx
	tx.rows = tx.rows[:0]
	results = make([]error, len(group))
	fail := func(err error) ([]error, error, int) {
		err = errs.Wrap(err, "sqlite: write")
		for i := range results {
			results[i] = err
		}
		return results, nil, -1
	}
	if _, err := tx.begin.Exec(); err != nil {
		return fail(err)
	}
	for i, j := range group {
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if j.check != nil {
			err := safely(j.check, tx)
			if isClientError(err) {
				results[i] = err
				continue
			}
			if err != nil {
				tx.rollback.Exec()
				return nil, errs.Wrap(err, "sqlite: write"), i
			}
		}
		if err := safely(j.apply, tx); err != nil {
			tx.rollback.Exec()
			return nil, errs.Wrap(err, "sqlite: write"), i
		}
	}
	if _, err := tx.commit.Exec(); err != nil {
		tx.rollback.Exec()
		return fail(err)
	}
	w.wrote = true
	if w.committed != nil {
		w.committed()
	}
	return results, nil, -1
}

// safely calls fn, turning a panic (a bug) into an error so that the writer
// goes on serving the other calls.
func safely(fn func(*wtx) error, tx *wtx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(tx)
}

// isClientError reports whether err is an error of the caller's request
// rather than of the database.
func isClientError(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind != errs.Internal
}

// close stops accepting jobs, commits those queued, checkpoints the log
// (when this handle wrote: a handle that only read, such as lrs backup's,
// must not wait for the write lock of the service beside it) and closes the
// write connection.
func (w *writer) close() error {
	w.closeMu.Lock()
	if w.closed {
		w.closeMu.Unlock()
		return nil
	}
	w.closed = true
	w.closeMu.Unlock()
	close(w.quit)
	<-w.stopped
	w.txMu.Lock()
	defer w.txMu.Unlock()
	var err error
	if w.wrote {
		_, err = w.tx.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	return errors.Join(err, w.tx.close())
}
