package qradartest

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// This file implements QRadar's filter syntax, as IBM documents it in the
// "Filter syntax" page of the RESTful API overview: comparisons (=, !=, <>,
// ^=, <, >, <=, >=), IN and NOT IN lists, BETWEEN and NOT BETWEEN, IS NULL
// and IS NOT NULL, LIKE and ILIKE patterns, CONTAINS on list fields (with a
// value or a sub-filter), AND, OR, NOT and parentheses. Nested object
// fields are written field(subfield) and "." names a list element itself.
// Keywords are case-insensitive; comparisons with a null field are false,
// except the negative ones (!=, NOT IN, NOT BETWEEN), which are true.

// filterError is a filter that cannot be parsed or names a field that
// cannot be filtered on; the server answers it with 422 and code 1010.
type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

func filterErrorf(format string, args ...any) error {
	return &filterError{msg: fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string // identifier, unquoted string, operator or number text
	pos  int
}

func (t token) is(keyword string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, keyword)
}

func tokenize(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == '[':
			toks = append(toks, token{kind: tokLParen, text: string(c), pos: i})
			i++
		case c == ')' || c == ']':
			toks = append(toks, token{kind: tokRParen, text: string(c), pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\\' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == c {
					closed = true
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, filterErrorf("unterminated string starting at position %d", i)
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: i})
			i = j + 1
		case c == '=' || c == '<' || c == '>' || c == '!' || c == '^':
			op := string(c)
			if i+1 < len(s) {
				two := s[i : i+2]
				switch two {
				case "!=", "<>", "^=", "<=", ">=":
					op = two
				}
			}
			if op == "!" || op == "^" {
				return nil, filterErrorf("unexpected %q at position %d", op, i)
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: i})
			i += len(op)
		case c >= '0' && c <= '9' || (c == '-' || c == '+') && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.'):
			j := i + 1
			for j < len(s) {
				d := s[j]
				if d >= '0' && d <= '9' || d == '.' || d == 'e' || d == 'E' ||
					(d == '-' || d == '+') && (s[j-1] == 'e' || s[j-1] == 'E') {
					j++
					continue
				}
				break
			}
			toks = append(toks, token{kind: tokNumber, text: s[i:j], pos: i})
			i = j
		case c == '_' || c == '.' || c < 0x80 && unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '.' || s[j] < 0x80 && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])))) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: s[i:j], pos: i})
			i = j
		default:
			return nil, filterErrorf("unexpected character %q at position %d", c, i)
		}
	}
	toks = append(toks, token{kind: tokEOF, pos: len(s)})
	return toks, nil
}

// literal is a value written in a filter.
type literal struct {
	text   string // the value as written (without quotes)
	quoted bool
	isNum  bool
	num    float64
	isInt  bool
	i      int64
	isBool bool
	b      bool
}

func makeLiteral(t token) (literal, error) {
	switch t.kind {
	case tokString:
		return literal{text: t.text, quoted: true}, nil
	case tokNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return literal{}, filterErrorf("invalid number %q at position %d", t.text, t.pos)
		}
		l := literal{text: t.text, isNum: true, num: f}
		if i, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			l.isInt, l.i = true, i
		}
		return l, nil
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return literal{text: t.text, isBool: true, b: true}, nil
		case "false":
			return literal{text: t.text, isBool: true, b: false}, nil
		}
		return literal{text: t.text}, nil
	}
	return literal{}, filterErrorf("expected a value at position %d", t.pos)
}

// node is a parsed filter expression.
type node interface {
	eval(v any) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }

func (n andNode) eval(v any) bool { return n.l.eval(v) && n.r.eval(v) }
func (n orNode) eval(v any) bool  { return n.l.eval(v) || n.r.eval(v) }
func (n notNode) eval(v any) bool { return !n.n.eval(v) }

// path names a field: "status", "duration(days)" is ["duration" "days"],
// "." is the element itself (empty path).
type path []string

