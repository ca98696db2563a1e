package reporting

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// MonthEnds returns the days a monthly trend ending on day today shows:
// the last day of each of the n-1 months before today's month, then
// today, oldest first.
func MonthEnds(today Date, n int) []Date {
	t := today.Start(time.UTC)
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	days := make([]Date, n)
	days[n-1] = today
	for i := n - 2; i >= 0; i-- {
		days[i] = DateOf(first.AddDate(0, i-(n-1)+1, -1), time.UTC)
	}
	return days
}

// maxTrendDays bounds the days of one Trend.
const maxTrendDays = 60

// Trend computes the summary of the report q as of the end of each of
// days (in q.Location; q.AsOf is ignored): each the Summary Report gives
// with AsOf at the last instant of that day, as known at q.KnownAt. It
// reads every person's facts once, however many days: the roster's view
// of each day says who was required to complete what, and the facts
// timestamped up to each day's end are evaluated against it. days must be
// in increasing order, at most 60 of them.
func Trend(ctx context.Context, st Store, tenant string, q Query, days []Date) ([]*Summary, error) {
	if len(days) == 0 || len(days) > maxTrendDays {
		return nil, errs.Invalidf("days", "days", "a trend has 1 to %d days, not %d", maxTrendDays, len(days))
	}
	for i := 1; i < len(days); i++ {
		if days[i] <= days[i-1] {
			return nil, errs.Invalidf("days", "days", "the days of a trend must be increasing")
		}
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	end := func(d Date) time.Time { return d.AddDays(1).Start(loc).Add(-time.Nanosecond) }
	last := len(days) - 1
	q.AsOf = end(days[last])
	r, err := prepareDays(ctx, st, tenant, q, days[:last])
	if err != nil {
		return nil, err
	}

	// One evaluation per day: its engine (rules, campaigns and exemptions
	// in force), its view of the roster and its people.
	type day struct {
		eng    *engine
		view   *View
		units  map[string]bool
		asOf   int64
		sum    *summer
		people map[string]*Person
	}
	ds := make([]*day, len(days))
	var wg sync.WaitGroup // the views of the days are built in parallel
	for i, d := range days {
		x := &day{eng: r.eng, view: r.view, units: r.units, asOf: q.AsOf.UnixNano()}
		ds[i] = x
		if i == last {
			continue
		}
		opts := r.q.Options
		opts.AsOf = end(d)
		x.eng, x.asOf = newEngine(r.eng.cat, opts), opts.AsOf.UnixNano()
		wg.Go(func() {
			x.view = NewView(r.roster, d)
			if len(q.Units) > 0 {
				x.units = x.view.Subtree(q.Units)
			}
		})
	}
	wg.Wait()
	everyone := map[string]*Person{}
	for _, x := range ds {
		x.eng.noEvidence = true
		x.people = map[string]*Person{}
		for id, p := range x.view.People {
			if r.selects(p, x.units) {
				x.people[id] = p
				everyone[id] = p // a person's Keys are the same on every day
			}
		}
		x.sum = newSummer(r, x.eng, x.view, x.units)
	}
	people := make([]*Person, 0, len(everyone))
	for _, p := range everyone {
		people = append(people, p)
	}
	slices.SortFunc(people, func(a, b *Person) int { return cmp.Compare(a.ID, b.ID) })

	var row Row
	err = r.batches(ctx, people, func(_ int, b *batch) error {
		for i, p := range b.people {
			facts := b.facts[i]
			slices.SortFunc(facts, func(a, b efact) int { return cmp.Compare(a.ts, b.ts) })
			for _, x := range ds {
				pd := x.people[p.ID]
				if pd == nil {
					continue
				}
				reqs := x.eng.requirements(x.view, pd)
				if len(reqs) == 0 {
					continue
				}
				// The facts up to the day's end: a prefix, the facts being
				// in time order.
				n := sort.Search(len(facts), func(j int) bool { return facts[j].ts > x.asOf })
				g := x.eng.group(facts[:n])
				roles := roleIDs(pd)
				for _, req := range reqs {
					if !r.wants(req) {
						continue
					}
					row = x.eng.evaluate(pd, roles, req, g.of(req.module))
					x.sum.add(&row)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Summary, len(ds))
	for i, x := range ds {
		out[i] = x.sum.finish()
	}
	return out, nil
}
