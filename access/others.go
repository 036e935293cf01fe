package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/timeprofile"
)

// UpsertTimeProfiles creates or updates time profiles by link_id. A link_id
// that is not a UUID (timeprofile.ErrWrongUID, "Wrong Time Profile Uid") or
// a profile that breaks a rule (timeprofile's messages, "Wrong repeat_type"
// ...) rejects the whole batch with an *ItemError whose message is the
// vendor's; otherwise each profile is created or updated.
func (s *Service) UpsertTimeProfiles(ctx context.Context, profiles []TimeProfile) ([]Result, error) {
	if err := s.checkBatch(len(profiles)); err != nil {
		return nil, err
	}
	for i, p := range profiles {
		if err := timeprofile.CheckUID(p.LinkID); err != nil {
			return nil, &ItemError{Index: i, Err: err}
		}
		if _, err := timeprofile.Compile(p.Profile, s.cfg.loc); err != nil {
			return nil, &ItemError{Index: i, Err: err}
		}
	}
	return s.upsertPlain(ctx, "timeprofiles", bucketTimeProfiles, len(profiles), func(i int) (string, any) { return profiles[i].LinkID, profiles[i] })
}

// upsertPlain writes entities that have no indexes: created or updated.
func (s *Service) upsertPlain(ctx context.Context, entity string, bucket []byte, n int, item func(i int) (string, any)) ([]Result, error) {
	return s.commit(ctx, entity, "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, n)
		for i := range n {
			id, v := item(i)
			found, err := exists(tx, bucket, id)
			if err != nil {
				return nil, err
			}
			if err := putJSON(tx, bucket, id, v); err != nil {
				return nil, err
			}
			info := Created
			if found {
				info = Updated
			}
			results = append(results, Result{LinkID: id, Success: true, ExtendedInfo: info})
		}
		return results, nil
	})
}

// DeleteTimeProfiles deletes time profiles by link_id. Identifiers and
// users bound to a deleted profile keep the reference and are denied until
// a profile with that link_id exists again (fail closed).
func (s *Service) DeleteTimeProfiles(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "timeprofiles", bucketTimeProfiles, linkIDs, nil)
}

// GetTimeProfile returns the time profile with linkID, or ErrNotFound.
func (s *Service) GetTimeProfile(ctx context.Context, linkID string) (TimeProfile, error) {
	return get[TimeProfile](ctx, s, bucketTimeProfiles, linkID)
}

// ListTimeProfiles returns a page of time profiles in link_id order.
func (s *Service) ListTimeProfiles(ctx context.Context, p Page) ([]TimeProfile, string, error) {
	return list[TimeProfile](ctx, s, bucketTimeProfiles, p)
}

var apartmentName = regexp.MustCompile(`^\S(.*\S)?$`)

func (a Address) valid() bool {
	return a.Building >= 1 && a.Building <= 9999 && a.Unit >= 0 && a.Unit <= 99 &&
		a.Floor >= 0 && a.Floor <= 98 && a.Room >= 0 && a.Room <= 99
}

func (a Address) key() []byte {
	return fmt.Appendf(nil, "%04d-%02d-%02d-%02d", a.Building, a.Unit, a.Floor, a.Room)
}

