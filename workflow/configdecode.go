package workflow

import (
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Secret is a configuration value that must never be printed: a password,
// an API key, a token. Every fmt verb, slog and text marshalling print
// "[REDACTED]"; Reveal returns the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted(s) }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return redacted(s) }

// Format implements fmt.Formatter, for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted(s))) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted(s)) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted(s)), nil }

func redacted(s Secret) string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// ConfigError is a problem in a configuration file, with its place.
type ConfigError struct {
	// File, Line and Column say where; Line is 0 when the problem is not
	// tied to one place (a missing section).
	File         string
	Line, Column int
	// Key is the dotted path of the setting ("workflows.phishing.source").
	Key string
	// Msg says what is wrong. It never holds a value from the file.
	Msg string
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// decoder maps YAML nodes onto Go values and remembers where each key was,
// so that later checks can name the place of a bad value.
type decoder struct {
	file   string
	getenv func(string) (string, bool)
	errs   []error
	places map[string]*yaml.Node // dotted key → its value node
	// visits counts the nodes decoded: YAML aliases can make a small file
	// expand without bound ("billion laughs"), so decoding stops at a
	// budget.
	visits int
	depth  int
	// failed holds the keys already reported, so that a value that could
	// not be read is not reported again as missing.
	failed map[string]bool
}

// maxVisits and maxDepth bound the decoding of one file.
const (
	maxVisits = 100_000
	maxDepth  = 32
)

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	if d.failed == nil {
		d.failed = map[string]bool{}
	}
	d.failed[key] = true
	e := &ConfigError{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// failAt reports a problem at the place recorded for key.
func (d *decoder) failAt(key, format string, args ...any) {
	d.fail(d.places[key], key, format, args...)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${NAME} and ${NAME:-default} by the environment's values.
func (d *decoder) expand(n *yaml.Node, key, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := d.getenv(m[1]); ok && v != "" {
			return v
		}
		if m[2] != "" {
			return m[3]
		}
		d.fail(n, key, "environment variable %s is not set", m[1])
		return ""
	})
}

var durationType = reflect.TypeOf(time.Duration(0))

// decode fills v (a pointer's element) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.visits++
	if d.visits > maxVisits || d.depth > maxDepth {
		if d.visits == maxVisits+1 || d.depth == maxDepth+1 {
			d.fail(n, key, "the file nests or repeats (through aliases) too much")
		}
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	d.places[key] = n
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), key)
	case reflect.Struct:
		d.decodeStruct(n, v, key)
	case reflect.Map:
		d.decodeMap(n, v, key)
	case reflect.Slice:
		d.decodeSlice(n, v, key)
	case reflect.Interface:
		d.decodeAny(n, v, key)
	default:
		d.decodeScalar(n, v, key)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping of settings")
		return
	}
	fields := map[string][]int{}
	var known []string
	collectFields(v.Type(), nil, fields, &known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, sub, "unknown setting (known here: %s)", strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			d.fail(k, sub, "set twice")
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.FieldByIndex(idx), sub)
	}
}

// collectFields maps the YAML names of t's fields, those of inline
// embedded structs included, to their index paths.
func collectFields(t reflect.Type, prefix []int, fields map[string][]int, known *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		idx := append(append([]int(nil), prefix...), i)
		switch {
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			collectFields(f.Type, idx, fields, known)
		case name != "" && name != "-":
			fields[name] = idx
			*known = append(*known, name)
		}
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, sub)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String {
		// A single value stands for a list of one.
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(n, elem, key)
		v.Set(reflect.Append(v, elem))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, key, "want a list")
		return
	}
	for i, item := range n.Content {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(item, elem, fmt.Sprintf("%s[%d]", key, i))
		v.Set(reflect.Append(v, elem))
	}
}

// decodeAny decodes a scalar into its natural type (custom field values).
func (d *decoder) decodeAny(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "want a single value")
		return
	}
	s := d.expand(n, key, n.Value)
	var out any = s
	switch n.Tag {
	case "!!int":
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			out = i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			out = f
		}
	case "!!bool":
		if b, err := strconv.ParseBool(s); err == nil {
			out = b
		}
	}
	v.Set(reflect.ValueOf(out))
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "want a single value, not a %s", kindName(n.Kind))
		return
	}
	s := d.expand(n, key, n.Value)
	switch {
	case v.Type() == durationType:
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			d.fail(n, key, "want a duration such as 30s, 5m or 1h")
			return
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			d.fail(n, key, "want true or false")
			return
		}
		v.SetBool(b)
	case v.CanInt():
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(n, key, "want a whole number")
			return
		}
		v.SetInt(i)
	case v.CanFloat():
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d.fail(n, key, "want a number")
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, key, "cannot be set from the file")
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// osGetenv is os.LookupEnv, the default environment of Load.
func osGetenv(name string) (string, bool) { return os.LookupEnv(name) }