func (p path) lookup(v any) (any, bool) {
	for _, name := range p {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[name]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

type cmpNode struct {
	p   path
	op  string
	lit literal
}

func (n cmpNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	negative := n.op == "!=" || n.op == "<>" || n.op == "^="
	if fv == nil {
		return negative
	}
	c, ok := compare(fv, n.lit)
	if !ok {
		return negative
	}
	switch n.op {
	case "=":
		return c == 0
	case "!=", "<>", "^=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

type inNode struct {
	p    path
	lits []literal
	neg  bool
}

func (n inNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	if fv == nil {
		return n.neg
	}
	for _, l := range n.lits {
		if c, ok := compare(fv, l); ok && c == 0 {
			return !n.neg
		}
	}
	return n.neg
}

type betweenNode struct {
	p      path
	lo, hi literal
	neg    bool
}

func (n betweenNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	if fv == nil {
		return n.neg
	}
	a, ok1 := compare(fv, n.lo)
	b, ok2 := compare(fv, n.hi)
	in := ok1 && ok2 && a >= 0 && b <= 0
	return in != n.neg
}

type nullNode struct {
	p   path
	neg bool
}

func (n nullNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	return (fv == nil) != n.neg
}

type likeNode struct {
	p   path
	re  *regexp.Regexp
	neg bool
}

func (n likeNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	s, ok := fv.(string)
	if !ok {
		return n.neg
	}
	return n.re.MatchString(s) != n.neg
}

type containsNode struct {
	p   path
	sub node     // a condition on each element, or nil
	lit *literal // a value an element must equal, when sub is nil
}

func (n containsNode) eval(v any) bool {
	fv, _ := n.p.lookup(v)
	list, ok := fv.([]any)
	if !ok {
		return false
	}
	for _, e := range list {
		if n.sub != nil {
			if n.sub.eval(e) {
				return true
			}
			continue
		}
		if e == nil {
			continue
		}
		if c, ok := compare(e, *n.lit); ok && c == 0 {
			return true
		}
	}
	return false
}

// compare orders a field value against a literal. ok is false when they
// cannot be compared (a number against a word, a list against a value).
func compare(fv any, l literal) (int, bool) {
	switch x := fv.(type) {
	case int64:
		if l.isInt {
			return cmpOrdered(x, l.i), true
		}
		if l.isNum {
			return cmpOrdered(float64(x), l.num), true
		}
		if l.quoted {
			if f, err := strconv.ParseFloat(l.text, 64); err == nil {
				return cmpOrdered(float64(x), f), true
			}
		}
		return 0, false
	case float64:
		f := l.num
		if !l.isNum {
			var err error
			if f, err = strconv.ParseFloat(l.text, 64); err != nil {
				return 0, false
			}
		}
		if math.IsNaN(f) {
			return 0, false
		}
		return cmpOrdered(x, f), true
	case string:
		return strings.Compare(x, l.text), true
	case bool:
		b, ok := l.b, l.isBool
		if !ok {
			switch strings.ToLower(l.text) {
			case "true":
				b, ok = true, true
			case "false":
				b, ok = false, true
			}
		}
		if !ok {
			return 0, false
		}
		switch {
		case x == b:
			return 0, true
		case !x:
			return -1, true
		default:
			return 1, true
		}
	}
	return 0, false
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// filterParser parses one filter. fields, when not nil, lists the fields
// that may be filtered on.
type filterParser struct {
	toks   []token
	pos    int
	fields map[string]bool
}

// parseFilter parses s. A syntax error, or a field not in filterable, is a
// *filterError.
func parseFilter(s string, filterable map[string]bool) (node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, fields: filterable}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, filterErrorf("unexpected %q at position %d", t.text, t.pos)
	}
	return n, nil
}

func (p *filterParser) peek() token { return p.toks[p.pos] }
func (p *filterParser) peekAt(k int) token {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *filterParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *filterParser) expr() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().is("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().is("and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *filterParser) unary() (node, error) {
	t := p.peek()
	if t.is("not") {
		p.next()
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	if t.kind == tokLParen {
		p.next()
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, filterErrorf("expected ) at position %d", c.pos)
		}
		return n, nil
	}
	return p.condition(true)
}

// field reads a field name, with nested fields in parentheses.
func (p *filterParser) field(topLevel bool) (path, error) {
	t := p.next()
	if t.kind != tokIdent || t.is("and") || t.is("or") || t.is("not") {
		return nil, filterErrorf("expected a field name at position %d", t.pos)
	}
	if t.text == "." {
		return path{}, nil
	}
	if topLevel && p.fields != nil && !p.fields[t.text] {
		return nil, filterErrorf("%q is not a filterable field of this endpoint", t.text)
	}
	fp := path{t.text}
	for p.peek().kind == tokLParen && p.peekAt(1).kind == tokIdent && p.peekAt(2).kind == tokRParen {
		p.next()
		fp = append(fp, p.next().text)
		p.next()
	}
	return fp, nil
}

func (p *filterParser) condition(topLevel bool) (node, error) {
	fp, err := p.field(topLevel)
	if err != nil {
		return nil, err
	}
	t := p.next()
	switch {
	case t.kind == tokOp:
		l, err := makeLiteral(p.next())
		if err != nil {
			return nil, err
		}
		return cmpNode{p: fp, op: t.text, lit: l}, nil
	case t.is("not"):
		n := p.next()
		var inner node
		switch {
		case n.is("in"):
			inner, err = p.in(fp)
		case n.is("between"):
			inner, err = p.between(fp)
		case n.is("like"), n.is("ilike"):
			inner, err = p.like(fp, n.is("ilike"))
		default:
			return nil, filterErrorf("expected IN, BETWEEN or LIKE after NOT at position %d", n.pos)
		}
		if err != nil {
			return nil, err
		}
		return negate(inner), nil
	case t.is("in"):
		return p.in(fp)
	case t.is("between"):
		return p.between(fp)
	case t.is("like"), t.is("ilike"):
		return p.like(fp, t.is("ilike"))
	case t.is("is"):
		neg := false
		if p.peek().is("not") {
			p.next()
			neg = true
		}
		if n := p.next(); !n.is("null") {
			return nil, filterErrorf("expected NULL at position %d", n.pos)
		}
		return nullNode{p: fp, neg: neg}, nil
	case t.is("contains"):
		return p.contains(fp)
	}
	return nil, filterErrorf("expected an operator after %q at position %d", strings.Join(fp, "."), t.pos)
}

func negate(n node) node {
	switch x := n.(type) {
	case inNode:
		x.neg = !x.neg
		return x
	case betweenNode:
		x.neg = !x.neg
		return x
	case likeNode:
		x.neg = !x.neg
		return x
	}
	return notNode{n}
}

func (p *filterParser) in(fp path) (node, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, filterErrorf("expected ( after IN at position %d", t.pos)
	}
	var lits []literal
	for {
		l, err := makeLiteral(p.next())
		if err != nil {
			return nil, err
		}
		lits = append(lits, l)
		t := p.next()
		if t.kind == tokRParen {
			break
		}
		if t.kind != tokComma {
			return nil, filterErrorf("expected , or ) at position %d", t.pos)
		}
	}
	return inNode{p: fp, lits: lits}, nil
}

func (p *filterParser) between(fp path) (node, error) {
	lo, err := makeLiteral(p.next())
	if err != nil {
		return nil, err
	}
	if t := p.next(); !t.is("and") {
		return nil, filterErrorf("expected AND in BETWEEN at position %d", t.pos)
	}
	hi, err := makeLiteral(p.next())
	if err != nil {
		return nil, err
	}
	return betweenNode{p: fp, lo: lo, hi: hi}, nil
}

func (p *filterParser) like(fp path, ci bool) (node, error) {
	t := p.next()
	if t.kind != tokString {
		return nil, filterErrorf("a LIKE pattern must be quoted (position %d)", t.pos)
	}
	var b strings.Builder
	if ci {
		b.WriteString("(?is)")
	} else {
		b.WriteString("(?s)")
	}
	b.WriteByte('^')
	for _, r := range t.text {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, filterErrorf("invalid LIKE pattern %q", t.text)
	}
	return likeNode{p: fp, re: re}, nil
}

func (p *filterParser) contains(fp path) (node, error) {
	t := p.peek()
	if t.kind == tokLParen {
		p.next()
		saved := p.fields
		p.fields = nil
		sub, err := p.expr()
		p.fields = saved
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, filterErrorf("expected ) at position %d", c.pos)
		}
		return containsNode{p: fp, sub: sub}, nil
	}
	if t.kind == tokIdent && !t.is("true") && !t.is("false") {
		after := p.peekAt(1)
		if after.kind == tokOp || after.kind == tokLParen || after.is("in") || after.is("not") ||
			after.is("between") || after.is("is") || after.is("like") || after.is("ilike") || after.is("contains") {
			saved := p.fields
			p.fields = nil
			sub, err := p.condition(false)
			p.fields = saved
			if err != nil {
				return nil, err
			}
			return containsNode{p: fp, sub: sub}, nil
		}
	}
	l, err := makeLiteral(p.next())
	if err != nil {
		return nil, err
	}
	return containsNode{p: fp, lit: &l}, nil
}

// idCandidates returns the ids a filter can match, when its top level is a
// conjunction holding "id = n" or "id in (...)"; ok is false otherwise. It
// lets a lookup of a few ids among many objects skip the others.
func idCandidates(n node) (ids []int64, ok bool) {
	switch x := n.(type) {
	case andNode:
		if ids, ok := idCandidates(x.l); ok {
			return ids, true
		}
		return idCandidates(x.r)
	case cmpNode:
		if len(x.p) == 1 && x.p[0] == "id" && x.op == "=" && x.lit.isInt {
			return []int64{x.lit.i}, true
		}
	case inNode:
		if len(x.p) == 1 && x.p[0] == "id" && !x.neg {
			for _, l := range x.lits {
				if !l.isInt {
					return nil, false
				}
				ids = append(ids, l.i)
			}
			return ids, true
		}
	}
	return nil, false
}
