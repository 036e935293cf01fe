package access

import (
	"context"
	"slices"
)

// LiftRule is a KONE lift rule: the destination areas a user may call.
type LiftRule struct {
	LinkID string  `json:"link_id" validate:"required,uuid"`
	Name   string  `json:"name" validate:"max=256"`
	Areas  []int64 `json:"areas" validate:"max=1024"`
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
