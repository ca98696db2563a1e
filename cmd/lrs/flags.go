package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// errHelpShown is returned by a command that printed its usage because it
// was asked to (-h, --help): run then returns nil, and lrs exits 0.
var errHelpShown = errors.New("help shown")

// flags is the flag set of one command. Its flags may take their default
// from an environment variable; a value there that cannot be read is an
// error unless the flag is given on the command line, which wins.
type flags struct {
	*flag.FlagSet
	cmd    *command
	envErr map[string]error // by flag name
}

// newFlags returns the flag set of the command called name.
func newFlags(name string) *flags {
	c := findCommand(name)
	if c == nil {
		panic("no command " + name)
	}
	f := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), cmd: c, envErr: map[string]error{}}
	f.Usage = func() {
		w := f.Output()
		fmt.Fprintf(w, "Usage: lrs %s\n\n%s.\n", c.synopsis, strings.ToUpper(c.summary[:1])+c.summary[1:])
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
		n := 0
		f.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			f.PrintDefaults()
		}
	}
	return f
}

// parse parses args, with flags before, between and after the positional
// arguments, and returns the positional ones, which must be as many as
// names (named in the error). Asked for help, it prints the usage on
// stdout and returns errHelpShown; on a bad flag, the usage goes to stderr.
func (f *flags) parse(s streams, args []string, names ...string) ([]string, error) {
	var out bytes.Buffer
	f.SetOutput(&out)
	var pos []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			s.stdout.Write(out.Bytes())
			return nil, errHelpShown
		}
		if err != nil {
			s.stderr.Write(out.Bytes())
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		rest := f.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" { // no flags after --
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if err := f.envErr[fl.Name]; err != nil && !given[fl.Name] {
			errs = append(errs, err)
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", f.Name(), errors.Join(errs...))
	}
	switch {
	case len(pos) == len(names):
		return pos, nil
	case len(names) == 0:
		return nil, fmt.Errorf("%s: unexpected argument %q (usage: lrs %s)", f.Name(), pos[0], f.cmd.synopsis)
	}
	return nil, fmt.Errorf("%s: want %s (usage: lrs %s)", f.Name(), strings.Join(names, " "), f.cmd.synopsis)
}

// envVar defines the flag name with the value v, whose default is first
// set from the environment variable envName when that is set and not empty.
func (f *flags) envVar(v flag.Value, name, envName, usage string) {
	if s := os.Getenv(envName); s != "" {
		if err := v.Set(s); err != nil {
			f.envErr[name] = fmt.Errorf("%s=%q: %w", envName, s, err)
		}
	}
	f.Var(v, name, usage+" (env "+envName+")")
}

// envString defines a string flag defaulting from envName, else def.
func (f *flags) envString(name, envName, def, usage string) *string {
	p := new(string)
	*p = def
	f.envVar((*stringValue)(p), name, envName, usage)
	return p
}

// envDuration defines a duration flag defaulting from envName, else def;
// off, when set, is the value "off" and "none" stand for.
func (f *flags) envDuration(name, envName string, def time.Duration, min time.Duration, off *time.Duration, usage string) *time.Duration {
	v := &durationValue{d: def, min: min, off: off}
	f.envVar(v, name, envName, usage)
	return &v.d
}

// envSize defines a byte size flag defaulting from envName, else def.
func (f *flags) envSize(name, envName string, def int64, usage string) *int64 {
	v := sizeValue(def)
	f.envVar(&v, name, envName, usage)
	return (*int64)(&v)
}

// envSizeOff defines a byte size flag defaulting from envName, else def,
// whose value may also be "off" or "none" (-1).
func (f *flags) envSizeOff(name, envName string, def int64, usage string) *int64 {
	v := sizeOffValue(def)
	f.envVar(&v, name, envName, usage)
	return (*int64)(&v)
}

// envBool defines a boolean flag defaulting from envName, else def.
func (f *flags) envBool(name, envName string, def bool, usage string) *bool {
	v := boolValue(def)
	f.envVar(&v, name, envName, usage)
	return (*bool)(&v)
}

type stringValue string

func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }
func (s *stringValue) String() string     { return string(*s) }

// boolValue is a boolean written as true/false, 1/0, yes/no or on/off.
type boolValue bool

