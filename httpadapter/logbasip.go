package httpadapter

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lintelhq/lintel/journal"
)

// BAS-IP's log: GET /api/v1/log/items?from&to&limit&page_number&order_by&filter,
// pages of the journal with the panel's event names (see basipEvent).
//
// from and to are Unix seconds (to excluded); limit is 1..100 (default 10);
// page_number counts from 1; order_by is "asc" or "desc" by time (default
// desc, newest first, as a panel shows its log); filter is "field op value"
// clauses joined with and / or and negated with not (not binds tightest,
// then and, then or), with ops eq nq gt lt ge le over the fields id, date,
// name, lock, identifier_link_id, user_link_id and source. The answer is
// {"list_items":[{"id","date","name","info":{...}}],"list_option":{"pagination":
// {"current_page","items_on_page","total_items","total_pages"}}}; the shape is
// ours where BAS-IP's documents are silent.

// MsgWrongFilter answers a log filter that does not parse.
const MsgWrongFilter Message = "Wrong filter"

// maxLogScan bounds the events one log request reads: the journal keeps
// 10,000 by default, and a larger one is paged by from/to.
const maxLogScan = 100_000

type basipLogItem struct {
	ID   uint64         `json:"id"`
	Date int64          `json:"date"`
	Name string         `json:"name"`
	Info map[string]any `json:"info"`
}

func basipInfo(ev *journal.Event) map[string]any {
	info := map[string]any{}
	set := func(k string, v any, present bool) {
		if present {
			info[k] = v
		}
	}
	set("identifier_type", ev.CredentialType, ev.CredentialType != "")
	set("identifier_number", ev.Number, ev.Number != "")
	set("identifier_link_id", ev.IdentifierLinkID, ev.IdentifierLinkID != "")
	set("user_link_id", ev.UserLinkID, ev.UserLinkID != "")
	set("user_name", ev.UserName, ev.UserName != "")
	set("lock_number", ev.Lock, ev.Lock != 0)
	set("reason", ev.Reason, ev.Reason != "")
	set("entity", ev.Entity, ev.Entity != "")
	set("source", ev.Source, ev.Source != "")
	if len(ev.Items) > 0 {
		info["items"] = ev.Items
	}
	return info
}

func (p *panel) logItems(w http.ResponseWriter, r *http.Request, _ *call) error {
	q := r.URL.Query()
	var bad error
	intParam := func(name string, def, lo, hi int64) int64 {
		s := q.Get(name)
		if s == "" {
			return def
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < lo || n > hi {
			bad = cmp.Or(bad, error(&panelError{http.StatusBadRequest, Message("Wrong " + name)}))
		}
		return n
	}
	from := intParam("from", 0, 0, 1<<40)
	to := intParam("to", 0, 0, 1<<40)
	limit := intParam("limit", 10, 1, 100)
	page := intParam("page_number", 1, 1, 1<<31)
	if bad != nil {
		return bad
	}
	order := q.Get("order_by")
	if order != "" && order != "asc" && order != "desc" {
		return &panelError{http.StatusBadRequest, "Wrong order_by"}
	}
	match, err := parseLogFilter(q.Get("filter"))
	if err != nil {
		return &panelError{http.StatusBadRequest, MsgWrongFilter}
	}
	f := journal.Filter{}
	if from > 0 {
		f.Since = time.Unix(from, 0)
	}
	if to > 0 {
		f.Until = time.Unix(to, 0)
	}
	var items []basipLogItem
	var after uint64
	for scanned := 0; scanned < maxLogScan; {
		evs, err := p.cfg.Journal.Events(r.Context(), after, f, journal.MaxPage)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for i := range evs {
			it := basipLogItem{ID: evs[i].ID, Date: evs[i].Time.Unix(), Name: basipEvent(&evs[i]), Info: basipInfo(&evs[i])}
			if match(&it) {
				items = append(items, it)
			}
		}
		after = evs[len(evs)-1].ID
		scanned += len(evs)
	}
	total := int64(len(items))
	if order != "asc" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	start := min((page-1)*limit, total)
	end := min(start+limit, total)
	writeJSON(w, http.StatusOK, map[string]any{
		"list_items": append([]basipLogItem{}, items[start:end]...),
		"list_option": map[string]any{"pagination": map[string]int64{
			"current_page": page, "items_on_page": limit, "total_items": total, "total_pages": (total + limit - 1) / limit}},
	})
	return nil
}

var errFilter = errors.New("httpadapter: bad log filter")

// parseLogFilter parses "field op value" clauses joined with and/or and
// negated with not. Values may be quoted with double quotes.
func parseLogFilter(s string) (func(*basipLogItem) bool, error) {
	toks, err := filterTokens(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return func(*basipLogItem) bool { return true }, nil
	}
	if len(toks) > 64 {
		return nil, errFilter
	}
	p := &filterParser{toks: toks}
	m, err := p.or()
	if err != nil || p.pos != len(toks) {
		return nil, errFilter
	}
	return m, nil
}

func filterTokens(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errFilter
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		default:
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			toks = append(toks, s[i:i+j])
			i += j
		}
	}
	return toks, nil
}

