package thehivetest

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
	"unicode"
)

// A predicate tests one rendered object.
type predicate func(doc map[string]any) bool

// compileFilter turns a filter of TheHive's query language into a
// predicate. obj is the filter object: the operation object of a "filter"
// step (its "_name" is ignored) or a nested filter. props checks the fields
// a filter names against the entity's properties.
func compileFilter(obj map[string]any, props propChecker, now time.Time) (predicate, error) {
	var preds []predicate
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if k != "_name" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, legacy := obj["_field"]; legacy {
		field, _ := obj["_field"].(string)
		if err := props.check(field); err != nil {
			return nil, err
		}
		v, path := obj["_value"], compilePath(field)
		return func(doc map[string]any) bool { return path.any(doc, func(x any) bool { return equal(x, v) }) }, nil
	}
	for _, op := range keys {
		p, err := compileOp(op, obj[op], props, now)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(doc map[string]any) bool {
		for _, p := range preds {
			if !p(doc) {
				return false
			}
		}
		return true
	}, nil
}

func compileOp(op string, arg any, props propChecker, now time.Time) (predicate, error) {
	switch op {
	case "_and", "_or":
		list, ok := arg.([]any)
		if !ok {
			return nil, errBadRequest("Invalid filter: %s expects a list of filters", op)
		}
		var subs []predicate
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, errBadRequest("Invalid filter: %s expects a list of filters", op)
			}
			p, err := compileFilter(m, props, now)
			if err != nil {
				return nil, err
			}
			subs = append(subs, p)
		}
		if op == "_and" {
			return func(doc map[string]any) bool {
				for _, p := range subs {
					if !p(doc) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(doc map[string]any) bool {
			for _, p := range subs {
				if p(doc) {
					return true
				}
			}
			return false
		}, nil
	case "_not":
		m, ok := arg.(map[string]any)
		if !ok {
			return nil, errBadRequest("Invalid filter: _not expects a filter")
		}
		p, err := compileFilter(m, props, now)
		if err != nil {
			return nil, err
		}
		return func(doc map[string]any) bool { return !p(doc) }, nil
	case "_any":
		return func(map[string]any) bool { return true }, nil
	case "_id":
		ids := map[string]bool{}
		switch v := arg.(type) {
		case string:
			ids[v] = true
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					ids[s] = true
				}
			}
		default:
			return nil, errBadRequest("Invalid filter: _id expects an id")
		}
		return func(doc map[string]any) bool { id, _ := doc["_id"].(string); return ids[id] }, nil
	case "_has", "_contains":
		field, ok := arg.(string)
		if !ok {
			if m, isObj := arg.(map[string]any); isObj {
				field, ok = m["_field"].(string)
			}
		}
		if !ok {
			return nil, errBadRequest("Invalid filter: %s expects a field name", op)
		}
		if err := props.check(field); err != nil {
			return nil, err
		}
		path := compilePath(field)
		return func(doc map[string]any) bool {
			return path.any(doc, func(x any) bool { return x != nil })
		}, nil
	}
	m, ok := arg.(map[string]any)
	if !ok {
		return nil, errBadRequest("Invalid filter: unknown operator %s", op)
	}
	field, _ := m["_field"].(string)
	if field == "" {
		// Legacy shorthand {"_eq": {"title": "x"}}.
		if op == "_eq" || op == "_is" || op == "_ne" {
			for k, v := range m {
				if !strings.HasPrefix(k, "_") {
					field, m = k, map[string]any{"_value": v}
				}
			}
		}
		if field == "" {
			return nil, errBadRequest("Invalid filter: %s needs a _field", op)
		}
	}
	if err := props.check(field); err != nil {
		return nil, err
	}
	value := m["_value"]
	path := compilePath(field)
	test := func(fn func(x any) bool) predicate {
		return func(doc map[string]any) bool { return path.any(doc, fn) }
	}
	switch op {
	case "_eq", "_is":
		return test(func(x any) bool { return equal(x, value) }), nil
	case "_ne":
		return func(doc map[string]any) bool {
			return !path.any(doc, func(x any) bool { return equal(x, value) })
		}, nil
	case "_lt", "_gt", "_lte", "_gte":
		bound := resolveDate(value, now)
		return test(func(x any) bool {
			c, ok := compare(x, bound)
			if !ok {
				return false
			}
			switch op {
			case "_lt":
				return c < 0
			case "_gt":
				return c > 0
			case "_lte":
				return c <= 0
			}
			return c >= 0
		}), nil
	case "_between":
		from, hasFrom := m["_from"]
		to, hasTo := m["_to"]
		if !hasFrom || !hasTo {
			return nil, errBadRequest("Invalid filter: _between needs _from and _to")
		}
		from, to = resolveDate(from, now), resolveDate(to, now)
		return test(func(x any) bool {
			lo, ok1 := compare(x, from)
			hi, ok2 := compare(x, to)
			return ok1 && ok2 && lo >= 0 && hi < 0
		}), nil
	case "_in":
		values, ok := m["_values"].([]any)
		if !ok {
			return nil, errBadRequest("Invalid filter: _in needs _values")
		}
		return test(func(x any) bool {
			for _, v := range values {
				if equal(x, v) {
					return true
				}
			}
			return false
		}), nil
	case "_startsWith", "_endsWith":
		s, ok := value.(string)
		if !ok {
			return nil, errBadRequest("Invalid filter: %s needs a string _value", op)
		}
		return test(func(x any) bool {
			str, ok := x.(string)
			if !ok {
				return false
			}
			if op == "_startsWith" {
				return strings.HasPrefix(str, s)
			}
			return strings.HasSuffix(str, s)
		}), nil
	case "_like", "_wildcard":
		s, ok := value.(string)
		if !ok {
			return nil, errBadRequest("Invalid filter: %s needs a string _value", op)
		}
		return test(func(x any) bool { str, ok := x.(string); return ok && like(str, s) }), nil
	case "_match":
		s, ok := value.(string)
		if !ok {
			return nil, errBadRequest("Invalid filter: _match needs a string _value")
		}
		return test(func(x any) bool { str, ok := x.(string); return ok && matchWords(str, s) }), nil
	}
	return nil, errBadRequest("Invalid filter: unknown operator %s", op)
}

