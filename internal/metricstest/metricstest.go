// Package metricstest reads series out of parsed Prometheus metric
// families, for tests that scrape /metrics.
package metricstest

import dto "github.com/prometheus/client_model/go"

// Series returns the first series of family f whose labels include the
// name=value pairs given (other labels may be present), or nil when there
// is none (or f is nil).
func Series(f *dto.MetricFamily, labels ...string) *dto.Metric {
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// Value is the value of a counter or gauge, or the count of a histogram;
// -1 for any other kind of series.
func Value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}
