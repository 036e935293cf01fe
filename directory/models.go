package directory

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Model is a device model: which fields of the template its directory
// entries have. Get one from ModelFor (by the firmwarePackage a device
// reports), VersoModel or AccessUnitModel. The zero Model is VersoModel;
// a Model{Name: n} literal is ModelFor(n), and Open refuses a name that
// ModelFor does not know.
//
// The models follow SPEC.md's table. Every model has uuid, deleted, owner,
// name, access and timestamp; callPos has 3 entries, and
// access.accessPoints and access.card 2 each, wherever they exist:
//   - verso (also solo, "verso 2.0", verso2), the default: photo, email,
//     treepath, virtNumber, deputy, buttons; callPos {peer, profiles,
//     grouped, ipEye}; access {validFrom, validTo, accessPoints,
//     pairingExpired, virtCard, card, mobkey, fpt, pin, accessException,
//     code[4], licensePlates, liftFloors}.
//   - vario (safety, force): as verso, without access.pairingExpired,
//     access.mobkey and access.fpt.
//   - style: recordType (digits, "0" by default), photo, highlighting
//     (false by default), email, treepath, virtNumber, deputy, and no
//     buttons; callPos and access as verso.
//   - base: email, deputy, buttons; callPos as verso; access {validFrom,
//     validTo, accessPoints, card, pin, accessException, code[2],
//     licensePlates}.
//   - uni: buttons; callPos {peer, profiles, grouped}; access {code[1]}.
//   - accessunit (au, au2, aum): email; no callPos; access as verso with
//     code[2].
//   - ipone: photo, email, deputy, buttons; callPos {peer, profiles,
//     grouped}; access {validFrom, validTo, accessPoints, pin,
//     accessException, code[4], licensePlates}.
//   - videokit: email, virtNumber, deputy, buttons; callPos as verso;
//     access as ipone.
//   - audiokit: as videokit, with callPos {peer, profiles, grouped}.
//
// A write that names a field the model lacks, an index past the model's
// length of an array included (access.code[2] on a base, or a third
// element of a code array written nested), answers
// EDIR_FIELD_NOT_AVAILABLE for it; Get, Query and the template never show
// such a field, and list arrays at the model's length.
type Model struct {
	// Name is the model's canonical name, one of Models().
	Name string

	def *modelDef // nil: found by Name, VersoModel when Name is empty
}

// modelDef lists a model's fields by name, as SPEC.md's table does.
type modelDef struct {
	name    string
	aliases []string
	top     []string // top-level fields and groups, besides uuid, deleted and timestamp
	callPos []string // the fields of each call position; nil: no callPos
	access  []string // the members of access ("card" for both cards)
	codes   int      // entries of access.code
}

const (
	callPosFull  = "peer profiles grouped ipEye"
	callPosNoEye = "peer profiles grouped"
	accessVerso  = "validFrom validTo accessPoints pairingExpired virtCard card mobkey fpt pin accessException code licensePlates liftFloors"
	accessVario  = "validFrom validTo accessPoints virtCard card pin accessException code licensePlates liftFloors"
	accessBase   = "validFrom validTo accessPoints card pin accessException code licensePlates"
	accessIPOne  = "validFrom validTo accessPoints pin accessException code licensePlates"
	topVerso     = "owner name photo email treepath virtNumber deputy buttons callPos access"
	topVideoKit  = "owner name email virtNumber deputy buttons callPos access"
)

// modelDefs is SPEC.md's table of directory templates per firmwarePackage.
var modelDefs = []*modelDef{
	{name: "vario", aliases: []string{"safety", "force"}, top: strings.Fields(topVerso),
		callPos: strings.Fields(callPosFull), access: strings.Fields(accessVario), codes: 4},
	{name: "style", top: strings.Fields("owner recordType name photo highlighting email treepath virtNumber deputy callPos access"),
		callPos: strings.Fields(callPosFull), access: strings.Fields(accessVerso), codes: 4},
	{name: "base", top: strings.Fields("owner name email deputy buttons callPos access"),
		callPos: strings.Fields(callPosFull), access: strings.Fields(accessBase), codes: 2},
	{name: "uni", top: strings.Fields("owner name buttons callPos access"),
		callPos: strings.Fields(callPosNoEye), access: []string{"code"}, codes: 1},
	{name: "verso", aliases: []string{"solo", "verso 2.0", "verso2"}, top: strings.Fields(topVerso),
		callPos: strings.Fields(callPosFull), access: strings.Fields(accessVerso), codes: 4},
	{name: "accessunit", aliases: []string{"au", "au2", "aum"}, top: strings.Fields("owner name email access"),
		access: strings.Fields(accessVerso), codes: 2},
	{name: "ipone", top: strings.Fields("owner name photo email deputy buttons callPos access"),
		callPos: strings.Fields(callPosNoEye), access: strings.Fields(accessIPOne), codes: 4},
	{name: "videokit", top: strings.Fields(topVideoKit),
		callPos: strings.Fields(callPosFull), access: strings.Fields(accessIPOne), codes: 4},
	{name: "audiokit", top: strings.Fields(topVideoKit),
		callPos: strings.Fields(callPosNoEye), access: strings.Fields(accessIPOne), codes: 4},
}

