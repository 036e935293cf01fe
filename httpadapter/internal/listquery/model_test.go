package listquery

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The model test generates random well-formed filters from the grammar,
// prints them with random spelling (keyword case, blanks, quoting, extra
// parentheses), parses them back and checks that Match agrees with a
// reference evaluation of the generated tree on random records, and that
// Fields and Equals agree with the tree.

type gOp int

const (
	gCmp gOp = iota
	gAnd
	gOr
	gNot
)

type gNode struct {
	op    gOp
	field string
	cmp   string // eq nq gt lt ge le
	typ   Type
	s     string
	n     int64
	b     bool
	kids  []*gNode
}

var modelFields = Fields{
	"name":        String,
	"type":        String,
	"lock.number": String,
	"floor":       Integer,
	"building":    Integer,
	"created_at":  Timestamp,
	"active":      Bool,
}

var modelFieldNames = func() []string {
	var names []string
	for name := range modelFields {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}()

var modelStrings = []string{"", "a", "b", "ab", "Sherlock Holmes", "O'Brien", `say "hi"`, `'`, `"`, `''`,
	"and", "NOT", "Or", "(x)", "221", "-3", "ü", "card", "a b\tc", "eq", "true"}

var modelInts = []int64{-3, -1, 0, 1, 2, 3, 5, 10, 221, math.MinInt64, math.MaxInt64}

type modelGen struct {
	r       *rand.Rand
	clauses int
}

func (g *modelGen) tree(depth int) *gNode {
	if depth == 0 || g.clauses >= 12 || g.r.IntN(10) < 4 {
		return g.leaf()
	}
	switch g.r.IntN(5) {
	case 0:
		return &gNode{op: gNot, kids: []*gNode{g.tree(depth - 1)}}
	case 1, 2:
		return g.chain(gAnd, depth)
	}
	return g.chain(gOr, depth)
}

func (g *modelGen) chain(op gOp, depth int) *gNode {
	n := &gNode{op: op}
	for range 2 + g.r.IntN(2) {
		n.kids = append(n.kids, g.tree(depth-1))
	}
	return n
}

func (g *modelGen) leaf() *gNode {
	g.clauses++
	field := modelFieldNames[g.r.IntN(len(modelFieldNames))]
	n := &gNode{op: gCmp, field: field, typ: modelFields[field]}
	ops := []string{"eq", "nq", "gt", "lt", "ge", "le"}
	if n.typ == Bool {
		ops = ops[:2]
	}
	n.cmp = ops[g.r.IntN(len(ops))]
	switch n.typ {
	case String:
		n.s = modelStrings[g.r.IntN(len(modelStrings))]
	case Integer, Timestamp:
		n.n = modelInts[g.r.IntN(len(modelInts))]
	case Bool:
		n.b = g.r.IntN(2) == 0
	}
	return n
}

func (g *modelGen) record() Map {
	m := Map{}
	for _, field := range modelFieldNames {
		switch x := g.r.IntN(20); {
		case x < 4: // missing
		case x == 4: // a value of another type: counts as missing
			if modelFields[field] == String {
				m[field] = IntValue(1)
			} else {
				m[field] = StringValue("1")
			}
		default:
			switch modelFields[field] {
			case String:
				m[field] = StringValue(modelStrings[g.r.IntN(len(modelStrings))])
			case Integer, Timestamp:
				m[field] = IntValue(modelInts[g.r.IntN(len(modelInts))])
			case Bool:
				m[field] = BoolValue(g.r.IntN(2) == 0)
			}
		}
	}
	return m
}

// eval is the reference semantics, written independently of Match: Go's
// own operators on the values, missing (or mistyped) false but for nq.
func (n *gNode) eval(m Map) bool {
	switch n.op {
	case gNot:
		return !n.kids[0].eval(m)
	case gAnd:
		for _, k := range n.kids {
			if !k.eval(m) {
				return false
			}
		}
		return true
	case gOr:
		for _, k := range n.kids {
			if k.eval(m) {
				return true
			}
		}
		return false
	}
	v, ok := m[n.field]
	switch n.typ {
	case String:
		if !ok || v.kind != String {
			return n.cmp == "nq"
		}
		return cmpOrdered(v.s, n.s, n.cmp)
	case Integer, Timestamp:
		if !ok || v.kind != Integer {
			return n.cmp == "nq"
		}
		return cmpOrdered(v.n, n.n, n.cmp)
	}
	if !ok || v.kind != Bool {
		return n.cmp == "nq"
	}
	return (n.cmp == "eq") == ((v.n != 0) == n.b)
}

func cmpOrdered[T int64 | string](a, b T, op string) bool {
	switch op {
	case "eq":
		return a == b
	case "nq":
		return a != b
	case "gt":
		return a > b
	case "lt":
		return a < b
	case "ge":
		return a >= b
	}
	return a <= b
}

func (n *gNode) fields(into map[string]bool) {
	if n.op == gCmp {
		into[n.field] = true
	}
	for _, k := range n.kids {
		k.fields(into)
	}
}

// normal returns the tree as the parser shapes it: nested ands and ors
// flattened, double negations dropped.
func (n *gNode) normal() *gNode {
	switch n.op {
	case gNot:
		k := n.kids[0].normal()
		if k.op == gNot {
			return k.kids[0]
		}
		return &gNode{op: gNot, kids: []*gNode{k}}
	case gAnd, gOr:
		out := &gNode{op: n.op}
		for _, k := range n.kids {
			k = k.normal()
			if k.op == n.op {
				out.kids = append(out.kids, k.kids...)
			} else {
				out.kids = append(out.kids, k)
			}
		}
		return out
	}
	return n
}

// equals is the reference for Filter.Equals.
func (n *gNode) equals(field string) (string, bool) {
	n = n.normal()
	isEq := func(k *gNode) bool { return k.op == gCmp && k.cmp == "eq" && k.field == field }
	cands := []*gNode{n}
	if n.op == gAnd {
		cands = n.kids
	}
	for _, k := range cands {
		if isEq(k) {
			switch k.typ {
			case Integer, Timestamp:
				return strconv.FormatInt(k.n, 10), true
			case Bool:
				return strconv.FormatBool(k.b), true
			}
			return k.s, true
		}
	}
	return "", false
}

// Printing.

func prec(n *gNode) int {
	switch n.op {
	case gOr:
		return 1
	case gAnd:
		return 2
	case gNot:
		return 3
	}
	return 4
}

type printer struct {
	r     *rand.Rand
	b     strings.Builder
	depth int
}

func (p *printer) blank() {
	p.b.WriteString([]string{" ", " ", " ", "  ", "\t", "\r\n", " \n "}[p.r.IntN(7)])
}

func (p *printer) maybeBlank() {
	if p.r.IntN(2) == 0 {
		p.blank()
	}
}

func (p *printer) keyword(w string) {
	switch p.r.IntN(4) {
	case 0:
		w = strings.ToUpper(w)
	case 1:
		bs := []byte(w)
		for i := range bs {
			if p.r.IntN(2) == 0 {
				bs[i] ^= 0x20
			}
		}
		w = string(bs)
	}
	p.b.WriteString(w)
}

func (p *printer) print(n *gNode, minPrec int) {
	paren := prec(n) < minPrec || (p.depth < MaxDepth && p.r.IntN(10) == 0)
	if paren {
		p.depth++
		p.b.WriteByte('(')
		p.maybeBlank()
	}
	switch n.op {
	case gOr, gAnd:
		kw, kidPrec := "or", 1
		if n.op == gAnd {
			kw, kidPrec = "and", 2
		}
		for i, k := range n.kids {
			if i > 0 {
				p.blank()
				p.keyword(kw)
				p.blank()
			}
			p.print(k, kidPrec)
		}
	case gNot:
		p.keyword("not")
		p.blank()
		p.print(n.kids[0], 3)
	default:
		p.b.WriteString(n.field)
		p.blank()
		p.keyword(n.cmp)
		p.blank()
		p.value(n)
	}
	if paren {
		p.depth--
		p.maybeBlank()
		p.b.WriteByte(')')
	}
}

func (p *printer) value(n *gNode) {
	var text string
	bare := false
	switch n.typ {
	case String:
		text = n.s
		bare = p.r.IntN(3) == 0 && bareWord(text)
	case Integer, Timestamp:
		text = strconv.FormatInt(n.n, 10)
		bare = p.r.IntN(5) != 0
	case Bool:
		text = strconv.FormatBool(n.b)
		if p.r.IntN(2) == 0 {
			text = strings.ToUpper(text)
		}
		bare = p.r.IntN(5) != 0
	}
	if bare {
		p.b.WriteString(text)
		return
	}
	q := `'`
	if p.r.IntN(2) == 0 {
		q = `"`
	}
	p.b.WriteString(q + strings.ReplaceAll(text, q, q+q) + q)
}

func bareWord(s string) bool {
	if s == "" || s[0] == '\'' || s[0] == '"' || strings.ContainsAny(s, " \t\r\n()") {
		return false
	}
	for _, kw := range []string{"and", "or", "not"} {
		if strings.EqualFold(s, kw) {
			return false
		}
	}
	return true
}

func TestModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := &modelGen{r: r}
	records := make([]Map, 40)
	for i := range records {
		records[i] = g.record()
	}
	cases, nontrivial := 5000, 0
	if testing.Short() {
		cases = 500
	}
	for i := range cases {
		g.clauses = 0
		tree := g.tree(5)
		p := &printer{r: r}
		p.print(tree, 1)
		s := p.b.String()
		if len(s) > MaxFilterLen {
			continue
		}
		f, err := ParseFilter(s, modelFields)
		if err != nil {
			t.Fatalf("case %d: ParseFilter(%q): %v", i, s, err)
		}
		matched := 0
		for _, rec := range records {
			want := tree.eval(rec)
			if got := f.Match(rec); got != want {
				t.Fatalf("case %d: ParseFilter(%q).Match(%v) = %v, want %v", i, s, rec, got, want)
			}
			if want {
				matched++
			}
		}
		if matched > 0 && matched < len(records) {
			nontrivial++
		}
		used := map[string]bool{}
		tree.fields(used)
		var wantFields []string
		for name := range used {
			wantFields = append(wantFields, name)
		}
		slices.Sort(wantFields)
		if got := f.Fields(); !slices.Equal(got, wantFields) {
			t.Fatalf("case %d: ParseFilter(%q).Fields() = %q, want %q", i, s, got, wantFields)
		}
		for _, field := range modelFieldNames {
			wantV, wantOK := tree.equals(field)
			if gotV, gotOK := f.Equals(field); gotV != wantV || gotOK != wantOK {
				t.Fatalf("case %d: ParseFilter(%q).Equals(%q) = %q, %v, want %q, %v", i, s, field, gotV, gotOK, wantV, wantOK)
			}
		}
	}
	// The test is only worth its time if most filters tell records apart.
	if nontrivial < cases/3 {
		t.Errorf("only %d of %d filters both matched and refused some record", nontrivial, cases)
	}
	t.Logf("%d of %d filters both matched and refused some record", nontrivial, cases)
}

