package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// trendMonths is how many months the overview's trend shows.
const trendMonths = 12

// counts are the counts of some rows, with the share completed written
// out ("" without rows).
type counts struct {
	*reporting.Counts
	Share string
}

// Overdue and Expired count the rows with those statuses.
func (c counts) Overdue() int { return c.Status[reporting.StatusOverdue] }
func (c counts) Expired() int { return c.Status[reporting.StatusExpired] }

// counts returns c with its share written out.
func (r *request) counts(c *reporting.Counts) counts {
	out := counts{Counts: c}
	if c.Rows > 0 {
		out.Share = r.Percent(c.Percent)
	}
	return out
}

// countsRow is a line of an overview table: a unit, a module or a campaign
// with the counts of its rows.
type countsRow struct {
	ID, Name string
	Depth    int    // units: below the highest unit listed
	Period   string // campaigns: from–to
	counts
}

type overviewData struct {
	Dates     dates
	Computed  string // when the figures were computed (see trendCache)
	Tenant    bool   // the whole tenant (and knownAt may be given)
	People    int
	Total     counts
	Units     []countsRow
	Modules   []countsRow
	Campaigns []countsRow
	Trend     []trendPoint
	Chart     *chart
}

// trendPoint is a day of the trend.
type trendPoint struct {
	Day reporting.Date
	counts
}

// overview serves GET /overview?asOf=&knownAt=: for hr and auditors the
// whole tenant, for managers the subtrees of the units they manage:
// completion per unit and per module, overdue counts, the progress of
// campaigns, and the share completed at the end of each of the last
// twelve months (reporting.Trend, one reading of the facts), as a chart
// with the figures in a table too.
func (p *Pages) overview(r *request) error {
	if !r.acc.Tenantwide() && !r.acc.Manager() {
		return errs.E(errs.Forbidden, "the overview is for managers, hr and auditors")
	}
	d, err := p.readDates(r)
	if err != nil {
		return err
	}
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	q := reporting.Query{Options: d.options(p.cfg.Location)}
	if !r.acc.Tenantwide() {
		q.Units = r.acc.Manages
	}
	days := reporting.MonthEnds(d.AsOf, trendMonths)
	key := strings.Join([]string{r.acc.Tenant, strings.Join(q.Units, ","), d.AsOf.String(), q.KnownAt.Format(time.RFC3339Nano)}, "|")
	sums, at, err := p.trends.get(key, p.now(), func() ([]*reporting.Summary, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.c.Request().Context()), trendTimeout)
		defer cancel()
		return reporting.Trend(ctx, p.cfg.Reporting, r.acc.Tenant, q, days)
	})
	if err != nil {
		return err
	}
	sum := sums[len(sums)-1]
	data := overviewData{Dates: d, Tenant: r.acc.Tenantwide(), People: sum.People, Total: r.counts(&sum.Total), Computed: r.Time(at)}
	row := func(id, name string, c *reporting.Counts) countsRow {
		return countsRow{ID: id, Name: name, counts: r.counts(c)}
	}
	for _, u := range unitList(r.acc.Units, r.acc.VisibleUnits()) {
		if c := sum.Units[u.ID]; c != nil {
			cr := row(u.ID, u.Name, c)
			cr.Depth = u.Depth
			data.Units = append(data.Units, cr)
		}
	}
	for _, m := range cat.Modules {
		if c := sum.Modules[m.ID]; c != nil {
			data.Modules = append(data.Modules, row(m.ID, r.Title(m.Title, m.ID), c))
		}
	}
	for _, c := range cat.Campaigns {
		if n := sum.Campaigns[c.ID]; n != nil {
			cr := row(c.ID, r.Title(c.Title, c.ID), n)
			cr.Period = r.Date(c.Start) + "–" + r.Date(c.End)
			data.Campaigns = append(data.Campaigns, cr)
		}
	}
	for i, s := range sums {
		data.Trend = append(data.Trend, trendPoint{days[i], r.counts(&s.Total)})
	}
	data.Chart = r.trendChart(data.Trend)
	return p.render(r, http.StatusOK, "overview", r.T("overview.title"), data)
}

// chart is a line chart of shares (0-100 %) over days, drawn by the
// template as SVG: coordinates in the chart's viewBox.
type chart struct {
	Width, Height          int
	Left, Right, Top, Base int // the plot area
	Title, Desc            string
	YTicks                 []tick
	XTicks                 []tick
	Lines                  []string // polyline points, one per run of days with requirements
	Points                 []tick
}

// tick is a labelled position: a grid line or a point, with where its
// labels go.
type tick struct {
	X, Y        int
	TX, TY      int // the label
	Label       string
	Sub         string // a second line (the year under a month)
	SubY        int
	Description string
}