func (b *boolValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "yes", "on":
		*b = true
	case "0", "f", "false", "no", "off":
		*b = false
	default:
		return errors.New("want true or false (also 1/0, yes/no, on/off)")
	}
	return nil
}
func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

// durationValue is a duration with a unit, at least min, or "off"/"none"
// when off is set.
type durationValue struct {
	d   time.Duration
	min time.Duration
	off *time.Duration
}

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s, v.min, v.off)
	if err != nil {
		return err
	}
	v.d = d
	return nil
}

func (v *durationValue) String() string {
	if v.off != nil && v.d == *v.off {
		return "off"
	}
	return v.d.String()
}

// parseDuration reads a duration with a unit ("500ms", "5s", "2m",
// "1h30m"), at least min; when off is not nil, "off", "none" and negative
// durations give *off.
func parseDuration(s string, min time.Duration, off *time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	forms := "a duration with a unit, such as 500ms, 5s, 2m or 1h30m"
	if off != nil {
		forms += ", or off"
	}
	if off != nil && (strings.EqualFold(s, "off") || strings.EqualFold(s, "none")) {
		return *off, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return 0, fmt.Errorf("%s has no unit: want %s (%ss for seconds)", s, forms, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want %s", forms)
	}
	if off != nil && d < 0 { // documented of old as none
		return *off, nil
	}
	if d < min {
		return 0, fmt.Errorf("%s is less than %s: want %s", d, min, forms)
	}
	return d, nil
}

// sizeValue is a number of bytes, written with or without a unit.
type sizeValue int64

func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

func (v *sizeValue) String() string { return formatSize(int64(*v)) }

// sizeOffValue is a number of bytes as sizeValue, or off (stored as -1).
type sizeOffValue int64

func (v *sizeOffValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "none":
		*v = -1
		return nil
	}
	n, err := parseSize(s)
	if err != nil {
		return fmt.Errorf("%w, or off", err)
	}
	*v = sizeOffValue(n)
	return nil
}

func (v *sizeOffValue) String() string {
	if *v < 0 {
		return "off"
	}
	return formatSize(int64(*v))
}

// sizeUnits are the units of parseSize: decimal (kB = 1000 bytes) and
// binary (KiB = 1024 bytes), case aside.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
}

const sizeForms = "a positive number of bytes, such as 20971520, 20MiB (binary: KiB, MiB, GiB) or 20MB (decimal: kB, MB, GB)"

// parseSize reads a positive byte size: "20971520", "20MiB", "20MB",
// "1.5GiB", "512 KiB".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := sizeUnits[unit]
	if !ok || num == "" {
		return 0, fmt.Errorf("want %s", sizeForms)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil && n > 0 && n <= math.MaxInt64/mult {
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f*float64(mult) < 1 || f*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("want %s", sizeForms)
	}
	return int64(f * float64(mult)), nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// rateValue is a rate limit in requests per second: a positive number, or
// off (no limit, stored as -1).
type rateValue float64

const rateForms = "a positive number of requests per second, such as 1000 or 2.5, or off for no limit"

func (v *rateValue) Set(s string) error {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "off", "none", "unlimited":
		*v = -1
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f == 0:
		return fmt.Errorf("want %s", rateForms)
	case f < 0: // documented of old as no limit
		f = -1
	}
	*v = rateValue(f)
	return nil
}

func (v *rateValue) String() string {
	if *v < 0 {
		return "off"
	}
	return strconv.FormatFloat(float64(*v), 'f', -1, 64)
}

// countValue is a whole number, at least 0.
type countValue int

func (v *countValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return errors.New("want a whole number, 0 or more")
	}
	*v = countValue(n)
	return nil
}

func (v *countValue) String() string { return strconv.Itoa(int(*v)) }

// prefixesValue is a list of IP address ranges: CIDR prefixes or single
// addresses, separated by commas or spaces.
type prefixesValue []*net.IPNet

const prefixForms = "IP ranges in CIDR form or single addresses, separated by commas, such as 10.0.0.0/8,192.0.2.7"

func (v *prefixesValue) Set(s string) error {
	var out prefixesValue
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is not an address or range: want %s", f, prefixForms)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		out = append(out, &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())})
	}
	*v = out
	return nil
}

func (v *prefixesValue) String() string {
	s := make([]string, len(*v))
	for i, n := range *v {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}
