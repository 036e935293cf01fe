package access

import (
	"context"

	"github.com/lintelhq/lintel/timeprofile"
)

// TimeProfile is a time profile with its link_id.
type TimeProfile struct {
	LinkID string `json:"link_id"`
	timeprofile.Profile
}

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
