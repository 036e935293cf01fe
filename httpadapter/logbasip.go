package httpadapter

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/lintelhq/lintel/httpadapter/internal/listquery"
	"github.com/lintelhq/lintel/journal"
)

// BAS-IP's log: GET /api/v1/log/items?from&to&limit&page_number&order_by&filter,
// pages of the journal with the panel's event names (see basipEvent).
//
// from and to are Unix seconds (to excluded); limit is 1..100 (default 10);
// page_number counts from 1; order_by is "asc" or "desc" by time (default
// desc, newest first, as a panel shows its log); filter is "field op value"
// clauses joined with and / or, negated with not and grouped with
// parentheses (package listquery: not binds tightest, then and, then or;
// values 'quoted', "quoted" or bare), with ops eq nq gt lt ge le over the
// fields id, date, name, lock_number, identifier_link_id, user_link_id,
// identifier_type, source and reason. The answer is
// {"list_items":[{"id","date","name","info":{...}}],"list_option":{"pagination":
// {"current_page","items_on_page","total_items","total_pages"}}}; the shape is
// ours where BAS-IP's documents are silent.

// MsgWrongFilter and MsgWrongOrderBy answer a list's filter or order_by
// that does not parse.
const (
	MsgWrongFilter  Message = "Wrong filter"
	MsgWrongOrderBy Message = "Wrong order_by"
)

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

func (p *panelAPI) logItems(w http.ResponseWriter, r *http.Request, _ *call) error {
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
		return &panelError{http.StatusBadRequest, MsgWrongOrderBy}
	}
	filter, err := listquery.ParseFilter(q.Get("filter"), logFields)
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
			if filter.Match(&it) {
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

// logFields are the fields a log filter may name.
var logFields = listquery.Fields{"id": listquery.Integer, "date": listquery.Timestamp, "name": listquery.String,
	"lock_number": listquery.Integer, "identifier_link_id": listquery.String, "user_link_id": listquery.String,
	"identifier_type": listquery.String, "source": listquery.String, "reason": listquery.String}

// Field is a log item as a filter sees it.
func (it *basipLogItem) Field(name string) (listquery.Value, bool) {
	switch name {
	case "id":
		return listquery.IntValue(int64(it.ID)), true
	case "date":
		return listquery.IntValue(it.Date), true
	case "name":
		return listquery.StringValue(it.Name), true
	case "lock_number":
		n, ok := it.Info["lock_number"].(int)
		return listquery.IntValue(int64(n)), ok
	}
	s, ok := it.Info[name].(string)
	return listquery.StringValue(s), ok
}
