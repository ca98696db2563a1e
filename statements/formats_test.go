package statements

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidIRI(t *testing.T) {
	good := []string{
		"http://example.com",
		"http://adlnet.gov/expapi/verbs/completed",
		"https://example.com/a/b?c=d&e=f#g",
		"urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
		"mailto:jane@example.com",
		"tag:example.com,2024:x",
		"http://example.com/فعل/خواندن",
		"https://[2001:db8::1]:8080/",
		"http://example.com/a%20b",
		"x-custom+scheme.v1:thing",
		"http://example.com/~user/(1)!$&'*+,;=:@",
		"file:///C:/x",
		"example.com:8080/x", // scheme "example.com": syntactically an absolute IRI
	}
	bad := []string{
		"", "example.com", "not a uri", "www.example.com/x", "/relative", "#frag",
		"http://example.com/a b", "ab=c://should.fail.com", "1http://x", ":x", "http:",
		"http://example.com/<x>", `http://example.com/"`, "http://example.com/{x}", "http://example.com/a|b",
		"http://example.com/\\x", "http://example.com/^", "http://example.com/`", "http://example.com/%",
		"http://example.com/%zz", "http://example.com/%2", "http://example.com/#a#b",
		"http://example.com/\x00", "http://example.com/\u0085", "http://example.com/\ufffe",
		"http://example.com/\xff", "http://example.com/\U000E0001",
	}
	for _, s := range good {
		if !ValidIRI(s) {
			t.Errorf("ValidIRI(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidIRI(s) {
			t.Errorf("ValidIRI(%q) = true", s)
		}
	}
}

func TestValidLanguageTag(t *testing.T) {
	good := []string{
		"en", "EN", "en-US", "en-us", "fr", "tlh", "zh-Hant", "zh-Hant-TW", "sr-Latn-RS", "es-419",
		"de-CH-1901", "sl-rozaj-biske", "hy-Latn-IT-arevela", "zh-yue-HK", "zh-min-nan", "x-whatever",
		"qaa-Qaaa-QM-x-southern", "de-Qaaa", "en-US-x-twain", "en-a-myext-b-another", "i-klingon",
		"en-GB-oed", "art-lojban", "sgn-BE-FR", "abcde", "abcdefgh", "en-1234",
		// well-formed though unregistered (x/text/language refuses these)
		"xx", "xx-YY", "en-t-xx",
		// well-formed though invalid (a repeated variant or singleton)
		"de-1901-1901", "en-a-xx-a-yy",
		"und", "en-u-ca-gregory", "aaa-bbb-ccc-ddd", "x-a-b-c-d", "X-A",
	}
	bad := []string{
		"", "e", "en_US", "en-", "-en", "en--US", "a12345678", "abcdefghi", "123", "en-US-",
		"en-a", "en-x", "x", "en-a-b-c", "en US", "en-US!", "é", "en-abcdefghi", "12-US",
		"en-x-123456789", "zh-Hant-abc",
		// ill-formed, though x/text/language takes some of them
		"en-Latn-Latn", "en-US-US", "i-foo", "en-GB-oed-x", "en_GB", "zh_Hant_TW", "s-something",
	}
	for _, s := range good {
		if !ValidLanguageTag(s) {
			t.Errorf("ValidLanguageTag(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidLanguageTag(s) {
			t.Errorf("ValidLanguageTag(%q) = true", s)
		}
	}
}

func TestValidDuration(t *testing.T) {
	good := []string{
		"PT4H35M59.14S", "PT16559.14S", "P3Y1M29DT4H35M59.14S", "P3Y", "P4W", "P1W", "PT0S", "P0D",
		"P1M", "PT1M", "P1Y2M3D", "PT1H", "PT0.5S", "PT0,5S", "P1DT1S", "P1.5Y", "PT1H0M0S", "PT1234S",
		"P10000Y",
	}
	bad := []string{
		"", "P", "PT", "P1DT", "T1H", "1H", "PT1S1M", "PT1H2H", "P1D1Y", "P4W1D", "P1DW", "PW",
		"P-1D", "P+1D", "-P1D", "P1.D", "P.5D", "PT1.5H2M", "P1.5DT1H", "P0003-01-01T00:00:00", "pt1h",
		"P1H", "PT1D", "P1Y1Y", "P 1D", "PT1S ", "P1TT1S", "PT1HT1M", "P1W2W", "PTW",
		"P1Y2W", "P2WT1H", "P1.5W2D", "P1W,5",
	}
	for _, s := range good {
		if !ValidDuration(s) {
			t.Errorf("ValidDuration(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidDuration(s) {
			t.Errorf("ValidDuration(%q) = true", s)
		}
	}
}

// TestParseDuration checks the components ParseDuration reads, which
// reporting.ParsePeriod builds on.
func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Duration
	}{
		{"P3Y1M29DT4H35M59.14S", Duration{Years: 3, Months: 1, Days: 29, Hours: 4, Minutes: 35, Seconds: 59.14, Time: true, Fraction: true}},
		{"P4W", Duration{Weeks: 4}},
		{"P1.5W", Duration{Weeks: 1.5, Fraction: true}},
		{"P1Y6M", Duration{Years: 1, Months: 6}},
		{"P0,5D", Duration{Days: 0.5, Fraction: true}},
		{"PT16559.14S", Duration{Seconds: 16559.14, Time: true, Fraction: true}},
		{"P1DT1S", Duration{Days: 1, Seconds: 1, Time: true}},
		{"P0D", Duration{}},
	} {
		got, ok := ParseDuration(tc.in)
		if !ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %+v, %v; want %+v", tc.in, got, ok, tc.want)
		}
	}
	if d, ok := ParseDuration("P" + strings.Repeat("9", 400) + "D"); !ok || !math.IsInf(d.Days, 1) {
		t.Errorf("a huge number of days: %+v, %v", d, ok)
	}
}