type filterParser struct {
	toks []string
	pos  int
}

func (p *filterParser) peek(word string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], word)
}

func (p *filterParser) or() (func(*basipLogItem) bool, error) {
	l, err := p.and()
	for err == nil && p.peek("or") {
		p.pos++
		var r func(*basipLogItem) bool
		if r, err = p.and(); err == nil {
			a, b := l, r
			l = func(it *basipLogItem) bool { return a(it) || b(it) }
		}
	}
	return l, err
}

func (p *filterParser) and() (func(*basipLogItem) bool, error) {
	l, err := p.not()
	for err == nil && p.peek("and") {
		p.pos++
		var r func(*basipLogItem) bool
		if r, err = p.not(); err == nil {
			a, b := l, r
			l = func(it *basipLogItem) bool { return a(it) && b(it) }
		}
	}
	return l, err
}

func (p *filterParser) not() (func(*basipLogItem) bool, error) {
	if p.peek("not") {
		p.pos++
		m, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(it *basipLogItem) bool { return !m(it) }, nil
	}
	return p.clause()
}

func (p *filterParser) clause() (func(*basipLogItem) bool, error) {
	if p.pos+3 > len(p.toks) {
		return nil, errFilter
	}
	field, op, value := p.toks[p.pos], strings.ToLower(p.toks[p.pos+1]), strings.Trim(p.toks[p.pos+2], `"`)
	p.pos += 3
	var cmp func(int) bool
	switch op {
	case "eq":
		cmp = func(c int) bool { return c == 0 }
	case "nq":
		cmp = func(c int) bool { return c != 0 }
	case "gt":
		cmp = func(c int) bool { return c > 0 }
	case "lt":
		cmp = func(c int) bool { return c < 0 }
	case "ge":
		cmp = func(c int) bool { return c >= 0 }
	case "le":
		cmp = func(c int) bool { return c <= 0 }
	default:
		return nil, errFilter
	}
	switch field {
	case "id", "date", "lock_number":
		want, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, errFilter
		}
		return func(it *basipLogItem) bool {
			var got int64
			switch field {
			case "id":
				got = int64(it.ID)
			case "date":
				got = it.Date
			default:
				n, _ := it.Info["lock_number"].(int)
				got = int64(n)
			}
			return cmp(compareInt(got, want))
		}, nil
	case "name", "identifier_link_id", "user_link_id", "identifier_type", "source", "reason":
		return func(it *basipLogItem) bool {
			got := it.Name
			if field != "name" {
				got, _ = it.Info[field].(string)
			}
			return cmp(strings.Compare(got, value))
		}, nil
	}
	return nil, errFilter
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
