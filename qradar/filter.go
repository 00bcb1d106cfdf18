package qradar

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Filter is a QRadar filter expression, the filter query parameter of list
// endpoints (IBM's "Filter syntax"): `status = "OPEN" and
// last_updated_time > 1700000000000`. Any string converts to a Filter; the
// functions below build one with values written correctly: times as epoch
// milliseconds, ids and numbers in decimal, strings quoted.
type Filter string

// String returns the filter's text.
func (f Filter) String() string { return string(f) }

// Eq is `field = v`.
func Eq(field string, v any) Filter { return cmpFilter(field, "=", v) }

// Ne is `field != v`; it is true when the field is null.
func Ne(field string, v any) Filter { return cmpFilter(field, "!=", v) }

// Gt is `field > v`.
func Gt(field string, v any) Filter { return cmpFilter(field, ">", v) }

// Ge is `field >= v`.
func Ge(field string, v any) Filter { return cmpFilter(field, ">=", v) }

// Lt is `field < v`.
func Lt(field string, v any) Filter { return cmpFilter(field, "<", v) }

// Le is `field <= v`.
func Le(field string, v any) Filter { return cmpFilter(field, "<=", v) }

// In is `field in (v1, v2...)`. Values may be given one by one or as one
// slice.
func In(field string, values ...any) Filter {
	if len(values) == 1 {
		if rv := reflect.ValueOf(values[0]); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			values = make([]any, rv.Len())
			for i := range values {
				values[i] = rv.Index(i).Interface()
			}
		}
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = formatValue(v)
	}
	return Filter(field + " in (" + strings.Join(parts, ",") + ")")
}

// IsNull is `field is null`.
func IsNull(field string) Filter { return Filter(field + " is null") }

// And joins filters with "and", each in parentheses when it holds an "or";
// empty filters are left out.
func And(fs ...Filter) Filter { return join(" and ", fs) }

// Or joins filters with "or"; empty filters are left out.
func Or(fs ...Filter) Filter { return join(" or ", fs) }

// Not negates f.
func Not(f Filter) Filter { return Filter("not (" + string(f) + ")") }

func join(sep string, fs []Filter) Filter {
	var parts []string
	for _, f := range fs {
		s := strings.TrimSpace(string(f))
		if s == "" {
			continue
		}
		if len(fs) > 1 && strings.Contains(strings.ToLower(s), " or ") && !(strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")) {
			s = "(" + s + ")"
		}
		parts = append(parts, s)
	}
	return Filter(strings.Join(parts, sep))
}

func cmpFilter(field, op string, v any) Filter {
	return Filter(field + " " + op + " " + formatValue(v))
}

// formatValue writes v as a filter value: a time as epoch milliseconds,
// integers (ids included) and floats in decimal, booleans as true or false,
// nil as null, anything else as a quoted string.
func formatValue(v any) string {
	if t, ok := v.(time.Time); ok {
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	if v == nil {
		return "null"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	case reflect.String:
		return quote(rv.String())
	}
	return quote(fmt.Sprint(v))
}

// quote writes s as a double-quoted filter string, a backslash before any
// double quote or backslash.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
