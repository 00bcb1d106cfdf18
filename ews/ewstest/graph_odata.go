package ewstest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The subset of OData $filter that Microsoft Graph's mail endpoints accept
// and mail readers use: comparisons (eq, ne, gt, ge, lt, le) of a property
// with a literal, and, or, not, parentheses, and the any() lambda over
// categories, as in
//
//	receivedDateTime ge 2025-03-01T09:00:00Z and not(categories/any(c:c eq 'Done'))

// odataValue is a property or literal value.
type odataValue struct {
	kind byte // 's' string, 'b' bool, 't' time, 'n' number, '0' null
	s    string
	b    bool
	t    time.Time
	n    float64
}

// odataRecord is what a filter is evaluated on.
type odataRecord interface {
	// property returns the value of a property path such as "isRead" or
	// "flag/flagStatus", and whether the type has it.
	property(path string) (odataValue, bool)
	// collection returns the values of a collection property such as
	// "categories".
	collection(path string) ([]string, bool)
}

// odataFilter is a compiled $filter.
type odataFilter struct {
	eval func(odataRecord) bool
	// props are the properties compared, in the order they appear, for
	// the InefficientFilter rule on $orderby.
	props []string
}

// odataError is a $filter Graph refuses, with its error code.
type odataError struct {
	code, msg string
}

func (e *odataError) Error() string { return e.msg }

type odataToken struct {
	kind byte // 'i' identifier/path, 's' string, 'l' other literal, 'p' punctuation
	text string
}

func tokenizeOData(s string) ([]odataToken, error) {
	var toks []odataToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',' || c == ':':
			toks = append(toks, odataToken{'p', string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; ; j++ {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(s[j])
			}
			toks = append(toks, odataToken{'s', b.String()})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				// A colon belongs to a time literal but ends a lambda
				// variable: "c:c" splits, "09:00:00Z" does not.
				if s[j] == ':' && !unicode.IsDigit(rune(s[i])) {
					break
				}
				j++
			}
			word := s[i:j]
			if word == "" {
				return nil, fmt.Errorf("unexpected character %q at position %d", c, i)
			}
			kind := byte('i')
			if unicode.IsDigit(rune(word[0])) || word[0] == '-' {
				kind = 'l'
			}
			toks = append(toks, odataToken{kind, word})
			i = j
		}
	}
	return toks, nil
}

type odataParser struct {
	toks  []odataToken
	pos   int
	field func(path string) (kind byte, ok bool) // the type's properties
	coll  func(path string) bool                 // the type's collections
	props []string
	typ   string
}

func (p *odataParser) peek() odataToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return odataToken{}
}

func (p *odataParser) next() odataToken {
	t := p.peek()
	p.pos++
	return t
}

func (p *odataParser) expect(text string) error {
	if t := p.next(); t.text != text || t.kind == 's' {
		return fmt.Errorf("expected '%s' but found '%s'", text, t.text)
	}
	return nil
}

// parseODataFilter compiles a $filter for a type whose properties field
// and coll describe.
func parseODataFilter(s, typ string, field func(string) (byte, bool), coll func(string) bool) (*odataFilter, error) {
	toks, err := tokenizeOData(s)
	if err != nil {
		return nil, &odataError{"BadRequest", "Invalid filter clause: " + err.Error()}
	}
	p := &odataParser{toks: toks, field: field, coll: coll, typ: typ}
	eval, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("syntax error at '%s'", p.peek().text)
	}
	if err != nil {
		if oe, ok := err.(*odataError); ok {
			return nil, oe
		}
		return nil, &odataError{"BadRequest", "Invalid filter clause: " + err.Error()}
	}
	return &odataFilter{eval: eval, props: p.props}, nil
}

func (p *odataParser) or() (func(odataRecord) bool, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == 'i' && p.peek().text == "or" {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r odataRecord) bool { return l(r) || right(r) }
	}
	return left, nil
}

func (p *odataParser) and() (func(odataRecord) bool, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == 'i' && p.peek().text == "and" {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(r odataRecord) bool { return l(r) && right(r) }
	}
	return left, nil
}

func (p *odataParser) unary() (func(odataRecord) bool, error) {
	t := p.peek()
	switch {
	case t.kind == 'i' && t.text == "not":
		p.next()
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(r odataRecord) bool { return !inner(r) }, nil
	case t.kind == 'p' && t.text == "(":
		p.next()
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		return inner, p.expect(")")
	case t.kind == 'i':
		return p.comparison()
	}
	return nil, fmt.Errorf("syntax error at '%s'", t.text)
}

