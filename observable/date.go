package observable

import (
	"net/mail"
	"strings"
	"time"
)

// zoneOffsets are the obsolete zone names of RFC 5322 section 4.3 and a
// few common others, in seconds east of UTC.
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"BST": 1 * 3600, "CET": 1 * 3600, "CEST": 2 * 3600, "MET": 1 * 3600, "MEST": 2 * 3600,
	"EET": 2 * 3600, "EEST": 3 * 3600, "MSK": 3 * 3600, "JST": 9 * 3600, "KST": 9 * 3600,
	"IST": 5*3600 + 1800, "HKT": 8 * 3600, "AEST": 10 * 3600, "AEDT": 11 * 3600,
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon, 2-Jan-2006 15:04:05 -0700",
	"2-Jan-2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006 3:04:05 PM",
	"January 2, 2006 3:04 PM",
	"Mon, Jan 2, 2006 3:04 PM",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"02.01.2006 15:04:05",
}

// ParseDate parses a Date header value the way mail readers do: RFC 5322
// dates with or without the day of the week, seconds or a numeric zone,
// obsolete zone names, comments, and a few other formats seen in the wild.
// A date without a zone is taken as UTC. It reports false when the value
// is not a date.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := mail.ParseDate(s); err == nil {
		return fixZone(t), true
	}
	n := normalizeDate(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, n); err == nil {
			return fixZone(t), true
		}
	}
	return time.Time{}, false
}

// normalizeDate drops comments, dots and extra white space, and turns
// "GMT+0200" and the like into a plain offset.
func normalizeDate(s string) string {
	var sb strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		default:
			sb.WriteRune(r)
		}
	}
	fields := strings.Fields(sb.String())
	if len(fields) > 0 {
		if f := strings.TrimRight(fields[0], ",."); isDayName(f) {
			fields[0] = f[:3] + ","
		}
	}
	for i, f := range fields {
		if (strings.HasPrefix(f, "GMT") || strings.HasPrefix(f, "UTC")) && len(f) > 3 && (f[3] == '+' || f[3] == '-') {
			fields[i] = f[3:]
		}
	}
	return strings.Join(fields, " ")
}

func isDayName(f string) bool {
	if len(f) < 3 {
		return false
	}
	switch strings.ToLower(f[:3]) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

// fixZone gives a time parsed with a zone name its offset: time.Parse
// leaves unknown names at offset zero.
func fixZone(t time.Time) time.Time {
	name, off := t.Zone()
	if off != 0 {
		return t
	}
	if o, ok := zoneOffsets[strings.ToUpper(name)]; ok && o != 0 {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(strings.ToUpper(name), o))
	}
	return t
}