func TestParseTimestamp(t *testing.T) {
	good := []struct {
		in   string
		want time.Time
	}{
		{"2015-11-18T12:17:00Z", time.Date(2015, 11, 18, 12, 17, 0, 0, time.UTC)},
		{"2015-11-18T12:17:00+00:00", time.Date(2015, 11, 18, 12, 17, 0, 0, time.UTC)},
		{"2023-05-04T12:00:00-05:00", time.Date(2023, 5, 4, 17, 0, 0, 0, time.UTC)},
		{"2008-09-15T15:53:00.601+00:00", time.Date(2008, 9, 15, 15, 53, 0, 601e6, time.UTC)},
		{"2008-09-15t15:53:00.601z", time.Date(2008, 9, 15, 15, 53, 0, 601e6, time.UTC)},
		{"2008-09-15T15:53:00,5+01:30", time.Date(2008, 9, 15, 14, 23, 0, 5e8, time.UTC)},
		{"2008-09-15T15:53:00.123456789123Z", time.Date(2008, 9, 15, 15, 53, 0, 123456789, time.UTC)},
		{"20080915T155300.601+0200", time.Date(2008, 9, 15, 13, 53, 0, 601e6, time.UTC)},
		{"20080915T155300Z", time.Date(2008, 9, 15, 15, 53, 0, 0, time.UTC)},
		{"2008-09-15T15:53:00+05", time.Date(2008, 9, 15, 10, 53, 0, 0, time.UTC)},
		{"2008-09-15T15:53:00-00:30", time.Date(2008, 9, 15, 16, 23, 0, 0, time.UTC)},
		{"2008-09-15T15:53:00.601+0200", time.Date(2008, 9, 15, 13, 53, 0, 601e6, time.UTC)},
		{"2008-09-15T15:53:00", time.Date(2008, 9, 15, 15, 53, 0, 0, time.UTC)},
		{"2024-02-29T23:59:59Z", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"0001-01-01T00:00:00Z", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range good {
		got, err := ParseTimestamp(tc.in)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	bad := []string{
		"", "should fail", "01/011/2015", "2015-01-01", "2015-01-01T", "2015-01-01T10:00",
		"2008-09-15T15:53:00.601-00", "2008-09-15T15:53:00.601-0000", "2008-09-15T15:53:00.601-00:00",
		"2015-02-29T00:00:00Z", "2015-13-01T00:00:00Z", "2015-00-01T00:00:00Z", "2015-01-00T00:00:00Z",
		"2015-01-01T24:00:00Z", "2015-01-01T23:60:00Z", "2015-01-01T23:59:60Z", "2015-01-01 00:00:00Z",
		"2015-01-01T00:00:00.Z", "2015-01-01T00:00:00ZZ", "2015-01-01T00:00:00+24:00", "2015-01-01T00:00:00+01:60",
		"20150101T00:00:00Z", "2015-01-01T000000Z", "20150101T000000+01:00",
		"2015-1-01T00:00:00Z", "15-01-01T00:00:00Z", "2015-01-01T00:00:00+1", "+2015-01-01T00:00:00Z",
		"2015-01-01T00:00:00 Z", " 2015-01-01T00:00:00Z", "2015-01-01T00:00:00+01:00:00",
	}
	for _, s := range bad {
		if _, err := ParseTimestamp(s); err == nil {
			t.Errorf("ParseTimestamp(%q) accepted", s)
		}
	}
}

func TestValidUUID(t *testing.T) {
	good := []string{"6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE", "00000000-0000-0000-0000-000000000000"}
	bad := []string{
		"", "6690e6c9-3ef0-4ed3-8b37-7f3964730be", "6690e6c9-3ef0-4ed3-8b37-7f3964730beee",
		"urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "{6690e6c9-3ef0-4ed3-8b37-7f3964730bee}",
		"6690e6c93ef04ed38b377f3964730bee", "6690e6c9_3ef0-4ed3-8b37-7f3964730bee", "g690e6c9-3ef0-4ed3-8b37-7f3964730bee",
		"6690e6c9-3ef04-ed3-8b37-7f3964730bee",
	}
	for _, s := range good {
		if !ValidUUID(s) {
			t.Errorf("ValidUUID(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidUUID(s) {
			t.Errorf("ValidUUID(%q) = true", s)
		}
	}
}

func TestMboxAndHashes(t *testing.T) {
	good := []string{"mailto:a@example.com", "mailto:first.last+tag@sub.example.co.uk", "mailto:x@localhost", "mailto:x@[192.0.2.1]", "mailto:ü@exämple.de", "mailto:o'brien@example.ie"}
	bad := []string{"", "a@example.com", "mailto:", "mailto:@example.com", "mailto:a@", "mailto:should.fail.com", "MAILTO:a@example.com",
		"mailto:a b@example.com", "mailto:a@exa mple.com", "mailto:a@example.com?subject=x", "mailto:a@-example.com", "mailto:a@example..com",
		"mailto:a@.example.com", "mailto:a<b>@example.com", "http://should.fail.com", "mailto:a@example.com,b@example.com"}
	for _, s := range good {
		if !validMbox(s) {
			t.Errorf("validMbox(%q) = false", s)
		}
	}
	for _, s := range bad {
		if validMbox(s) {
			t.Errorf("validMbox(%q) = true", s)
		}
	}
	if !validSHA1Hex("ebd31e95054c018b10727ccffd2ef2ec3a016ee9") || validSHA1Hex("ebd31e95054c018b10727ccffd2ef2ec3a016eeg") || validSHA1Hex("abc") {
		t.Error("validSHA1Hex")
	}
	for _, n := range []int{56, 64, 96, 128} {
		if !validSHA2Hex(strings.Repeat("a", n)) {
			t.Errorf("validSHA2Hex(%d digits) = false", n)
		}
	}
	for _, s := range []string{"", strings.Repeat("a", 63), strings.Repeat("g", 64), strings.Repeat("a", 40)} {
		if validSHA2Hex(s) {
			t.Errorf("validSHA2Hex(%q) = true", s)
		}
	}
}

func TestMediaTypeAndVersion(t *testing.T) {
	for _, s := range []string{"application/json", "text/plain; charset=ascii", "image/svg+xml", "application/octet-stream", "multipart/mixed; boundary=\"a b\""} {
		if !validMediaType(s) {
			t.Errorf("validMediaType(%q) = false", s)
		}
	}
	for _, s := range []string{"", "text", "text/", "/plain", "text/plain; charset", "text plain"} {
		if validMediaType(s) {
			t.Errorf("validMediaType(%q) = true", s)
		}
	}
	versions := []struct {
		s        string
		v103, v2 bool
	}{
		{"1.0", true, true}, {"1.0.0", true, true}, {"1.0.3", true, true}, {"1.0.9", true, true}, {"1.0.10", true, true},
		{"1.0.3-beta.1", true, true}, {"1.0.0+build.5", true, true},
		{"2.0", false, true}, {"2.0.0", false, true}, {"2.0.1", false, true},
		{"1", false, false}, {"1.0.", false, false}, {"1.0.x", false, false}, {"1.00", false, false}, {"1.0.01", false, false},
		{"1.1.0", false, false}, {"0.9.9", false, false}, {"2.1.0", false, false}, {"3.0.0", false, false}, {"", false, false},
		{"1.0.0-", false, false}, {"1.0.0-a..b", false, false}, {"1.0.0-a_b", false, false}, {" 1.0.0", false, false}, {"v1.0.0", false, false},
	}
	for _, tc := range versions {
		if got := validStatementVersion(tc.s, V103); got != tc.v103 {
			t.Errorf("validStatementVersion(%q, 1.0.3) = %v", tc.s, got)
		}
		if got := validStatementVersion(tc.s, V200); got != tc.v2 {
			t.Errorf("validStatementVersion(%q, 2.0.0) = %v", tc.s, got)
		}
	}
}
