package listquery

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Bounds on a filter; an input beyond any of them is refused with a
// *SyntaxError.
const (
	// MaxFilterLen is the longest filter accepted, in bytes.
	MaxFilterLen = 1024
	// MaxClauses is the most comparisons ("field op value") in a filter.
	MaxClauses = 64
	// MaxDepth is the deepest nesting of parentheses in a filter.
	MaxDepth = 16
)

// Fields lists the fields a list can be filtered by, with their types.
// Names are case-sensitive. A Type other than the four constants behaves
// as String.
type Fields map[string]Type

// SyntaxError reports a filter or order_by parameter that does not parse:
// bad syntax, an unknown field, an operator or value that does not fit the
// field's type, or an input beyond the bounds.
type SyntaxError struct {
	// Param is the parameter at fault: "filter" or "order_by" ("" reads
	// as "filter").
	Param string
	// Pos is the byte offset in the parameter where the error was found;
	// len(parameter) when the input ended too soon.
	Pos int
	// Msg describes the error.
	Msg string
}

// Error returns "filter: <msg> at <pos>" (or "order_by: ...").
func (e *SyntaxError) Error() string {
	p := e.Param
	if p == "" {
		p = "filter"
	}
	return p + ": " + e.Msg + " at " + strconv.Itoa(e.Pos)
}

// Filter is a parsed filter parameter. It is immutable and safe for
// concurrent use. The nil *Filter, like the one parsed from "", matches
// every record.
type Filter struct {
	root   *node // nil: match everything
	fields []string
}

type nodeOp uint8

const (
	opCmp nodeOp = iota
	opAnd
	opOr
	opNot
)

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNq
	cmpGt
	cmpLt
	cmpGe
	cmpLe
)

var cmpNames = [...]string{cmpEq: "eq", cmpNq: "nq", cmpGt: "gt", cmpLt: "lt", cmpGe: "ge", cmpLe: "le"}

func lookupCmp(s string) (cmpOp, bool) {
	if len(s) == 2 {
		for i, name := range cmpNames {
			if strings.EqualFold(s, name) {
				return cmpOp(i), true
			}
		}
	}
	return 0, false
}

// node is one node of a parsed filter: a comparison, or and/or over two or
// more kids (flattened: no kid of an and is an and, nor of an or an or),
// or not over one kid (never over another not).
type node struct {
	op    nodeOp
	cmp   cmpOp
	field string
	val   Value // kind is the field's value kind
	kids  []node
}

// ParseFilter parses the filter parameter s against the fields a list
// allows. An empty (or all blank) s gives a Filter that matches every
// record. Any error is a *SyntaxError. See the package documentation for
// the syntax.
func ParseFilter(s string, fields Fields) (*Filter, error) {
	if len(s) > MaxFilterLen {
		return nil, filterErr(MaxFilterLen, "longer than "+strconv.Itoa(MaxFilterLen)+" bytes")
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return &Filter{}, nil
	}
	p := parser{src: s, toks: toks, fields: fields}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.i < len(toks) {
		t := toks[p.i]
		if t.kind == tokRParen {
			return nil, filterErr(t.pos, "unmatched )")
		}
		return nil, filterErr(t.pos, "unexpected "+t.describe()+", want and, or, or the end")
	}
	slices.Sort(p.used)
	return &Filter{root: &root, fields: slices.Compact(p.used)}, nil
}

func filterErr(pos int, msg string) *SyntaxError {
	return &SyntaxError{Param: "filter", Pos: pos, Msg: msg}
}

// Match reports whether the record r passes the filter. A comparison with
// a field r lacks (or holds a value of another type than the field's) is
// false, except nq, which is true: "floor nq 3" matches a record with no
// floor, and "not floor eq 3" does too. A nil r is a record with no
// fields.
func (f *Filter) Match(r Record) bool {
	if f == nil || f.root == nil {
		return true
	}
	if r == nil {
		r = Map(nil)
	}
	return f.root.match(r)
}

func (n *node) match(r Record) bool {
	switch n.op {
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].match(r) {
				return false
			}
		}
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].match(r) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].match(r)
	}
	v, ok := r.Field(n.field)
	if !ok || v.kind != n.val.kind {
		return n.cmp == cmpNq
	}
	var c int
	if v.kind == String {
		c = strings.Compare(v.s, n.val.s)
	} else {
		c = cmp.Compare(v.n, n.val.n)
	}
	switch n.cmp {
	case cmpEq:
		return c == 0
	case cmpNq:
		return c != 0
	case cmpGt:
		return c > 0
	case cmpLt:
		return c < 0
	case cmpGe:
		return c >= 0
	}
	return c <= 0
}