// trendChart lays out the trend: days at equal steps, the share
// completed on each day with requirements (a day without any is a gap).
func (r *request) trendChart(points []trendPoint) *chart {
	c := &chart{Width: 640, Height: 280, Left: 56, Right: 624, Top: 16, Base: 232}
	y := func(pct float64) int { return c.Base - int(pct*float64(c.Base-c.Top)/100+0.5) }
	for pct := 0; pct <= 100; pct += 25 {
		ty := y(float64(pct))
		c.YTicks = append(c.YTicks, tick{X: c.Left, Y: ty, TX: c.Left - 8, TY: ty + 5, Label: r.Percent0(pct)})
	}
	step := float64(c.Right-c.Left) / float64(max(len(points)-1, 1))
	var line []string
	var first, last *trendPoint
	for i := range points {
		pt := &points[i]
		x := c.Left + int(float64(i)*step+0.5)
		month, year := r.Month(pt.Day)
		t := tick{X: x, Y: c.Base, TX: x, TY: c.Base + 22, SubY: c.Base + 40, Label: month}
		if i == 0 || month == r.monthName(1) {
			t.Sub = year
		}
		c.XTicks = append(c.XTicks, t)
		if pt.Rows == 0 {
			if len(line) > 0 {
				c.Lines = append(c.Lines, strings.Join(line, " "))
			}
			line = nil
			continue
		}
		py := y(pt.Percent)
		line = append(line, strconv.Itoa(x)+","+strconv.Itoa(py))
		c.Points = append(c.Points, tick{X: x, Y: py, Label: r.Percent(pt.Percent),
			Description: r.Date(pt.Day) + ": " + r.Percent(pt.Percent)})
		if first == nil {
			first = pt
		}
		last = pt
	}
	if len(line) > 0 {
		c.Lines = append(c.Lines, strings.Join(line, " "))
	}
	c.Title = r.T("overview.trend")
	if first == nil {
		c.Desc = r.T("overview.trend.none")
	} else {
		c.Desc = r.T("overview.trend.desc", r.Percent(first.Percent), r.Date(first.Day), r.Percent(last.Percent), r.Date(last.Day))
	}
	return c
}

// Percent0 writes a whole percentage for an axis: 25 % (no-break space)
// in Norwegian, 25% in English.
func (l locale) Percent0(p int) string {
	if l.lang == langNB {
		return strconv.Itoa(p) + "\u00a0%"
	}
	return strconv.Itoa(p) + "%"
}

// Month names the month of a day, short, and its year.
func (l locale) Month(d reporting.Date) (month, year string) {
	s := d.String() // YYYY-MM-DD
	m, _ := strconv.Atoi(s[5:7])
	return l.monthName(m), s[:4]
}

var monthsNB = []string{"jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."}

func (l locale) monthName(m int) string {
	if l.lang == langNB {
		return monthsNB[m-1]
	}
	return monthsEN[m-1]
}

// How long the figures of an overview are shown as they are (fresh), how
// long older ones are still shown while new ones are computed (stale), and
// how long computing them may take.
const (
	trendFresh   = 2 * time.Minute
	trendStale   = 30 * time.Minute
	trendTimeout = 2 * time.Minute
)

// trendCache keeps the figures of overviews: the overview of a whole
// organisation reads every person's facts and evaluates twelve days
// (seconds of CPU at 55,000 people), and it is the start page of hr,
// auditors and managers. Figures younger than trendFresh are shown as
// they are; older ones, up to trendStale, are shown at once while new
// ones are computed in the background for the next request; others are
// computed while the request waits. Requests for figures being computed
// wait for them rather than compute them again. The page says when its
// figures were computed; the unit and person pages and the API are
// always current.
type trendCache struct {
	mu      sync.Mutex
	entries map[string]*trendEntry
}

type trendEntry struct {
	ready   chan struct{} // closed when sums or err is set
	sums    []*reporting.Summary
	err     error
	at      time.Time
	renewal bool // new figures are being computed to replace these
}

func (e *trendEntry) done() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// get returns the figures kept under key, or those compute returns (an
// error is not kept), with the time they were computed; see trendCache.
func (c *trendCache) get(key string, now time.Time, compute func() ([]*reporting.Summary, error)) ([]*reporting.Summary, time.Time, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*trendEntry{}
	}
	e := c.entries[key]
	if e != nil && e.done() {
		switch age := now.Sub(e.at); {
		case e.err != nil || age >= trendStale:
			e = nil
		case age >= trendFresh && !e.renewal:
			e.renewal = true
			n := &trendEntry{ready: make(chan struct{}), at: now}
			go c.compute(key, n, e, compute)
		}
	}
	if e == nil {
		for k, old := range c.entries { // forget what has expired
			if old.done() && now.Sub(old.at) >= trendStale {
				delete(c.entries, k)
			}
		}
		e = &trendEntry{ready: make(chan struct{}), at: now}
		c.entries[key] = e
		c.mu.Unlock()
		c.compute(key, e, nil, compute)
		return e.sums, e.at, e.err
	}
	c.mu.Unlock()
	<-e.ready
	return e.sums, e.at, e.err
}

// compute computes the figures of e, kept under key (in place of old, if
// any) once computed without an error.
func (c *trendCache) compute(key string, e, old *trendEntry, compute func() ([]*reporting.Summary, error)) {
	e.sums, e.err = compute()
	c.mu.Lock()
	switch {
	case e.err == nil && old != nil && c.entries[key] == old:
		c.entries[key] = e
	case e.err != nil && old != nil:
		old.renewal = false // the next request tries again
	case e.err != nil && c.entries[key] == e:
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(e.ready)
}
