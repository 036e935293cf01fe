package access_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/file"
	"github.com/lintelhq/lintel/store/memory"
)

// The model-based test of the decision: refModel is a plain reading of
// the package doc's semantics, with maps and loops and nothing cached.
// Random sequences of batches and decisions run against it and against
// Services on a real store; every decision and every batch result must
// agree. A failing sequence is shrunk to a shortest one that still fails
// and printed, with the seed that made it.

// The instants decisions are made at, and the two kinds of time profile:
// "day" (08:00-18:00) is active in the morning only, "evening"
// (20:00-23:00) at night only.
var modelInstants = []time.Time{morning, night}

func profileActive(kind string, at time.Time) bool {
	h := at.Hour()
	if kind == "day" {
		return h >= 8 && h < 18
	}
	return h >= 20 && h < 23
}

func profileJSON(kind string) string {
	from, to := int64(1767254400), int64(1767290400) // 2026-01-01 08:00 - 18:00 UTC
	if kind == "evening" {
		from, to = 1767297600, 1767308400 // 20:00 - 23:00
	}
	return fmt.Sprintf(`{"name":"%s","time_options":{"date_from":%d,"date_to":%d},
		"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"day","repeat_end":{"format":"never"}}}}`, kind, from, to)
}

// validity kinds: always, a window around the morning, a window in the
// future.
func validityWindow(kind string) (permanent bool, from, to int64) {
	switch kind {
	case "morning":
		return false, morning.Add(-time.Hour).Unix(), morning.Add(time.Hour).Unix()
	case "future":
		return false, night.Add(24 * time.Hour).Unix(), night.Add(48 * time.Hour).Unix()
	}
	return true, 0, 0
}

type mUser struct {
	blocked  bool
	lock     int
	profiles []string
	ids      []string
}

func (u mUser) restricts() bool { return u.blocked || u.lock != 0 || len(u.profiles) > 0 }

type mIdent struct {
	number   string
	lock     access.Lock
	validity string
	limited  bool
	max      int
	passes   int
	profiles []string
}

type refModel struct {
	users    map[string]mUser
	idents   map[string]mIdent
	profiles map[string]string // link_id -> kind
	detached map[string]bool
}

func newRefModel() *refModel {
	return &refModel{users: map[string]mUser{}, idents: map[string]mIdent{}, profiles: map[string]string{}, detached: map[string]bool{}}
}

func (m *refModel) upsertUsers(ids []string, us []mUser) []access.ExtendedInfo {
	var infos []access.ExtendedInfo
	attach, detach := map[string]bool{}, map[string]bool{}
	for i, id := range ids {
		u := us[i]
		old, found := m.users[id]
		info := access.Created
		if found {
			info = access.Updated
			for _, ident := range old.ids {
				if !slices.Contains(u.ids, ident) && old.restricts() {
					detach[ident] = true
				}
			}
		}
		for _, ident := range u.ids {
			if !found || !slices.Contains(old.ids, ident) {
				attach[ident] = true
			}
		}
		m.users[id] = u
		infos = append(infos, info)
	}
	m.relink(attach, detach)
	return infos
}

func (m *refModel) relink(attach, detach map[string]bool) {
	for ident := range attach {
		delete(m.detached, ident)
	}
	for ident := range detach {
		if _, ok := m.idents[ident]; ok && !attach[ident] {
			m.detached[ident] = true
		}
	}
}

func (m *refModel) deleteUsers(ids []string) []access.ExtendedInfo {
	var infos []access.ExtendedInfo
	detach := map[string]bool{}
	for _, id := range ids {
		u, ok := m.users[id]
		if !ok {
			infos = append(infos, access.NotFound)
			continue
		}
		for _, ident := range u.ids {
			if u.restricts() {
				detach[ident] = true
			}
		}
		delete(m.users, id)
		infos = append(infos, access.Deleted)
	}
	m.relink(nil, detach)
	return infos
}

