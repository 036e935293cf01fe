package directory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// kind is the JSON type of a field's value.
type kind int

const (
	kindString kind = iota
	kindBool
)

// field is one leaf of the entry template, addressed by its canonical path
// ("access.pin", "callPos[1].grouped", "access.card[0]").
type field struct {
	path  string
	group string // the path with indexes dropped ("callPos.grouped"), for field selection
	top   string // the first segment ("callPos"), which a Model names
	kind  kind
	def   value // the default: "" or false, or what the template says
	valid func(string) bool
	idx   int   // the field's place in registry.fields (template order)
	node  *node // the leaf of the tree
	meta  bool  // uuid or deleted: the directory's, not a value an entry holds
}

// node is the template as a tree, in template order, for encoding.
type node struct {
	name     string
	leaf     *field
	children []*node // an object's members
	elems    []*node // an array's elements
	parent   *node   // nil for the root
	id       int     // the node's place in registry.nodes
}

// Value rules: PIN digits 2..15, switch codes digits 2..16 (or empty),
// validity as unix seconds, e-mail, a tree path from the root, card
// numbers in hex, and a length bound on every text.
var (
	emailRe       = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]{1,190}$`)
	unixSecondsRe = regexp.MustCompile(`^[0-9]{1,10}$`)
	cardRe        = regexp.MustCompile(`^[0-9A-Fa-f]{0,32}$`)
	recordTypeRe  = regexp.MustCompile(`^[0-9]{1,3}$`)
)

func digits(lo, hi int) func(string) bool {
	re := regexp.MustCompile(fmt.Sprintf(`^[0-9]{%d,%d}$`, lo, hi))
	return func(s string) bool { return s == "" || re.MatchString(s) }
}

func maxLen(n int) func(string) bool { return func(s string) bool { return len(s) <= n } }
func email(s string) bool            { return s == "" || emailRe.MatchString(s) }
func unixSeconds(s string) bool      { return unixSecondsRe.MatchString(s) }
func treePath(s string) bool         { return strings.HasPrefix(s, "/") && len(s) <= 255 }
func cardID(s string) bool           { return cardRe.MatchString(s) }
func recordType(s string) bool       { return recordTypeRe.MatchString(s) }

// MaxPhotoBytes bounds an entry's photo field (base64 or a reference).
const MaxPhotoBytes = 512 << 10

// registry is the union of every model's template: the Verso-class
// template of SPEC.md plus the fields of the Style (recordType,
// highlighting), its leaves by path, in template order, and the tree. It
// is built once (templateRegistry) and never changed; a model (models.go)
// says which of its fields a device has.
type registry struct {
	fields  []*field
	nodes   []*node // every node of the tree, the root first
	byPath  map[string]*field
	byNode  map[string]*node // every path, leaf, object or array, to its node
	objects map[string]bool  // paths of objects inside an entry: "access", "callPos[1]"
	arrays  map[string]int   // paths of arrays and their lengths: "callPos" 3
	root    *node
	cards   [2]*field // access.card[0] and [1], for the card index

	// For CheckAccess.
	validFrom, validTo *field
	accessPoints       []accessPointFields
}

// accessPointFields are the fields of one element of access.accessPoints.
type accessPointFields struct{ enabled, profiles *field }

// templateRegistry is the registry every Directory and Entry shares.
var templateRegistry = sync.OnceValue(newRegistry)

func newRegistry() *registry {
	r := &registry{byPath: map[string]*field{}, byNode: map[string]*node{}, objects: map[string]bool{}, arrays: map[string]int{}}
	str := func(valid func(string) bool) func(name string) *node {
		return func(name string) *node {
			return &node{name: name, leaf: &field{kind: kindString, valid: valid}}
		}
	}
	boolean := func(def bool) func(name string) *node {
		return func(name string) *node { return &node{name: name, leaf: &field{kind: kindBool, def: value{b: def}}} }
	}
	text := str(maxLen(255))
	obj := func(name string, children ...*node) *node { return &node{name: name, children: children} }
	arr := func(name string, n int, elem func() *node) *node {
		a := &node{name: name}
		for range n {
			a.elems = append(a.elems, elem())
		}
		return a
	}
	root := obj("",
		str(maxLen(36))("uuid"),
		boolean(false)("deleted"),
		text("owner"), str(recordType)("recordType"), text("name"), str(maxLen(MaxPhotoBytes))("photo"),
		boolean(false)("highlighting"), str(email)("email"),
		str(treePath)("treepath"), text("virtNumber"), text("deputy"), text("buttons"),
		arr("callPos", 3, func() *node {
			return obj("", text("peer"), text("profiles"), boolean(false)("grouped"), text("ipEye"))
		}),
		obj("access",
			str(unixSeconds)("validFrom"), str(unixSeconds)("validTo"),
			arr("accessPoints", 2, func() *node { return obj("", boolean(true)("enabled"), text("profiles")) }),
			boolean(false)("pairingExpired"),
			text("virtCard"),
			arr("card", 2, func() *node { return str(cardID)("") }),
			text("mobkey"), text("fpt"), str(digits(2, 15))("pin"),
			boolean(false)("accessException"),
			arr("code", 4, func() *node { return str(digits(2, 16))("") }),
			text("licensePlates"), text("liftFloors"),
		),
	)
	root.children = append(root.children, &node{name: "timestamp"}) // written by the directory, not a field
	r.root = root
	// Defaults the template spells otherwise.
	r.walk(root, nil, "", "")
	r.byPath["treepath"].def.s = "/"
	r.byPath["recordType"].def.s = "0"
	r.byPath["access.validFrom"].def.s = "0"
	r.byPath["access.validTo"].def.s = "0"
	for _, f := range r.fields {
		f.def.f = f
	}
	r.byPath["uuid"].meta = true
	r.byPath["deleted"].meta = true
	r.cards = [2]*field{r.byPath["access.card[0]"], r.byPath["access.card[1]"]}
	r.validFrom, r.validTo = r.byPath["access.validFrom"], r.byPath["access.validTo"]
	for i := range r.arrays["access.accessPoints"] {
		p := "access.accessPoints[" + strconv.Itoa(i) + "]."
		r.accessPoints = append(r.accessPoints, accessPointFields{r.byPath[p+"enabled"], r.byPath[p+"profiles"]})
	}
	return r
}

// walk names every leaf with its path and collects it, and links every
// node to its parent.
func (r *registry) walk(n, parent *node, path, group string) {
	n.parent, n.id = parent, len(r.nodes)
	r.nodes = append(r.nodes, n)
	if path != "" {
		r.byNode[path] = n
	}
	switch {
	case n.leaf != nil:
		n.leaf.path, n.leaf.group, n.leaf.node, n.leaf.idx = path, group, n, len(r.fields)
		n.leaf.top, _, _ = strings.Cut(strings.ReplaceAll(path, "[", "."), ".")
		if n.leaf.valid == nil {
			n.leaf.valid = func(string) bool { return true }
		}
		r.fields = append(r.fields, n.leaf)
		r.byPath[path] = n.leaf
	case n.elems != nil:
		r.arrays[path] = len(n.elems)
		for i, e := range n.elems {
			r.walk(e, n, path+"["+strconv.Itoa(i)+"]", group)
		}
	default:
		if path != "" {
			r.objects[path] = true
		}
		for _, c := range n.children {
			if c.name == "timestamp" {
				c.parent, c.id = n, len(r.nodes)
				r.nodes = append(r.nodes, c)
				continue
			}
			r.walk(c, n, join(path, c.name), join(group, c.name))
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