// fieldPath is a compiled field path of a filter or a sort. "tags" tests
// each tag of the list; "customFields.<name>" (also
// "customFieldValues.<name>", optionally followed by the type) reads custom
// field values; other dotted paths walk nested objects.
type fieldPath struct {
	segs        []string
	customField string // the custom field name, when the path reads one
}

func compilePath(field string) fieldPath {
	segs := strings.Split(field, ".")
	if (segs[0] == "customFields" || segs[0] == "customFieldValues") && len(segs) >= 2 {
		return fieldPath{customField: segs[1]}
	}
	return fieldPath{segs: segs}
}

// any reports whether fn holds for one of the values at the path.
func (p fieldPath) any(doc map[string]any, fn func(any) bool) bool {
	if p.customField != "" {
		list, _ := doc["customFields"].([]any)
		for _, e := range list {
			if cf, _ := e.(map[string]any); cf["name"] == p.customField && fn(cf["value"]) {
				return true
			}
		}
		return false
	}
	return walk(doc, p.segs, fn)
}

func walk(v any, segs []string, fn func(any) bool) bool {
	if len(segs) == 0 {
		if list, isList := v.([]any); isList {
			for _, e := range list {
				if fn(e) {
					return true
				}
			}
			return false
		}
		return fn(v)
	}
	switch t := v.(type) {
	case map[string]any:
		x, present := t[segs[0]]
		return present && walk(x, segs[1:], fn)
	case []any:
		for _, e := range t {
			if walk(e, segs, fn) {
				return true
			}
		}
	}
	return false
}

// first returns the first value at the path, for sorting.
func (p fieldPath) first(doc map[string]any) (any, bool) {
	var out any
	found := p.any(doc, func(x any) bool {
		if x == nil {
			return false
		}
		out = x
		return true
	})
	return out, found
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return a == nil && b == nil
}

// compare orders two numbers or two strings.
func compare(a, b any) (int, bool) {
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	}
	return 0, false
}