func (m *refModel) upsertIdents(ids []string, is []mIdent, left []*int) []access.ExtendedInfo {
	var infos []access.ExtendedInfo
	for i, id := range ids {
		in := is[i]
		taken := false
		for other, o := range m.idents {
			if other != id && o.number == in.number {
				taken = true
			}
		}
		if taken {
			infos = append(infos, access.NumberTakenByAnotherIdentifier)
			continue
		}
		old, found := m.idents[id]
		in.passes = in.max
		switch {
		case left[i] != nil:
			in.passes = *left[i]
		case found && old.limited:
			in.passes = min(old.passes, in.max)
		}
		m.idents[id] = in
		delete(m.detached, id)
		switch {
		case !in.limited || in.max >= 1:
			if found {
				infos = append(infos, access.Updated)
			} else {
				infos = append(infos, access.Created)
			}
		default:
			infos = append(infos, access.InvalidTimeRulesSettings)
		}
	}
	return infos
}

func (m *refModel) deleteIdents(ids []string) []access.ExtendedInfo {
	var infos []access.ExtendedInfo
	for _, id := range ids {
		if _, ok := m.idents[id]; !ok {
			infos = append(infos, access.NotFound)
			continue
		}
		delete(m.idents, id)
		delete(m.detached, id)
		infos = append(infos, access.Deleted)
	}
	return infos
}

// decide is the package doc's decision, read plainly.
func (m *refModel) decide(number string, door access.Door, at time.Time, consume bool) access.Decision {
	var linkID string
	for id, in := range m.idents {
		if in.number == number {
			linkID = id
		}
	}
	if linkID == "" {
		return access.Decision{Reason: access.UnknownCredential, PassesLeft: -1}
	}
	in := m.idents[linkID]
	deny := func(r access.Reason) access.Decision {
		return access.Decision{Reason: r, IdentifierLinkID: linkID, PassesLeft: -1}
	}
	var owners []mUser
	for _, u := range m.users {
		if slices.Contains(u.ids, linkID) {
			owners = append(owners, u)
		}
	}
	for _, u := range owners {
		if u.blocked {
			return deny(access.UserBlocked)
		}
	}
	if m.detached[linkID] {
		return deny(access.OwnerRemoved)
	}
	if (in.lock == access.LockFirst && door != 1) || (in.lock == access.LockSecond && door != 2) {
		return deny(access.WrongLock)
	}
	for _, u := range owners {
		if u.lock != 0 && u.lock != int(door) {
			return deny(access.WrongLock)
		}
	}
	if permanent, from, to := validityWindow(in.validity); !permanent {
		if at.Unix() < from {
			return deny(access.NotYetValid)
		}
		if at.Unix() >= to {
			return deny(access.Expired)
		}
	}
	if in.limited && in.max < 1 {
		return deny(access.NoPassesLeft)
	}
	profiles := slices.Clone(in.profiles)
	for _, u := range owners {
		profiles = append(profiles, u.profiles...)
	}
	active := len(profiles) == 0
	for _, p := range profiles {
		kind, ok := m.profiles[p]
		if !ok {
			return deny(access.TimeProfileMissing)
		}
		active = active || profileActive(kind, at)
	}
	if !active {
		return deny(access.OutsideTimeProfile)
	}
	if !in.limited {
		return access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: linkID, PassesLeft: -1}
	}
	if in.passes == 0 {
		return access.Decision{Reason: access.NoPassesLeft, IdentifierLinkID: linkID, PassesLeft: 0}
	}
	if !consume {
		return access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: linkID, PassesLeft: in.passes}
	}
	in.passes--
	m.idents[linkID] = in
	return access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: linkID, PassesLeft: in.passes}
}

// modelOp is one step of a sequence; String shows it in a failure.
type modelOp struct {
	kind    string // users, delusers, idents, delidents, profiles, delprofiles, decide, check
	ids     []string
	users   []mUser
	idents  []mIdent
	left    []*int
	kinds   []string // profile kinds
	number  string
	door    access.Door
	at      time.Time
	service int // which of the Services runs it
}

