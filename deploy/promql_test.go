package deploy

import (
	"fmt"
	"strings"
	"testing"
)

// selector is a metric a PromQL expression reads, with the label names its
// matchers use.
type selector struct {
	metric string
	labels []string
}

// promqlWords are identifiers that are not metric names: keywords,
// operators and aggregations (which may be followed by "by (...)" rather
// than by a parenthesis).
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true, "inf": true, "nan": true,
	"sum": true, "avg": true, "min": true, "max": true, "count": true, "stddev": true, "stdvar": true,
	"topk": true, "bottomk": true, "quantile": true, "count_values": true, "group": true,
	"limitk": true, "limit_ratio": true,
}

// labelListWords are followed by a parenthesised list of label names.
var labelListWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// selectors returns the metrics a PromQL expression reads. It is a small
// scanner, not a full parser: it knows strings, range and subquery brackets,
// label matchers, label lists of by/without/on/ignoring, numbers and
// durations, function calls and Grafana's $variables, and it checks that
// parentheses and braces balance.
func selectors(expr string) ([]selector, error) {
	var out []selector
	depth := 0
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [ at %d", i)
			}
			i += j + 1
		case c == '{':
			labels, end, err := matchers(expr, i)
			if err != nil {
				return nil, err
			}
			out = append(out, selector{labels: labels})
			i = end
		case c == '$':
			i++
			for i < len(expr) && isIdent(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(expr) && expr[i+1] >= '0' && expr[i+1] <= '9':
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.' ||
				(expr[i] == '+' || expr[i] == '-') && (expr[i-1] == 'e' || expr[i-1] == 'E')) {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\n' || expr[k] == '\t') {
				k++
			}
			switch {
			case labelListWords[word] && k < len(expr) && expr[k] == '(':
				end := strings.IndexByte(expr[k:], ')')
				if end < 0 {
					return nil, fmt.Errorf("unclosed label list after %s", word)
				}
				i = k + end + 1
			case promqlWords[strings.ToLower(word)], k < len(expr) && expr[k] == '(':
				i = j // a keyword or a function
			default:
				sel := selector{metric: word}
				i = j
				if k < len(expr) && expr[k] == '{' {
					labels, end, err := matchers(expr, k)
					if err != nil {
						return nil, err
					}
					sel.labels, i = labels, end
				}
				out = append(out, sel)
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced ) at %d", i)
			}
			i++
		case c == '}':
			return nil, fmt.Errorf("unbalanced } at %d", i)
		default:
			i++
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%d unclosed (", depth)
	}
	return out, nil
}

// skipString returns the index after the string starting at i.
func skipString(expr string, i int) (int, error) {
	q := expr[i]
	for j := i + 1; j < len(expr); j++ {
		switch {
		case expr[j] == '\\' && q != '`':
			j++
		case expr[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d", i)
}

// matchers reads the label matchers of the brace at i and returns their
// label names and the index after the closing brace.
func matchers(expr string, i int) ([]string, int, error) {
	var labels []string
	j := i + 1
	for {
		for j < len(expr) && (expr[j] == ' ' || expr[j] == ',' || expr[j] == '\n') {
			j++
		}
		if j >= len(expr) {
			return nil, 0, fmt.Errorf("unclosed { at %d", i)
		}
		if expr[j] == '}' {
			return labels, j + 1, nil
		}
		k := j
		for k < len(expr) && isIdent(expr[k]) {
			k++
		}
		if k == j {
			return nil, 0, fmt.Errorf("want a label name at %d", j)
		}
		labels = append(labels, expr[j:k])
		for k < len(expr) && expr[k] == ' ' {
			k++
		}
		op := ""
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(expr[k:], o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, 0, fmt.Errorf("want =, !=, =~ or !~ at %d", k)
		}
		k += len(op)
		for k < len(expr) && expr[k] == ' ' {
			k++
		}
		if k >= len(expr) || (expr[k] != '"' && expr[k] != '\'' && expr[k] != '`') {
			return nil, 0, fmt.Errorf("want a quoted label value at %d", k)
		}
		end, err := skipString(expr, k)
		if err != nil {
			return nil, 0, err
		}
		j = end
	}
}

func TestSelectors(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string
	}{
		{`up{job="lrs"} == 0`, `up[job]`},
		{`histogram_quantile(0.95, sum by (le, route) (rate(lrs_x_bucket{instance=~"$instance",route="/a{b}"}[$__rate_interval])))`, `lrs_x_bucket[instance route]`},
		{`sum without (kind) (rate(a_total[5m] offset 1h)) / on (instance) group_left(version) b_info > bool 1e-3`, `a_total[] b_info[]`},
		{`topk(10, sum by (rule) (increase(c_total{reason="invalid"}[1h])))`, `c_total[reason]`},
		{`max_over_time(d[1h:5m]) and {__name__="e"}`, `d[] [__name__]`},
	} {
		sels, err := selectors(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			got = append(got, s.metric+"["+strings.Join(s.labels, " ")+"]")
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: got %v, want %s", c.expr, got, c.want)
		}
	}
	for _, bad := range []string{`sum(rate(x[5m])`, `x{a="b"`, `x{a}`, `rate(x[5m]))`, `x{a="b}`} {
		if _, err := selectors(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
