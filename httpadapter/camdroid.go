package httpadapter

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/httpadapter/internal/listquery"
)

// BAS-IP's Camdroid/Linux panels (AV-03BD, AV-04SD, ...; API 1.3.5) speak
// another path family for the same link batches as the Android panels:
//
//	POST   /api/v1/access/identifier/items/link   {"list_items":[...]}
//	DELETE /api/v1/access/identifier/items/link   {"link_ids":[...]}
//	GET    /api/v1/access/identifier/items/link?limit&page_number[&order_by][&filter][&link_id]
//
// and the same three for apartments (/api/v1/apartment/items/link) and
// time profiles (/api/v1/access/timeprofile/items/link). POST and DELETE
// are the Android routes' batches (one implementation: the same items,
// results, codes and messages). GET answers a page:
//
//	{"list_items":[...],"list_option":{"pagination":{"total_items","items_limit",
//	 "total_pages","current_page"},"filter":{"available_filtering":true,
//	 "is_filtered","available_fields":[{"field_name","data_type"}]},
//	 "sort":{"is_sorted","order","available_fields":[...]}}}
//
// limit is 1..50 (the vendor lists 10, 20, 30 and 50; the one public
// client asks for 1), default 10; page_number counts from 1; filter and
// order_by take the vendor's syntax (package listquery) over the fields
// each list names in available_fields; link_id=X, ours, is the filter
// link_id eq 'X' and reads one entity instead of the list. Items are in
// link_id order unless order_by says otherwise. Identifiers carry their
// uid, the number a panel gives them.

// maxPageScan bounds the entities a filtered or sorted page reads.
const maxPageScan = 200_000

// itemsLink is one entity's GET route of the Camdroid family.
type itemsLink[T any] struct {
	list   func(context.Context, access.Page) ([]T, string, error)
	get    func(context.Context, string) (T, error)
	fields listquery.Fields
	field  func(*T, string) (listquery.Value, bool)
}

func (p *panelAPI) camdroidRoutes() []route {
	svc := p.svc
	var rs []route
	add := func(path string, upsert, del, get handlerFunc) {
		rs = append(rs,
			route{http.MethodPost, path, Admin, upsert},
			route{http.MethodDelete, path, Admin, del},
			route{http.MethodGet, path, Manager, get})
	}
	add("/api/v1/access/identifier/items/link", batch(p, "list_items", svc.UpsertIdentifiers), batch(p, "link_ids", svc.DeleteIdentifiers),
		itemsLink[access.Identifier]{svc.ListIdentifiers, identifierAsListed(svc), identifierFields, identifierField}.page)
	add("/api/v1/apartment/items/link", batch(p, "list_items", svc.UpsertApartments), batch(p, "link_ids", svc.DeleteApartments),
		itemsLink[access.Apartment]{svc.ListApartments, svc.GetApartment, apartmentFields, apartmentField}.page)
	add("/api/v1/access/timeprofile/items/link", batch(p, "list_items", svc.UpsertTimeProfiles), batch(p, "link_ids", svc.DeleteTimeProfiles),
		itemsLink[access.TimeProfile]{svc.ListTimeProfiles, svc.GetTimeProfile, timeProfileFields, timeProfileField}.page)
	return rs
}

// identifierAsListed is GetIdentifier in the shape of ListIdentifiers (no
// face photo, no passes_left), so that a page shows an identifier alike
// whether link_id found it or the scan did.
func identifierAsListed(svc *access.Service) func(context.Context, string) (access.Identifier, error) {
	return func(ctx context.Context, linkID string) (access.Identifier, error) {
		id, err := svc.GetIdentifier(ctx, linkID)
		if id.Type == access.FaceID {
			id.Number = ""
		}
		id.Additional.PassesLeft = nil
		return id, err
	}
}

var (
	identifierFields = listquery.Fields{"uid": listquery.Integer, "link_id": listquery.String, "apartment_link_id": listquery.String,
		"identifier_type": listquery.String, "identifier_number": listquery.String, "lock": listquery.String,
		"name": listquery.String, "owner_type": listquery.String, "valid_from": listquery.Timestamp, "valid_to": listquery.Timestamp}
	apartmentFields = listquery.Fields{"link_id": listquery.String, "apartment_name": listquery.String, "residents": listquery.Integer,
		"building": listquery.Integer, "unit": listquery.Integer, "floor": listquery.Integer, "room": listquery.Integer}
	timeProfileFields = listquery.Fields{"link_id": listquery.String, "name": listquery.String}
)

func identifierField(id *access.Identifier, name string) (listquery.Value, bool) {
	switch name {
	case "uid":
		return listquery.IntValue(id.UID), true
	case "link_id":
		return listquery.StringValue(id.LinkID), true
	case "apartment_link_id":
		return listquery.StringValue(id.ApartmentLinkID), id.ApartmentLinkID != ""
	case "identifier_type":
		return listquery.StringValue(string(id.Type)), true
	case "identifier_number":
		return listquery.StringValue(id.Number), true
	case "lock":
		return listquery.StringValue(string(id.Lock)), id.Lock != ""
	case "name":
		return listquery.StringValue(id.Owner.Name), true
	case "owner_type":
		return listquery.StringValue(id.Owner.Type), id.Owner.Type != ""
	case "valid_from":
		return listquery.IntValue(id.Valid.Time.From), !id.Valid.Time.IsPermanent
	case "valid_to":
		return listquery.IntValue(id.Valid.Time.To), !id.Valid.Time.IsPermanent
	}
	return listquery.Value{}, false
}