func (o modelOp) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[svc %d] %s", o.service, o.kind)
	switch o.kind {
	case "users":
		for i, id := range o.ids {
			u := o.users[i]
			fmt.Fprintf(&b, " %s{blocked:%v lock:%d profiles:%v ids:%v}", short(id), u.blocked, u.lock, shorts(u.profiles), shorts(u.ids))
		}
	case "idents":
		for i, id := range o.ids {
			in := o.idents[i]
			fmt.Fprintf(&b, " %s{number:%s lock:%q validity:%s limited:%v max:%d profiles:%v", short(id), in.number, in.lock, in.validity, in.limited, in.max, shorts(in.profiles))
			if o.left[i] != nil {
				fmt.Fprintf(&b, " passes_left:%d", *o.left[i])
			}
			b.WriteString("}")
		}
	case "profiles":
		for i, id := range o.ids {
			fmt.Fprintf(&b, " %s:%s", short(id), o.kinds[i])
		}
	case "decide", "check":
		fmt.Fprintf(&b, " %s door %d at %s", o.number, o.door, o.at.Format("15:04"))
	default:
		fmt.Fprintf(&b, " %v", shorts(o.ids))
	}
	return b.String()
}

func short(id string) string { return id[len(id)-4:] }
func shorts(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = short(id)
	}
	return out
}

// opGen makes random operations over small pools of link_ids and numbers
// of one partition, so that references, collisions and reuse are common.
type opGen struct {
	r                    *rand.Rand
	users, idents, profs []string
	numbers              []string
	services             int
}

func newOpGen(r *rand.Rand, partition, services int) *opGen {
	g := &opGen{r: r, services: services}
	for i := range 4 {
		g.users = append(g.users, fmt.Sprintf("00000000-0000-4000-8001-%08d%04d", partition, i))
		g.idents = append(g.idents, fmt.Sprintf("00000000-0000-4000-8002-%08d%04d", partition, i))
		g.numbers = append(g.numbers, strconv.Itoa(partition*100+i+1))
	}
	for i := range 3 {
		g.profs = append(g.profs, fmt.Sprintf("00000000-0000-4000-8003-%08d%04d", partition, i))
	}
	g.numbers = append(g.numbers, strconv.Itoa(partition*100+99)) // never pushed... mostly
	return g
}

func (g *opGen) pick(pool []string) string { return pool[g.r.IntN(len(pool))] }