// resolveDate turns a relative date {"amount", "unit", "look"} into epoch
// milliseconds; other values are returned unchanged.
func resolveDate(v any, now time.Time) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	amount, _ := toFloat(m["amount"])
	unit, _ := m["unit"].(string)
	n := int(amount)
	if look, _ := m["look"].(string); look != "ahead" {
		n = -n
	}
	if tz, _ := m["timezone"].(string); tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			now = now.In(loc)
		}
	}
	t := now
	switch strings.ToLower(strings.TrimSuffix(unit, "s")) {
	case "minute":
		t = t.Add(time.Duration(n) * time.Minute)
	case "hour":
		t = t.Add(time.Duration(n) * time.Hour)
	case "day":
		t = t.AddDate(0, 0, n)
	case "week":
		t = t.AddDate(0, 0, 7*n)
	case "month":
		t = t.AddDate(0, n, 0)
	case "year":
		t = t.AddDate(n, 0, 0)
	}
	switch m["modifier"] {
	case "startOfDay":
		y, mo, d := t.Date()
		t = time.Date(y, mo, d, 0, 0, 0, 0, t.Location())
	case "endOfDay":
		y, mo, d := t.Date()
		t = time.Date(y, mo, d, 23, 59, 59, int(time.Second-time.Millisecond), t.Location())
	}
	return t.UnixMilli()
}

// like matches TheHive's _like: "*" is a wildcard; without one the value
// must contain the pattern. Both ignore case, as the index does.
func like(value, pattern string) bool {
	value, pattern = strings.ToLower(value), strings.ToLower(pattern)
	if !strings.Contains(pattern, "*") {
		return strings.Contains(value, pattern)
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(value, parts[0]) {
		return false
	}
	value = value[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(value, p)
		if i < 0 {
			return false
		}
		value = value[i+len(p):]
	}
	return strings.HasSuffix(value, last)
}

// matchWords matches TheHive's full-text _match: every word of the query
// must be a word of the value.
func matchWords(value, query string) bool {
	words := map[string]bool{}
	for _, w := range splitWords(value) {
		words[w] = true
	}
	q := splitWords(query)
	if len(q) == 0 {
		return false
	}
	for _, w := range q {
		if !words[w] {
			return false
		}
	}
	return true
}

func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// sortItems orders items by the fields of a sort step: a list of
// {"field": "asc"|"desc"} objects or "+field"/"-field" strings. Missing
// values come last; ties keep creation order.
func sortItems(items []qitem, spec any, props propChecker) error {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	list, ok := spec.([]any)
	if !ok {
		return errBadRequest("Invalid sort: _fields must be a list")
	}
	for _, e := range list {
		switch v := e.(type) {
		case string:
			k := key{field: strings.TrimLeft(v, "+-"), desc: strings.HasPrefix(v, "-")}
			keys = append(keys, k)
		case map[string]any:
			for f, dir := range v {
				d, _ := dir.(string)
				keys = append(keys, key{field: f, desc: strings.EqualFold(d, "desc")})
			}
		default:
			return errBadRequest("Invalid sort: %v", e)
		}
	}
	for _, k := range keys {
		if err := props.check(k.field); err != nil {
			return err
		}
	}
	paths := make([]fieldPath, len(keys))
	for i, k := range keys {
		paths[i] = compilePath(k.field)
	}
	sort.SliceStable(items, func(i, j int) bool {
		for n, k := range keys {
			a, okA := paths[n].first(items[i].doc)
			b, okB := paths[n].first(items[j].doc)
			if !okA || !okB {
				if okA != okB {
					return okA
				}
				continue
			}
			c, ok := compare(a, b)
			if !ok || c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	return nil
}

// propChecker rejects filters and sorts on properties an entity does not
// have, with TheHive's "Property x for type y not found".
type propChecker struct {
	label string
	props map[string]bool
}

func (p propChecker) check(field string) error {
	if p.props == nil || field == "" {
		return nil
	}
	root, _, _ := strings.Cut(field, ".")
	if p.props[root] {
		return nil
	}
	return errBadRequest("Property %s for type %s not found", field, p.label)
}