// modelIndex finds a model by its name or an alias, in lower case.
var modelIndex = sync.OnceValue(func() map[string]*modelDef {
	idx := map[string]*modelDef{}
	for _, d := range modelDefs {
		for _, n := range append([]string{d.name}, d.aliases...) {
			idx[n] = d
		}
	}
	return idx
})

// ModelFor returns the model of a device that reports firmwarePackage (as
// /api/system/info does): a canonical name ("verso", "accessunit", ...;
// see Models) or an alias ("solo", "verso 2.0", "au2", "safety", ...),
// without regard to case or surrounding spaces. It reports false for a
// name it does not know.
func ModelFor(firmwarePackage string) (Model, bool) {
	d := modelIndex()[strings.ToLower(strings.TrimSpace(firmwarePackage))]
	if d == nil {
		return Model{}, false
	}
	return Model{Name: d.name, def: d}, true
}

// Models returns the canonical names of the models, sorted.
func Models() []string {
	names := make([]string, len(modelDefs))
	for i, d := range modelDefs {
		names[i] = d.name
	}
	slices.Sort(names)
	return names
}

// VersoModel is the full template of SPEC.md (2N IP Verso class), the
// default: ModelFor("verso").
func VersoModel() Model { m, _ := ModelFor("verso"); return m }

// AccessUnitModel is an access unit, ModelFor("accessunit"): no call
// positions, buttons, photo, tree path, virtual number or deputy, and two
// switch codes.
func AccessUnitModel() Model { m, _ := ModelFor("accessunit"); return m }

// resolve returns the model's definition: its own, the one its Name
// names, or Verso's for the zero Model.
func (m Model) resolve() (*modelDef, error) {
	switch {
	case m.def != nil:
		return m.def, nil
	case m.Name == "":
		return VersoModel().def, nil
	}
	if mm, ok := ModelFor(m.Name); ok {
		return mm.def, nil
	}
	return nil, fmt.Errorf("directory: unknown model %q", m.Name)
}

// view is a model laid over the registry: which fields and nodes it has.
type view struct {
	avail        []bool // by field index: the model has the field
	present      []bool // by node id: the node is, or holds, a field the model has
	accessPoints int    // elements of access.accessPoints on the model
}

// newView lays def over r; a nil def has every field (what an Entry may
// hold, whatever the model).
func newView(r *registry, def *modelDef) *view {
	v := &view{avail: make([]bool, len(r.fields)), present: make([]bool, len(r.nodes))}
	for i, f := range r.fields {
		if def != nil && !f.meta && !def.has(r, f) {
			continue
		}
		v.avail[i] = true
		for n := f.node; n != nil && !v.present[n.id]; n = n.parent {
			v.present[n.id] = true
		}
	}
	v.present[r.root.id] = true
	for _, el := range r.byNode["access.accessPoints"].elems {
		if v.present[el.id] {
			v.accessPoints++
		}
	}
	return v
}

// allView is the view of every field, for entries built in Go.
var allView = sync.OnceValue(func() *view { return newView(templateRegistry(), nil) })

// has reports whether the model has the leaf f.
func (d *modelDef) has(r *registry, f *field) bool {
	if !slices.Contains(d.top, f.top) {
		return false
	}
	switch f.top {
	case "callPos":
		return slices.Contains(d.callPos, f.node.name)
	case "access":
		member := childToward(r.byNode["access"], f.node)
		if !slices.Contains(d.access, member.name) {
			return false
		}
		if member.name == "code" {
			return slices.Index(member.elems, f.node) < d.codes
		}
	}
	return true
}

// hasNode reports whether the node (a leaf, an object or an array) is, or
// holds, a field of the view.
func (v *view) hasNode(n *node) bool { return v == nil || v.present[n.id] }