// Fields returns the names of the fields the filter compares, sorted and
// without repeats; none for the empty filter. A caller can tell from it
// whether a filter involves, say, link_id. The slice is the caller's.
func (f *Filter) Fields() []string {
	if f == nil {
		return nil
	}
	return slices.Clone(f.fields)
}

// Equals reports the value v when the filter is exactly "field eq v", or
// an and one of whose operands is "field eq v" (the first such), so that
// every record the filter matches has field equal to v and a caller can
// fetch candidates by an index on field (and then still Match them). The
// value is given as Value.String gives it: an integer in canonical decimal
// ("floor eq 007" gives "7"), a bool as "true" or "false". Otherwise,
// including "field eq v or ...", "not field nq v" and the empty filter, it
// returns "", false.
func (f *Filter) Equals(field string) (string, bool) {
	if f == nil || f.root == nil {
		return "", false
	}
	if f.root.isEq(field) {
		return f.root.val.String(), true
	}
	if f.root.op == opAnd {
		for i := range f.root.kids {
			if k := &f.root.kids[i]; k.isEq(field) {
				return k.val.String(), true
			}
		}
	}
	return "", false
}

func (n *node) isEq(field string) bool {
	return n.op == opCmp && n.cmp == cmpEq && n.field == field
}

// Lexing.

type tokKind uint8

const (
	tokWord tokKind = iota
	tokString
	tokLParen
	tokRParen
	tokComma // order_by only
)

type token struct {
	kind tokKind
	text string // a word as written; a string's content, unescaped
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokLParen:
		return "("
	case tokRParen:
		return ")"
	case tokComma:
		return "comma"
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (t token) isWord(w string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// lex splits s into words, quoted strings and parentheses. A quote opens a
// string only at the start of a token; inside, the quote doubled stands for
// itself. A word runs to the next blank or parenthesis.
func lex(s string) ([]token, error) {
	toks := make([]token, 0, 16)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == '\'' || c == '"':
			text, end, ok := scanQuoted(s, i)
			if !ok {
				return nil, filterErr(i, "unterminated string")
			}
			toks = append(toks, token{kind: tokString, text: text, pos: i})
			i = end
		default:
			j := i + 1
			for j < len(s) && !isSpace(s[j]) && s[j] != '(' && s[j] != ')' {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j], pos: i})
			i = j
		}
	}
	return toks, nil
}

// scanQuoted scans the string whose opening quote is s[start]; it returns
// the unescaped content and the offset just past the closing quote.
func scanQuoted(s string, start int) (text string, end int, ok bool) {
	q := s[start]
	escaped := false
	for i := start + 1; i < len(s); {
		j := strings.IndexByte(s[i:], q)
		if j < 0 {
			break
		}
		i += j
		if i+1 < len(s) && s[i+1] == q {
			escaped = true
			i += 2
			continue
		}
		text = s[start+1 : i]
		if escaped {
			text = strings.ReplaceAll(text, string([]byte{q, q}), string(q))
		}
		return text, i + 1, true
	}
	return "", 0, false
}

// Parsing: recursive descent, or over and over unary over primary. The
// recursion goes one level deeper per parenthesis only, and that depth is
// bounded by MaxDepth; chains of not, and and or are loops.