// TestModelOrder checks Order.Compare against a reference on random
// records and keys: a total preorder (antisymmetric, transitive through a
// sort) that agrees with comparing key by key.
func TestModelOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := &modelGen{r: r}
	for range 500 {
		var o Order
		for range 1 + r.IntN(3) {
			o.Keys = append(o.Keys, modelFieldNames[r.IntN(len(modelFieldNames))])
		}
		o.Desc = r.IntN(2) == 0
		parsed, err := ParseOrder(o.String(), modelFieldNames)
		if err != nil || !slices.Equal(parsed.Keys, o.Keys) || parsed.Desc != o.Desc {
			t.Fatalf("ParseOrder(%q) = %+v, %v", o.String(), parsed, err)
		}
		recs := make([]Map, 30)
		for i := range recs {
			recs[i] = g.record()
		}
		slices.SortFunc(recs, func(a, b Map) int { return o.Compare(a, b) })
		for i := 1; i < len(recs); i++ {
			if c := refCompare(o, recs[i-1], recs[i]); c > 0 {
				t.Fatalf("%q: %v sorted before %v", o.String(), recs[i-1], recs[i])
			}
		}
		for _, a := range recs {
			for _, b := range recs {
				if got, want := o.Compare(a, b), refCompare(o, a, b); got != want || o.Compare(b, a) != -got {
					t.Fatalf("%q: Compare(%v, %v) = %d, want %d", o.String(), a, b, got, want)
				}
			}
		}
	}
}

func refCompare(o Order, a, b Map) int {
	rank := func(m Map, k string) (int, Value) {
		v, ok := m[k]
		if !ok {
			return 0, v
		}
		return 1 + int(v.kind), v
	}
	for _, k := range o.Keys {
		ra, va := rank(a, k)
		rb, vb := rank(b, k)
		c := 0
		switch {
		case ra != rb:
			c = cmpSign(ra < rb, ra > rb)
		case ra == 0:
		case va.kind == String:
			c = cmpSign(va.s < vb.s, va.s > vb.s)
		default:
			c = cmpSign(va.n < vb.n, va.n > vb.n)
		}
		if c != 0 {
			if o.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

func cmpSign(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}