// UpsertApartments creates or updates apartments by link_id. An address
// out of range (ErrWrongLogicalAddress), a name with leading or trailing
// space, or an address that another apartment has (ErrAddressTaken)
// rejects the whole batch; nothing is written.
func (s *Service) UpsertApartments(ctx context.Context, apartments []Apartment) ([]Result, error) {
	if err := s.checkBatch(len(apartments)); err != nil {
		return nil, err
	}
	for i := range apartments {
		a := &apartments[i]
		if err := validateItem(s.validate, i, a); err != nil {
			return nil, err
		}
		if !a.Address.valid() {
			return nil, &ItemError{Index: i, Err: ErrWrongLogicalAddress}
		}
		if a.Name != "" && !apartmentName.MatchString(a.Name) {
			return nil, WrongType(fmt.Sprintf("list_items[%d].apartment_name", i))
		}
	}
	return s.commit(ctx, "apartments", "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(apartments))
		for i, a := range apartments {
			old, found, err := getJSON[Apartment](tx, bucketApartments, a.LinkID)
			if err != nil {
				return nil, err
			}
			holder, err := tx.Get(bucketAddresses, a.Address.key())
			switch {
			case err == nil && string(holder) != a.LinkID:
				return nil, &ItemError{Index: i, Err: ErrAddressTaken} // rolls the batch back
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			if found {
				if err := tx.Delete(bucketAddresses, old.Address.key()); err != nil {
					return nil, err
				}
			}
			if err := tx.Put(bucketAddresses, a.Address.key(), []byte(a.LinkID)); err != nil {
				return nil, err
			}
			if err := putJSON(tx, bucketApartments, a.LinkID, a); err != nil {
				return nil, err
			}
			info := Created
			if found {
				info = Updated
			}
			results = append(results, Result{LinkID: a.LinkID, Success: true, ExtendedInfo: info})
		}
		return results, nil
	})
}

// DeleteApartments deletes apartments by link_id. Users and identifiers
// bound to one keep the reference, which changes no decision.
func (s *Service) DeleteApartments(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "apartments", bucketApartments, linkIDs, func() deleteHooks {
		return deleteHooks{each: func(tx store.Tx, id string, stored []byte) error {
			a, err := decodeRecord[Apartment](bucketApartments, []byte(id), stored)
			if err != nil {
				return err
			}
			return tx.Delete(bucketAddresses, a.Address.key())
		}}
	})
}

// GetApartment returns the apartment with linkID, or ErrNotFound.
func (s *Service) GetApartment(ctx context.Context, linkID string) (Apartment, error) {
	return get[Apartment](ctx, s, bucketApartments, linkID)
}

// ListApartments returns a page of apartments in link_id order.
func (s *Service) ListApartments(ctx context.Context, p Page) ([]Apartment, string, error) {
	return list[Apartment](ctx, s, bucketApartments, p)
}

// UpsertLiftRules creates or updates KONE lift rules by link_id. The
// vendor's codes for a bad rule are our reading of their names: wrong_areas
// for an empty area list, a negative area or one listed twice; wrong_rule
// for a rule without a name. Such an item fails alone (success false).
func (s *Service) UpsertLiftRules(ctx context.Context, rules []LiftRule) ([]Result, error) {
	if err := s.checkBatch(len(rules)); err != nil {
		return nil, err
	}
	for i := range rules {
		if err := validateItem(s.validate, i, &rules[i]); err != nil {
			return nil, err
		}
	}
	var good []LiftRule
	verdict := make([]ExtendedInfo, len(rules))
	for i, r := range rules {
		sorted := slices.Sorted(slices.Values(r.Areas))
		switch {
		case len(r.Areas) == 0 || sorted[0] < 0 || len(slices.Compact(sorted)) != len(r.Areas):
			verdict[i] = WrongAreas
		case r.Name == "":
			verdict[i] = WrongRule
		default:
			good = append(good, r)
		}
	}
	written, err := s.upsertPlain(ctx, "kone", bucketLiftRules, len(good), func(i int) (string, any) { return good[i].LinkID, good[i] })
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(rules))
	for i, r := range rules {
		if verdict[i] != "" {
			results = append(results, Result{LinkID: r.LinkID, ExtendedInfo: verdict[i]})
			continue
		}
		results, written = append(results, written[0]), written[1:]
	}
	return results, nil
}

// DeleteLiftRules deletes KONE lift rules by link_id.
func (s *Service) DeleteLiftRules(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "kone", bucketLiftRules, linkIDs, nil)
}

// GetLiftRule returns the lift rule with linkID, or ErrNotFound.
func (s *Service) GetLiftRule(ctx context.Context, linkID string) (LiftRule, error) {
	return get[LiftRule](ctx, s, bucketLiftRules, linkID)
}

// ListLiftRules returns a page of lift rules in link_id order.
func (s *Service) ListLiftRules(ctx context.Context, p Page) ([]LiftRule, string, error) {
	return list[LiftRule](ctx, s, bucketLiftRules, p)
}
