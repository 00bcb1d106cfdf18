package qradartest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// fieldSel is a parsed "fields" parameter: the named fields, each with its
// own sub-selection (nil for the whole value).
type fieldSel map[string]fieldSel

// parseFields parses "id,status,rules(id,type)"; brackets may stand for
// parentheses.
func parseFields(s string) (fieldSel, error) {
	p := &fieldsParser{s: s}
	sel, err := p.list()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q in fields at position %d", p.s[p.i], p.i)
	}
	return sel, nil
}

type fieldsParser struct {
	s string
	i int
}

func (p *fieldsParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *fieldsParser) list() (fieldSel, error) {
	sel := fieldSel{}
	for {
		p.skipSpace()
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(",()[] ", rune(p.s[p.i])) {
			p.i++
		}
		name := p.s[start:p.i]
		if name == "" {
			return nil, fmt.Errorf("empty field name in fields at position %d", start)
		}
		p.skipSpace()
		var sub fieldSel
		if p.i < len(p.s) && (p.s[p.i] == '(' || p.s[p.i] == '[') {
			p.i++
			var err error
			if sub, err = p.list(); err != nil {
				return nil, err
			}
			if p.i >= len(p.s) || (p.s[p.i] != ')' && p.s[p.i] != ']') {
				return nil, fmt.Errorf("unbalanced parentheses in fields")
			}
			p.i++
			p.skipSpace()
		}
		if prev, ok := sel[name]; ok && prev != nil && sub != nil {
			for k, v := range sub {
				prev[k] = v
			}
		} else {
			sel[name] = sub
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return sel, nil
	}
}

// unknownField returns the first top-level name in sel that is not one of
// the endpoint's fields, or "".
func (sel fieldSel) unknownField(known map[string]bool) string {
	names := make([]string, 0, len(sel))
	for k := range sel {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !known[k] {
			return k
		}
	}
	return ""
}

// project returns v with only the selected fields.
func (sel fieldSel) project(v any) any {
	if sel == nil {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(sel))
		for k, sub := range sel {
			if fv, ok := x[k]; ok {
				out[k] = sub.project(fv)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sel.project(e)
		}
		return out
	}
	return v
}

// sortKey is one field of a "sort" parameter.
type sortKey struct {
	field string
	desc  bool
}

// parseSort parses "+id,-last_updated_time". A '+' that arrived unencoded
// (as a space) is read as '+'.
func parseSort(s string, sortable map[string]bool) ([]sortKey, error) {
	var keys []sortKey
	for _, part := range strings.Split(s, ",") {
		desc := false
		part = strings.TrimRight(part, " ")
		switch {
		case strings.HasPrefix(part, "-"):
			desc, part = true, part[1:]
		case strings.HasPrefix(part, "+"):
			part = part[1:]
		case strings.HasPrefix(part, " "):
			part = strings.TrimLeft(part, " ")
		}
		if part == "" || !sortable[part] {
			return nil, fmt.Errorf("cannot sort on %q", part)
		}
		keys = append(keys, sortKey{field: part, desc: desc})
	}
	return keys, nil
}

// sortObjects sorts rendered objects by keys, stably; nulls sort first.
func sortObjects(objs []map[string]any, keys []sortKey) {
	sort.SliceStable(objs, func(i, j int) bool {
		for _, k := range keys {
			c := compareValues(objs[i][k.field], objs[j][k.field])
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmpOrdered(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	}
	return 0
}

// itemRange is a parsed "Range: items=x-y" header.
type itemRange struct {
	set        bool
	start, end int // inclusive
}

var rangeRE = regexp.MustCompile(`^\s*items\s*=\s*(\d+)\s*-\s*(\d+)\s*$`)

// rangeError is a Range header QRadar refuses (422, code 36).
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

func parseRange(h string) (itemRange, error) {
	if h == "" {
		return itemRange{}, nil
	}
	m := rangeRE.FindStringSubmatch(h)
	if m == nil {
		return itemRange{}, &rangeError{"Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"}
	}
	start, err1 := strconv.Atoi(m[1])
	end, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return itemRange{}, &rangeError{"Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"}
	}
	if end < start {
		return itemRange{}, &rangeError{`Range of pages specified in "Range" header is negative. Non-negative page range must be specified.`}
	}
	return itemRange{set: true, start: start, end: end}, nil
}

// apply cuts n items to the range and returns the bounds [lo, hi) and the
// Content-Range header value.
func (r itemRange) apply(n int) (lo, hi int, contentRange string) {
	if !r.set {
		if n == 0 {
			return 0, 0, "items */0"
		}
		return 0, n, fmt.Sprintf("items 0-%d/%d", n-1, n)
	}
	if r.start >= n {
		return 0, 0, fmt.Sprintf("items */%d", n)
	}
	hi = min(r.end+1, n)
	return r.start, hi, fmt.Sprintf("items %d-%d/%d", r.start, hi-1, n)
}