type parser struct {
	src     string
	toks    []token
	i       int
	fields  Fields
	clauses int
	depth   int
	used    []string
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

// followedByCmp reports whether the token after the current one is a
// compare operator, which makes the current word a field name even when it
// spells a keyword.
func (p *parser) followedByCmp() bool {
	if p.i+1 >= len(p.toks) || p.toks[p.i+1].kind != tokWord {
		return false
	}
	_, ok := lookupCmp(p.toks[p.i+1].text)
	return ok
}

// atWord reports whether the current token is the word w (in any case).
func (p *parser) atWord(w string) bool {
	t, ok := p.peek()
	return ok && t.isWord(w)
}

func (p *parser) parseOr() (node, error) {
	return p.parseChain("or", opOr, p.parseAnd)
}

func (p *parser) parseAnd() (node, error) {
	return p.parseChain("and", opAnd, p.parseUnary)
}

// parseChain parses operand {kw operand}, flattening operands that are
// themselves op. After an operand, and and or are always keywords: a field
// name cannot follow a clause.
func (p *parser) parseChain(kw string, op nodeOp, operand func() (node, error)) (node, error) {
	first, err := operand()
	if err != nil || !p.atWord(kw) {
		return first, err
	}
	n := node{op: op}
	n.kids = appendFlat(n.kids, first, op)
	for p.atWord(kw) {
		p.i++
		k, err := operand()
		if err != nil {
			return node{}, err
		}
		n.kids = appendFlat(n.kids, k, op)
	}
	return n, nil
}

func appendFlat(kids []node, k node, op nodeOp) []node {
	if k.op == op {
		return append(kids, k.kids...)
	}
	return append(kids, k)
}

func (p *parser) parseUnary() (node, error) {
	neg := false
	for p.atWord("not") && !p.followedByCmp() {
		p.i++
		neg = !neg
	}
	n, err := p.parsePrimary()
	if err != nil || !neg {
		return n, err
	}
	if n.op == opNot {
		return n.kids[0], nil
	}
	return node{op: opNot, kids: []node{n}}, nil
}

// missingClause reports that a clause should start at the current token.
func (p *parser) missingClause() error {
	pos := len(p.src)
	if t, ok := p.peek(); ok {
		pos = t.pos
	}
	if p.i == 0 {
		return filterErr(pos, "missing clause")
	}
	return filterErr(pos, "missing clause after "+p.toks[p.i-1].describe())
}

func (p *parser) parsePrimary() (node, error) {
	t, ok := p.peek()
	if !ok {
		return node{}, p.missingClause()
	}
	switch t.kind {
	case tokLParen:
		if p.depth == MaxDepth {
			return node{}, filterErr(t.pos, "parentheses nested deeper than "+strconv.Itoa(MaxDepth))
		}
		p.i++
		if c, ok := p.peek(); ok && c.kind == tokRParen {
			return node{}, filterErr(t.pos, "empty parentheses")
		}
		p.depth++
		n, err := p.parseOr()
		if err != nil {
			return node{}, err
		}
		p.depth--
		c, ok := p.peek()
		if !ok {
			return node{}, filterErr(t.pos, "unclosed (")
		}
		if c.kind != tokRParen {
			return node{}, filterErr(c.pos, "unexpected "+c.describe()+", want and, or, or )")
		}
		p.i++
		return n, nil
	case tokRParen:
		if p.i == 0 {
			return node{}, filterErr(t.pos, "unmatched )")
		}
		return node{}, p.missingClause()
	case tokString:
		return node{}, filterErr(t.pos, "want a field name, not "+t.describe())
	}
	if !p.followedByCmp() && (t.isWord("and") || t.isWord("or")) {
		return node{}, p.missingClause()
	}
	return p.parseClause()
}

// isOperator reports whether token i is and, or or not.
func (p *parser) isOperator(i int) bool {
	t := p.toks[i]
	return t.isWord("and") || t.isWord("or") || t.isWord("not")
}

func (p *parser) parseClause() (node, error) {
	ft := p.toks[p.i]
	p.clauses++
	if p.clauses > MaxClauses {
		return node{}, filterErr(ft.pos, "more than "+strconv.Itoa(MaxClauses)+" clauses")
	}
	typ, ok := p.fields[ft.text]
	if !ok {
		return node{}, filterErr(ft.pos, "unknown field "+strconv.Quote(ft.text))
	}
	p.i++
	ot, ok := p.peek()
	if !ok || ot.kind != tokWord {
		return node{}, filterErr(p.posOr(ot, ok), "missing operator after "+ft.describe())
	}
	op, ok := lookupCmp(ot.text)
	if !ok {
		return node{}, filterErr(ot.pos, "unknown operator "+ot.describe())
	}
	kind := typ.valueKind()
	if kind == Bool && op != cmpEq && op != cmpNq {
		return node{}, filterErr(ot.pos, "operator "+cmpNames[op]+" not allowed for bool field "+strconv.Quote(ft.text))
	}
	p.i++
	vt, ok := p.peek()
	if !ok || vt.kind == tokLParen || vt.kind == tokRParen || p.isOperator(p.i) {
		return node{}, filterErr(p.posOr(vt, ok), "missing value after "+ot.describe())
	}
	p.i++
	n := node{op: opCmp, cmp: op, field: ft.text}
	switch kind {
	case Integer:
		v, err := strconv.ParseInt(vt.text, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return node{}, filterErr(vt.pos, "integer "+vt.describe()+" out of range")
			}
			return node{}, filterErr(vt.pos, typ.String()+" field "+strconv.Quote(ft.text)+" compared with "+vt.describe()+", want an integer")
		}
		n.val = IntValue(v)
	case Bool:
		switch {
		case strings.EqualFold(vt.text, "true"):
			n.val = BoolValue(true)
		case strings.EqualFold(vt.text, "false"):
			n.val = BoolValue(false)
		default:
			return node{}, filterErr(vt.pos, "bool field "+strconv.Quote(ft.text)+" compared with "+vt.describe()+", want true or false")
		}
	default:
		n.val = StringValue(vt.text)
	}
	p.used = append(p.used, ft.text)
	return n, nil
}

func (p *parser) posOr(t token, ok bool) int {
	if ok {
		return t.pos
	}
	return len(p.src)
}