var odataOps = map[string]func(int) bool{
	"eq": func(c int) bool { return c == 0 },
	"ne": func(c int) bool { return c != 0 },
	"gt": func(c int) bool { return c > 0 },
	"ge": func(c int) bool { return c >= 0 },
	"lt": func(c int) bool { return c < 0 },
	"le": func(c int) bool { return c <= 0 },
}

func (p *odataParser) comparison() (func(odataRecord) bool, error) {
	path := p.next().text
	// A lambda: categories/any(c:c eq 'x').
	if base, ok := strings.CutSuffix(path, "/any"); ok || strings.HasSuffix(path, "/all") {
		all := !ok
		if all {
			base = strings.TrimSuffix(path, "/all")
		}
		if !p.coll(base) {
			return nil, p.unknown(base)
		}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		v := p.next()
		if v.kind != 'i' {
			return nil, fmt.Errorf("expected a lambda variable but found '%s'", v.text)
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		if t := p.next(); t.text != v.text {
			return nil, fmt.Errorf("expected '%s' but found '%s'", v.text, t.text)
		}
		test, lit, err := p.opLiteral('s')
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		p.props = append(p.props, base)
		return func(r odataRecord) bool {
			vals, _ := r.collection(base)
			for _, x := range vals {
				m := test(compareOData(odataValue{kind: 's', s: x}, lit))
				if m && !all {
					return true
				}
				if !m && all {
					return false
				}
			}
			return all
		}, nil
	}
	kind, ok := p.field(path)
	if !ok {
		return nil, p.unknown(path)
	}
	test, lit, err := p.opLiteral(kind)
	if err != nil {
		return nil, err
	}
	p.props = append(p.props, path)
	return func(r odataRecord) bool {
		v, _ := r.property(path)
		if v.kind == '0' || lit.kind == '0' {
			return test(boolCompare(v.kind == lit.kind))
		}
		return test(compareOData(v, lit))
	}, nil
}

func boolCompare(equal bool) int {
	if equal {
		return 0
	}
	return 1
}

func (p *odataParser) unknown(path string) error {
	return &odataError{"BadRequest", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", path, p.typ)}
}

// opLiteral reads "op literal" for a property of the given kind.
func (p *odataParser) opLiteral(kind byte) (func(int) bool, odataValue, error) {
	opTok := p.next()
	test, ok := odataOps[opTok.text]
	if !ok || opTok.kind != 'i' {
		return nil, odataValue{}, fmt.Errorf("expected a comparison operator but found '%s'", opTok.text)
	}
	t := p.next()
	lit, err := odataLiteral(t, kind)
	if err != nil {
		return nil, odataValue{}, &odataError{"BadRequest", "Invalid filter clause: " + err.Error()}
	}
	return test, lit, nil
}

func odataLiteral(t odataToken, kind byte) (odataValue, error) {
	if t.kind == 'i' && t.text == "null" {
		return odataValue{kind: '0'}, nil
	}
	switch kind {
	case 's':
		if t.kind != 's' {
			return odataValue{}, fmt.Errorf("a string literal was expected, found '%s'", t.text)
		}
		return odataValue{kind: 's', s: t.s()}, nil
	case 'b':
		if t.kind == 'i' && (t.text == "true" || t.text == "false") {
			return odataValue{kind: 'b', b: t.text == "true"}, nil
		}
	case 't':
		if t.kind == 'l' {
			if tm, err := time.Parse(time.RFC3339Nano, t.text); err == nil {
				return odataValue{kind: 't', t: tm}, nil
			}
		}
	case 'n':
		if t.kind == 'l' {
			if n, err := strconv.ParseFloat(t.text, 64); err == nil {
				return odataValue{kind: 'n', n: n}, nil
			}
		}
	}
	return odataValue{}, fmt.Errorf("the literal '%s' does not match the type of the property", t.text)
}

func (t odataToken) s() string { return t.text }

// compareOData compares values of the same kind; strings compare without
// regard to case, as the Exchange store does.
func compareOData(a, b odataValue) int {
	switch {
	case a.kind != b.kind:
		return 1
	case a.kind == 'b':
		return boolCompare(a.b == b.b)
	case a.kind == 't':
		return a.t.Compare(b.t)
	case a.kind == 'n':
		switch {
		case a.n < b.n:
			return -1
		case a.n > b.n:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(a.s), strings.ToLower(b.s))
}