func (g *opGen) subset(pool []string, max int) []string {
	var out []string
	for range g.r.IntN(max + 1) {
		if id := g.pick(pool); !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (g *opGen) next() modelOp {
	op := modelOp{service: g.r.IntN(g.services)}
	switch n := g.r.IntN(20); {
	case n < 4:
		op.kind = "users"
		for range 1 + g.r.IntN(3) {
			op.ids = append(op.ids, g.pick(g.users))
			op.users = append(op.users, mUser{blocked: g.r.IntN(4) == 0, lock: []int{0, 0, 1, 2}[g.r.IntN(4)],
				profiles: g.subset(g.profs, 1), ids: g.subset(g.idents, 2)})
		}
	case n < 5:
		op.kind = "delusers"
		op.ids = []string{g.pick(g.users)}
		if g.r.IntN(2) == 0 {
			op.ids = append(op.ids, g.pick(g.users))
		}
	case n < 8:
		op.kind = "idents"
		for range 1 + g.r.IntN(2) {
			limited := g.r.IntN(3) == 0
			in := mIdent{number: g.pick(g.numbers[:4]), lock: []access.Lock{"", access.LockAll, access.LockFirst, access.LockSecond}[g.r.IntN(4)],
				validity: []string{"always", "always", "morning", "future"}[g.r.IntN(4)], limited: limited, max: g.r.IntN(4),
				profiles: g.subset(g.profs, 1)}
			var left *int
			if limited && g.r.IntN(3) == 0 {
				v := g.r.IntN(3)
				left = &v
			}
			op.ids, op.idents, op.left = append(op.ids, g.pick(g.idents)), append(op.idents, in), append(op.left, left)
		}
	case n < 9:
		op.kind = "delidents"
		op.ids = []string{g.pick(g.idents)}
	case n < 10:
		op.kind = "profiles"
		op.ids, op.kinds = []string{g.pick(g.profs)}, []string{[]string{"day", "evening"}[g.r.IntN(2)]}
	case n < 11:
		op.kind = "delprofiles"
		op.ids = []string{g.pick(g.profs)}
	default:
		op.kind = "decide"
		if g.r.IntN(5) == 0 {
			op.kind = "check"
		}
		op.number, op.door, op.at = g.pick(g.numbers), access.Door(1+g.r.IntN(2)), modelInstants[g.r.IntN(2)]
	}
	return op
}

// apply runs op on the model and on a Service and returns a description
// of the first disagreement, or "".
func apply(ctx context.Context, m *refModel, s *access.Service, op modelOp) (string, error) {
	var want, got []access.ExtendedInfo
	var rs []access.Result
	var err error
	switch op.kind {
	case "users":
		want = m.upsertUsers(op.ids, op.users)
		batch := make([]access.User, len(op.ids))
		for i, id := range op.ids {
			u := op.users[i]
			batch[i] = access.User{LinkID: id, Name: "u" + short(id), AuthFactors: []access.AuthFactor{access.FactorCard},
				IsBlocked: u.blocked, LockNumber: u.lock, TimeProfileLinkIDs: u.profiles, IdentifierLinkIDs: u.ids}
		}
		rs, err = s.UpsertUsers(ctx, batch)
		for _, r := range rs { // warnings (bound_*_doesnt_exist) are not what this test checks
			if r.ExtendedInfo == access.Created || r.ExtendedInfo == access.Updated {
				got = append(got, r.ExtendedInfo)
			}
		}
	case "delusers":
		want = m.deleteUsers(op.ids)
		rs, err = s.DeleteUsers(ctx, op.ids)
		got = infos(rs)
	case "idents":
		want = m.upsertIdents(op.ids, op.idents, op.left)
		batch := make([]access.Identifier, len(op.ids))
		for i, id := range op.ids {
			in := op.idents[i]
			x := access.Identifier{LinkID: id, Type: access.Card, Number: in.number, Lock: in.lock}
			x.Valid.Time.IsPermanent, x.Valid.Time.From, x.Valid.Time.To = validityWindow(in.validity)
			x.Valid.Passes.IsPermanent, x.Valid.Passes.MaxPasses = !in.limited, in.max
			x.TimeProfiles.LinkIDs, x.Additional.PassesLeft = in.profiles, op.left[i]
			batch[i] = x
		}
		rs, err = s.UpsertIdentifiers(ctx, batch)
		for _, r := range rs {
			if r.ExtendedInfo != access.BoundTimeProfileDoesntExist {
				got = append(got, r.ExtendedInfo)
			}
		}
	case "delidents":
		want = m.deleteIdents(op.ids)
		rs, err = s.DeleteIdentifiers(ctx, op.ids)
		got = infos(rs)
	case "profiles":
		batch := make([]access.TimeProfile, len(op.ids))
		for i, id := range op.ids {
			m.profiles[id] = op.kinds[i]
			if err := json.Unmarshal([]byte(profileJSON(op.kinds[i])), &batch[i].Profile); err != nil {
				return "", err
			}
			batch[i].LinkID = id
		}
		_, err = s.UpsertTimeProfiles(ctx, batch)
	case "delprofiles":
		for _, id := range op.ids {
			delete(m.profiles, id)
		}
		_, err = s.DeleteTimeProfiles(ctx, op.ids)
	case "decide", "check":
		want := m.decide(op.number, op.door, op.at, op.kind == "decide")
		f := s.Decide
		if op.kind == "check" {
			f = s.Check
		}
		got, err := f(ctx, access.Request{Type: access.Card, Number: op.number, Lock: op.door, At: op.at})
		if err != nil {
			return "", err
		}
		if got != want {
			return fmt.Sprintf("%s: got %+v, the model says %+v", op, got, want), nil
		}
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !slices.Equal(got, want) {
		return fmt.Sprintf("%s: results %v, the model says %v", op, got, want), nil
	}
	return "", nil
}

func infos(rs []access.Result) []access.ExtendedInfo {
	out := make([]access.ExtendedInfo, len(rs))
	for i, r := range rs {
		out[i] = r.ExtendedInfo
	}
	return out
}

// modelStore opens a fresh store of a kind for one run.
func modelStore(t *testing.T, kind string) store.Store {
	t.Helper()
	switch kind {
	case "memory":
		return memory.New()
	case "decrement":
		return &decrementingStore{memory.New()}
	}
	dir, err := os.MkdirTemp(t.TempDir(), "model")
	require.NoError(t, err)
	st, err := file.Open(filepath.Join(dir, "lintel.db"), nil)
	require.NoError(t, err)
	return st
}

// runOps runs ops from an empty store with two Services on it, and returns
// the first disagreement and its step.
func runOps(t *testing.T, kind string, ops []modelOp) (string, int) {
	ctx := context.Background()
	st := modelStore(t, kind)
	defer st.Close()
	var svcs []*access.Service
	for range 2 {
		s, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
		require.NoError(t, err)
		svcs = append(svcs, s)
	}
	m := newRefModel()
	for i, op := range ops {
		msg, err := apply(ctx, m, svcs[op.service], op)
		require.NoError(t, err, "step %d: %s", i, op)
		if msg != "" {
			return msg, i
		}
	}
	return "", -1
}

// shrink removes operations while the sequence still fails, until no
// single removal keeps it failing.
func shrink(t *testing.T, kind string, ops []modelOp) []modelOp {
	for changed := true; changed; {
		changed = false
		for i := len(ops) - 1; i >= 0; i-- {
			shorter := slices.Delete(slices.Clone(ops), i, i+1)
			if msg, _ := runOps(t, kind, shorter); msg != "" {
				ops, changed = shorter, true
			}
		}
	}
	return ops
}

func TestDecisionModel(t *testing.T) {
	runs := map[string]int{"memory": 2000, "decrement": 1000, "file": 150}
	if testing.Short() {
		runs = map[string]int{"memory": 200, "decrement": 100, "file": 20}
	}
	if n, err := strconv.Atoi(os.Getenv("LINTEL_MODEL_RUNS")); err == nil {
		runs = map[string]int{"memory": n, "decrement": n / 2, "file": n / 10}
	}
	for _, kind := range []string{"memory", "decrement", "file"} {
		t.Run(kind, func(t *testing.T) {
			for seed := range uint64(runs[kind]) {
				g := newOpGen(rand.New(rand.NewPCG(seed, 11)), 0, 2)
				ops := make([]modelOp, 40)
				for i := range ops {
					ops[i] = g.next()
				}
				msg, step := runOps(t, kind, ops)
				if msg == "" {
					continue
				}
				ops = shrink(t, kind, ops[:step+1])
				lines := make([]string, len(ops))
				for i, op := range ops {
					lines[i] = fmt.Sprintf("  %2d %s", i, op)
				}
				msg, _ = runOps(t, kind, ops)
				t.Fatalf("seed %d: %s\nshortest failing sequence:\n%s", seed, msg, strings.Join(lines, "\n"))
			}
		})
	}
}

// Workers run random sequences at once on one store through two Services,
// each on link_ids and numbers of its own, so that each worker's model is
// exact while the store, its generation counter and the decision caches
// are shared and contended.
func TestDecisionModelConcurrent(t *testing.T) {
	const workers, steps = 4, 300
	for _, kind := range []string{"memory", "decrement", "file"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			st := modelStore(t, kind)
			defer st.Close()
			var svcs []*access.Service
			for range 2 {
				s, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
				require.NoError(t, err)
				svcs = append(svcs, s)
			}
			var wg sync.WaitGroup
			errs := make(chan string, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					g, m := newOpGen(rand.New(rand.NewPCG(uint64(w), 7)), w+1, 2), newRefModel()
					for i := range steps {
						op := g.next()
						msg, err := apply(ctx, m, svcs[op.service], op)
						if err != nil {
							msg = fmt.Sprintf("%s: %v", op, err)
						}
						if msg != "" {
							errs <- fmt.Sprintf("worker %d step %d: %s", w, i, msg)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for msg := range errs {
				t.Error(msg)
			}
		})
	}
}

// decrementingStore is a memory store with store.Decrementer, written
// plainly as the one Update its doc describes, so that the decision's
// one-step pass path (as on PostgreSQL) runs under the model too.
type decrementingStore struct{ *memory.Store }

func (d *decrementingStore) DecrementIf(ctx context.Context, guardBucket, guardKey []byte, guard uint64, bucket, key []byte) (uint64, error) {
	var before uint64
	err := d.Update(ctx, func(tx store.Tx) error {
		g, err := store.GetUint64(tx, guardBucket, guardKey)
		if err != nil {
			return err
		}
		if g != guard {
			return store.ErrGuardChanged
		}
		v, err := tx.Get(bucket, key)
		if err != nil {
			return err
		}
		if len(v) != 4 {
			return store.ErrBadValue
		}
		before = uint64(binary.BigEndian.Uint32(v))
		if before == 0 {
			return nil
		}
		return tx.Put(bucket, key, binary.BigEndian.AppendUint32(nil, uint32(before-1)))
	})
	return before, err
}

// On a store with store.Decrementer, a warm limited-pass decision takes
// its pass in one step, and concurrent decisions still grant exactly the
// passes there are.
func TestOneStepPassesGrantExactly(t *testing.T) {
	ctx := context.Background()
	st, s, _, r := warmLimited(t, 10)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := s.Decide(ctx, r)
			if err == nil && d.Allow {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(10), granted.Load())
	require.Positive(t, st.calls.Load(), "the one-step path ran")
	got, err := s.GetIdentifier(ctx, cardA)
	require.NoError(t, err)
	require.Equal(t, 0, *got.Additional.PassesLeft)
}

// warmLimited makes a Service on a counting store with cardA, of the given
// passes, in its cache, and the request that shows it.
func warmLimited(t *testing.T, passes int) (*countingDecrementer, *access.Service, access.Identifier, access.Request) {
	t.Helper()
	ctx := context.Background()
	st := &countingDecrementer{decrementingStore: decrementingStore{memory.New()}}
	s, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	limited := card(cardA, "4242")
	limited.Valid.Passes.IsPermanent, limited.Valid.Passes.MaxPasses = false, passes
	_, err = s.UpsertIdentifiers(ctx, []access.Identifier{limited})
	require.NoError(t, err)
	r := access.Request{Type: access.Card, Number: "4242", Lock: access.FirstDoor, At: morning}
	_, err = s.Check(ctx, r) // warm the cache
	require.NoError(t, err)
	return st, s, limited, r
}

// A warm limited-pass grant is one step: the guarded decrement and no
// read of the generation before it. A change made through another Service
// fails the guard, and the decision that follows sees the change and
// takes nothing.
func TestWarmLimitedGrantIsOneStep(t *testing.T) {
	ctx := context.Background()
	st, a, limited, r := warmLimited(t, 5)
	b, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)

	reads, calls := st.reads.Load(), st.calls.Load()
	d, err := a.Decide(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, access.Decision{Allow: true, Reason: access.Granted, IdentifierLinkID: cardA, PassesLeft: 4}, d)
	assert.Equal(t, reads, st.reads.Load(), "no read of the generation")
	assert.Equal(t, calls+1, st.calls.Load(), "one guarded decrement")

	expired := limited
	expired.Valid.Time.IsPermanent, expired.Valid.Time.From, expired.Valid.Time.To = false, morning.Add(-48*time.Hour).Unix(), morning.Add(-time.Hour).Unix()
	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{expired})
	require.NoError(t, err)
	reads = st.reads.Load()
	d, err = a.Decide(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, access.Expired, d.Reason, "a's stale cache failed the guard")
	assert.Equal(t, reads, st.reads.Load(), "a failed guard goes to the transaction, not to a read")
	got, err := b.GetIdentifier(ctx, cardA)
	require.NoError(t, err)
	assert.Equal(t, 4, *got.Additional.PassesLeft, "the denied decision took no pass")
}

// A number no identifier has is cached as unknown for its generation: shown
// again, it costs a read of the generation and no transaction, and is
// answered as the first time. A card added through another Service is
// granted on its very next showing. Numbers longer than 64 bytes, and
// those past the 10,000th of a generation, are not cached.
func TestUnknownNumbersAreCached(t *testing.T) {
	ctx := context.Background()
	st := &countingDecrementer{decrementingStore: decrementingStore{memory.New()}}
	a, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	b, err := access.New(ctx, st, access.WithFaceChecker(fakeFaces{}))
	require.NoError(t, err)
	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{card("00000000-0000-4000-8000-00000000000b", "1000")}) // a generation above zero
	require.NoError(t, err)
	unknown := access.Decision{Reason: access.UnknownCredential, PassesLeft: -1}
	decide := func(number string) (access.Decision, int32) {
		t.Helper()
		views := st.views.Load()
		d, err := a.Decide(ctx, access.Request{Type: access.Card, Number: number, Lock: access.FirstDoor, At: morning})
		require.NoError(t, err)
		return d, st.views.Load() - views
	}

	d, views := decide("4242")
	assert.Equal(t, unknown, d)
	assert.Equal(t, int32(1), views, "the first showing looks it up")
	d, views = decide("4242")
	assert.Equal(t, unknown, d)
	assert.Zero(t, views, "the second is answered from the cache")

	_, err = b.UpsertIdentifiers(ctx, []access.Identifier{card(cardA, "4242")})
	require.NoError(t, err)
	d, _ = decide("4242")
	assert.Equal(t, access.Granted, d.Reason, "a card added through b is granted at once")

	long := strings.Repeat("7", 65)
	for range 2 {
		d, views = decide(long)
		assert.Equal(t, unknown, d)
		assert.Equal(t, int32(1), views, "a long number is not cached")
	}

	for i := range 10_000 {
		decide(fmt.Sprintf("9%06d", i)) // fills the generation's unknowns
	}
	for range 2 {
		_, views = decide("8000001")
		assert.Equal(t, int32(1), views, "past 10,000 unknowns, none is cached")
	}
	_, views = decide("9000000")
	assert.Zero(t, views, "those cached stay")
}

type countingDecrementer struct {
	decrementingStore
	calls atomic.Int32
	reads atomic.Int32
	views atomic.Int32
}

func (c *countingDecrementer) View(ctx context.Context, fn func(store.Tx) error) error {
	c.views.Add(1)
	return c.decrementingStore.View(ctx, fn)
}

func (c *countingDecrementer) ReadCounter(ctx context.Context, bucket, key []byte) (uint64, error) {
	c.reads.Add(1)
	return c.decrementingStore.ReadCounter(ctx, bucket, key)
}

func (c *countingDecrementer) DecrementIf(ctx context.Context, gb, gk []byte, g uint64, b, k []byte) (uint64, error) {
	c.calls.Add(1)
	return c.decrementingStore.DecrementIf(ctx, gb, gk, g, b, k)
}