func apartmentField(a *access.Apartment, name string) (listquery.Value, bool) {
	switch name {
	case "link_id":
		return listquery.StringValue(a.LinkID), true
	case "apartment_name":
		return listquery.StringValue(a.Name), true
	case "residents":
		return listquery.IntValue(int64(a.Residents.Count)), true
	case "building":
		return listquery.IntValue(int64(a.Address.Building)), true
	case "unit":
		return listquery.IntValue(int64(a.Address.Unit)), true
	case "floor":
		return listquery.IntValue(int64(a.Address.Floor)), true
	case "room":
		return listquery.IntValue(int64(a.Address.Room)), true
	}
	return listquery.Value{}, false
}

func timeProfileField(tp *access.TimeProfile, name string) (listquery.Value, bool) {
	switch name {
	case "link_id":
		return listquery.StringValue(tp.LinkID), true
	case "name":
		return listquery.StringValue(tp.Name), true
	}
	return listquery.Value{}, false
}

// record is an entity as listquery sees it.
type record[T any] struct {
	v     *T
	field func(*T, string) (listquery.Value, bool)
}

func (r *record[T]) Field(name string) (listquery.Value, bool) { return r.field(r.v, name) }

// page answers GET .../items/link.
func (il itemsLink[T]) page(w http.ResponseWriter, r *http.Request, _ *call) error {
	q := r.URL.Query()
	num := func(name string, def, lo, hi int) (int, error) {
		s := q.Get(name)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, &panelError{http.StatusBadRequest, Message("Wrong " + name)}
		}
		return n, nil
	}
	limit, err := num("limit", 10, 1, 50)
	if err != nil {
		return err
	}
	pageNo, err := num("page_number", 1, 1, maxPageScan)
	if err != nil {
		return err
	}
	filter, err := listquery.ParseFilter(q.Get("filter"), il.fields)
	if err != nil {
		return &panelError{http.StatusBadRequest, MsgWrongFilter}
	}
	names := slices.Sorted(maps.Keys(il.fields))
	order, err := listquery.ParseOrder(q.Get("order_by"), names)
	if err != nil {
		return &panelError{http.StatusBadRequest, MsgWrongOrderBy}
	}
	linkID, one := q.Get("link_id"), q.Has("link_id")
	if !one {
		linkID, one = filter.Equals("link_id")
	}
	var items []T
	if one {
		v, err := il.get(r.Context(), linkID)
		switch {
		case errors.Is(err, access.ErrNotFound):
		case err != nil:
			return err
		case filter.Match(&record[T]{&v, il.field}):
			items = append(items, v)
		}
	} else if items, err = il.scan(r.Context(), filter); err != nil {
		return err
	}
	switch {
	case len(order.Keys) > 0:
		items = il.sorted(items, order)
	case order.Desc: // "desc" alone: link_id order, backwards
		slices.Reverse(items)
	}
	total := len(items)
	start := min((pageNo-1)*limit, total)
	end := min(start+limit, total)
	available := make([]map[string]string, 0, len(names))
	for _, n := range names {
		available = append(available, map[string]string{"field_name": n, "data_type": il.fields[n].String()})
	}
	sortOrder := "asc"
	if order.Desc {
		sortOrder = "desc"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"list_items": append([]T{}, items[start:end]...),
		"list_option": map[string]any{
			"pagination": map[string]int{"total_items": total, "items_limit": limit,
				"total_pages": (total + limit - 1) / limit, "current_page": pageNo},
			"filter": map[string]any{"available_filtering": true, "is_filtered": q.Get("filter") != "" || q.Has("link_id"),
				"available_fields": available},
			"sort": map[string]any{"is_sorted": len(order.Keys) > 0 || order.Desc, "order": sortOrder, "available_fields": names},
		},
	})
	return nil
}

// sorted returns items in order, stably. It sorts pointers to records made
// once, so that a comparison neither copies an entity nor allocates.
func (il itemsLink[T]) sorted(items []T, order listquery.Order) []T {
	recs := make([]record[T], len(items))
	byOrder := make([]*record[T], len(items))
	for i := range items {
		recs[i] = record[T]{&items[i], il.field}
		byOrder[i] = &recs[i]
	}
	slices.SortStableFunc(byOrder, func(a, b *record[T]) int { return order.Compare(a, b) })
	out := make([]T, len(items))
	for i, r := range byOrder {
		out[i] = *r.v
	}
	return out
}

// scan reads the entities that match filter, in link_id order, at most
// maxPageScan.
func (il itemsLink[T]) scan(ctx context.Context, filter *listquery.Filter) ([]T, error) {
	var items []T
	after := ""
	for scanned := 0; scanned < maxPageScan; {
		batch, next, err := il.list(ctx, access.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		rec := &record[T]{field: il.field}
		for i := range batch {
			if rec.v = &batch[i]; filter.Match(rec) {
				items = append(items, batch[i])
			}
		}
		scanned += len(batch)
		if next == "" || len(batch) == 0 {
			break
		}
		after = next
	}
	return items, nil
}
