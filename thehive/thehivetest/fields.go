package thehivetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// fields reads a JSON object the way TheHive's fields parser does: typed
// getters record every missing or malformed attribute, and err returns them
// all at once as one AttributeCheckingError. Unknown attributes are ignored,
// as TheHive ignores them.
type fields struct {
	m      map[string]json.RawMessage
	prefix string // "" at the top level, "observables[0]." inside a list
	errs   *[]attrError
}

// parseFields decodes body, which must be a JSON object (an empty body is an
// empty object, as for TheHive's optional bodies).
func parseFields(body []byte) (fields, error) {
	errs := new([]attrError)
	f := fields{m: map[string]json.RawMessage{}, errs: errs}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(body, &f.m); err != nil {
		return f, errBadRequest("Invalid Json: %s", jsonProblem(err))
	}
	if f.m == nil {
		f.m = map[string]json.RawMessage{}
	}
	return f, nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return "a JSON object is expected"
	}
	return err.Error()
}

// sub returns the fields of a nested object, sharing the error list.
func (f fields) sub(name string, raw json.RawMessage) (fields, bool) {
	g := fields{m: map[string]json.RawMessage{}, prefix: f.prefix + name + ".", errs: f.errs}
	if err := json.Unmarshal(raw, &g.m); err != nil || g.m == nil {
		f.invalid(name, "object", raw)
		return g, false
	}
	return g, true
}

func (f fields) err() error {
	if len(*f.errs) == 0 {
		return nil
	}
	return errAttributes(*f.errs)
}

func (f fields) missing(name string) {
	*f.errs = append(*f.errs, attrError{kind: "MissingAttributeError", name: f.prefix + name})
}

func (f fields) invalid(name, format string, raw json.RawMessage, accepted ...string) {
	*f.errs = append(*f.errs, attrError{
		kind:     "InvalidFormatAttributeError",
		name:     f.prefix + name,
		format:   format,
		field:    fieldString(raw),
		accepted: accepted,
	})
}

// present reports whether name is set to something other than null.
func (f fields) present(name string) bool {
	raw, ok := f.m[name]
	return ok && !isNull(raw)
}

func (f fields) has(name string) bool { _, ok := f.m[name]; return ok }

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func (f fields) str(name string) (string, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.invalid(name, "string", raw)
		return "", false
	}
	return s, true
}

func (f fields) reqStr(name string) string {
	if !f.present(name) {
		f.missing(name)
		return ""
	}
	s, _ := f.str(name)
	return s
}

// reqStrs reads a required list of strings.
func (f fields) reqStrs(name string) []string {
	if !f.present(name) {
		f.missing(name)
		return nil
	}
	l, _ := f.strs(name)
	return l
}

func (f fields) boolean(name string) (bool, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return false, false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		f.invalid(name, "boolean", raw)
		return false, false
	}
	return b, true
}

// integer reads a whole number; TheHive's parser also accepts one written as
// a string of digits.
func (f fields) integer(name string) (int64, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return 0, false
	}
	if n, ok := parseInteger(raw); ok {
		return n, true
	}
	f.invalid(name, "int", raw)
	return 0, false
}

func parseInteger(raw json.RawMessage) (int64, bool) {
	var num json.Number
	if err := json.Unmarshal(raw, &num); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		num = json.Number(strings.TrimSpace(s))
	}
	if n, err := num.Int64(); err == nil {
		return n, true
	}
	if fl, err := num.Float64(); err == nil && fl == math.Trunc(fl) && math.Abs(fl) < 1<<62 {
		return int64(fl), true
	}
	return 0, false
}

// enumInt reads an integer that must lie in [lo, hi] (severity, tlp, pap).
func (f fields) enumInt(name string, lo, hi int64) (int64, bool) {
	n, ok := f.integer(name)
	if !ok {
		return 0, false
	}
	if n < lo || n > hi {
		accepted := make([]string, 0, hi-lo+1)
		for v := lo; v <= hi; v++ {
			accepted = append(accepted, strconv.FormatInt(v, 10))
		}
		f.invalid(name, "int", f.m[name], accepted...)
		return 0, false
	}
	return n, true
}

// enumStr reads a string that must be one of values.
func (f fields) enumStr(name string, values ...string) (string, bool) {
	s, ok := f.str(name)
	if !ok {
		return "", false
	}
	for _, v := range values {
		if s == v {
			return s, true
		}
	}
	f.invalid(name, "string", f.m[name], values...)
	return "", false
}

// date reads a date as epoch milliseconds.
func (f fields) date(name string) (int64, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return 0, false
	}
	if n, ok := parseInteger(raw); ok {
		return n, true
	}
	f.invalid(name, "date", raw)
	return 0, false
}

// strs reads a list of strings; a single string is accepted as a list of one.
func (f fields) strs(name string) ([]string, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return nil, false
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, true
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, true
	}
	f.invalid(name, "string", raw)
	return nil, false
}

// objects reads a list of JSON objects.
func (f fields) objects(name string) ([]fields, bool) {
	raw, ok := f.m[name]
	if !ok || isNull(raw) {
		return nil, false
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		f.invalid(name, "array", raw)
		return nil, false
	}
	out := make([]fields, 0, len(list))
	for i, item := range list {
		g, ok := f.sub(fmt.Sprintf("%s[%d]", name, i), item)
		if ok {
			out = append(out, g)
		}
	}
	return out, true
}

// value decodes name into a generic JSON value.
func (f fields) value(name string) (any, bool) {
	raw, ok := f.m[name]
	if !ok {
		return nil, false
	}
	v, err := decodeJSON(raw)
	if err != nil {
		f.invalid(name, "json", raw)
		return nil, false
	}
	return v, true
}

// decodeJSON decodes a JSON value keeping numbers exact (json.Number turned
// into int64 when integral, float64 otherwise).
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normalizeNumbers(v), nil
}

func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		fl, _ := t.Float64()
		return fl
	case []any:
		for i := range t {
			t[i] = normalizeNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normalizeNumbers(t[k])
		}
	}
	return v
}

// fieldString prints a value the way TheHive's Field classes print
// themselves in error messages: FString(x), FNumber(1), FSeq(...).
func fieldString(raw json.RawMessage) string {
	v, err := decodeJSON(raw)
	if err != nil {
		return "FUndefined"
	}
	return fieldValueString(v)
}

func fieldValueString(v any) string {
	switch t := v.(type) {
	case nil:
		return "FNull"
	case string:
		return "FString(" + t + ")"
	case bool:
		return fmt.Sprintf("FBoolean(%t)", t)
	case int64, float64:
		return fmt.Sprintf("FNumber(%v)", t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = fieldValueString(e)
		}
		return "FSeq(" + strings.Join(parts, ",") + ")"
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " -> " + fieldValueString(t[k])
		}
		return "FObject(" + strings.Join(parts, ", ") + ")"
	}
	return "FUndefined"
}
