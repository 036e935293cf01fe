package access

import (
	"context"
	"fmt"
	"slices"

	"github.com/lintelhq/lintel/store"
)

// AuthFactor is one of a user's ways to authenticate.
type AuthFactor string

// The auth factors of the panel API.
const (
	FactorCard         AuthFactor = "card"
	FactorInputCode    AuthFactor = "input_code"
	FactorFaceID       AuthFactor = "face_id"
	FactorQR           AuthFactor = "qr"
	FactorLicensePlate AuthFactor = "license_plate"
)

// User is a resident or visitor. The vendor does not publish the names of
// a linked user's references; ours are apartment_link_id,
// time_profile_link_ids, identifier_link_ids and kone_rule_link_id.
// IsBlocked is ours too: a blocked user's identifiers are denied.
type User struct {
	LinkID             string       `json:"link_id" validate:"required,uuid"`
	Name               string       `json:"name" validate:"required,max=256"`
	Info               string       `json:"info,omitempty" validate:"max=1024"`
	AuthFactors        []AuthFactor `json:"auth_factors" validate:"required,min=1,max=5,dive,oneof=card input_code face_id qr license_plate"`
	LockNumber         int          `json:"lock_number" validate:"min=0,max=2"`
	IsCustomUserAccess bool         `json:"is_custom_user_access"`
	IsBlocked          bool         `json:"is_blocked,omitempty"`
	ApartmentLinkID    string       `json:"apartment_link_id,omitempty" validate:"omitempty,uuid"`
	TimeProfileLinkIDs []string     `json:"time_profile_link_ids,omitempty" validate:"max=64,dive,uuid"`
	IdentifierLinkIDs  []string     `json:"identifier_link_ids,omitempty" validate:"max=256,dive,uuid"`
	KoneRuleLinkID     string       `json:"kone_rule_link_id,omitempty" validate:"omitempty,uuid"`
}

// UpsertUsers creates or updates users by link_id, in one transaction.
//
// A request error (see ItemError) rejects the whole batch before anything
// is written. Otherwise each user yields a result, created or updated, with
// has_dublicates true when another user has the same name (info tells them
// apart), followed by one warning result (success true) for each kind of
// bound entity that does not exist: bound_apartment_doesnt_exist,
// bound_time_profile_doesnt_exist, bound_identifier_doesnt_exist,
// bound_kone_rule_doesnt_exist. The user is saved all the same.
//
// Every user of this API carries a link_id, so the vendor's rule that an
// unknown link_id adopts a same-named user created on the panel itself
// (one without a link_id) never applies here: a user already linked is
// never taken over.
func (s *Service) UpsertUsers(ctx context.Context, users []User) ([]Result, error) {
	if err := s.checkBatch(len(users)); err != nil {
		return nil, err
	}
	for i := range users {
		if err := validateItem(s.validate, i, &users[i]); err != nil {
			return nil, err
		}
	}
	return s.commit(ctx, "users", "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(users))
		links := newLinkChanges()
		for _, u := range users {
			rs, err := upsertUser(tx, u, links)
			if err != nil {
				return nil, err
			}
			results = append(results, rs...)
		}
		return results, links.apply(tx)
	})
}

func upsertUser(tx store.Tx, u User, links *linkChanges) ([]Result, error) {
	old, found, err := getJSON[User](tx, bucketUsers, u.LinkID)
	if err != nil {
		return nil, err
	}
	info := Created
	if found {
		info = Updated
		if err := unindexUser(tx, old); err != nil {
			return nil, err
		}
		for _, id := range old.IdentifierLinkIDs {
			if !slices.Contains(u.IdentifierLinkIDs, id) {
				links.lost(id, old)
			}
		}
	}
	for _, id := range u.IdentifierLinkIDs {
		if !found || !slices.Contains(old.IdentifierLinkIDs, id) {
			links.gained(id)
		}
	}
	if err := putJSON(tx, bucketUsers, u.LinkID, u); err != nil {
		return nil, err
	}
	if err := indexUser(tx, u); err != nil {
		return nil, err
	}
	dup, err := nameTakenByAnother(tx, u.Name, u.LinkID)
	if err != nil {
		return nil, err
	}
	results := []Result{{LinkID: u.LinkID, Success: true, ExtendedInfo: info, HasDuplicates: &dup}}
	warn := func(info ExtendedInfo) {
		results = append(results, Result{LinkID: u.LinkID, Success: true, ExtendedInfo: info, HasDuplicates: &dup})
	}
	checks := []struct {
		bucket []byte
		ids    []string
		info   ExtendedInfo
	}{
		{bucketApartments, nonEmpty(u.ApartmentLinkID), BoundApartmentDoesntExist},
		{bucketTimeProfiles, u.TimeProfileLinkIDs, BoundTimeProfileDoesntExist},
		{bucketIdentifiers, u.IdentifierLinkIDs, BoundIdentifierDoesntExist},
		{bucketLiftRules, nonEmpty(u.KoneRuleLinkID), BoundKoneRuleDoesntExist},
	}
	for _, c := range checks {
		missing, err := anyMissing(tx, c.bucket, c.ids)
		if err != nil {
			return nil, err
		}
		if missing {
			warn(c.info)
		}
	}
	return results, nil
}

func nonEmpty(id string) []string {
	if id == "" {
		return nil
	}
	return []string{id}
}

// anyMissing reports whether one of ids is not in bucket.
func anyMissing(tx store.Tx, bucket []byte, ids []string) (bool, error) {
	for _, id := range ids {
		ok, err := exists(tx, bucket, id)
		if err != nil || !ok {
			return !ok, err
		}
	}
	return false, nil
}

// indexUser writes a user's index entries: its name, and one owner entry
// per identifier it lists.
func indexUser(tx store.Tx, u User) error {
	if err := tx.Put(bucketUserNames, store.Key(u.Name, u.LinkID), nil); err != nil {
		return err
	}
	for _, id := range u.IdentifierLinkIDs {
		if err := tx.Put(bucketOwners, store.Key(id, u.LinkID), nil); err != nil {
			return err
		}
	}
	return nil
}

// unindexUser removes a stored user's index entries.
func unindexUser(tx store.Tx, u User) error {
	if err := tx.Delete(bucketUserNames, store.Key(u.Name, u.LinkID)); err != nil {
		return err
	}
	for _, id := range u.IdentifierLinkIDs {
		if err := tx.Delete(bucketOwners, store.Key(id, u.LinkID)); err != nil {
			return err
		}
	}
	return nil
}

// nameTakenByAnother reports whether a user other than linkID has name.
func nameTakenByAnother(tx store.Tx, name, linkID string) (bool, error) {
	taken := false
	prefix := store.Key(name)
	err := tx.Scan(bucketUserNames, prefix, func(k, _ []byte) error {
		parts, err := store.SplitKey(k[len(prefix):])
		if err != nil || len(parts) != 1 {
			return fmt.Errorf("access: user name index key %q: %w", k, store.ErrBadKey)
		}
		if parts[0] != linkID {
			taken = true
			return store.ErrStopScan
		}
		return nil
	})
	return taken, err
}

// restricts reports whether a user narrows what its identifiers open: it
// is blocked, it has a lock_number other than 0, or time profiles.
func (u User) restricts() bool {
	return u.IsBlocked || u.LockNumber != 0 || len(u.TimeProfileLinkIDs) > 0
}

// linkChanges collects, over one batch, the identifiers that lost a
// restricting user and those that a user newly lists, so that the outcome
// does not depend on the order of the batch's items: a new link wins.
type linkChanges struct {
	detach, attach map[string]bool
}

func newLinkChanges() *linkChanges {
	return &linkChanges{detach: map[string]bool{}, attach: map[string]bool{}}
}

// lost records that user u, as it was stored, no longer lists identifier id.
func (l *linkChanges) lost(id string, u User) {
	if u.restricts() {
		l.detach[id] = true
	}
}

// gained records that a user newly lists identifier id.
func (l *linkChanges) gained(id string) { l.attach[id] = true }

// apply marks and clears identifiers in bucketDetached. Only identifiers
// that exist are marked; pushing one again clears its mark anyway.
func (l *linkChanges) apply(tx store.Tx) error {
	for id := range l.attach {
		if err := tx.Delete(bucketDetached, []byte(id)); err != nil {
			return err
		}
	}
	for id := range l.detach {
		if l.attach[id] {
			continue
		}
		ok, err := exists(tx, bucketIdentifiers, id)
		if err != nil {
			return err
		}
		if ok {
			if err := tx.Put(bucketDetached, []byte(id), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteUsers deletes users by link_id: deleted, or not_found. An empty
// list is ErrListEmpty. The identifiers the users listed stay; one that a
// deleted user restricted (blocked, a lock_number, time profiles) is denied
// from then on with OwnerRemoved, until it is pushed again or a user newly
// lists it (see the package doc), so that a delete never opens a door.
func (s *Service) DeleteUsers(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "users", bucketUsers, linkIDs, func() deleteHooks {
		links := newLinkChanges()
		return deleteHooks{
			each: func(tx store.Tx, id string, stored []byte) error {
				u, err := decodeRecord[User](bucketUsers, []byte(id), stored)
				if err != nil {
					return err
				}
				for _, ident := range u.IdentifierLinkIDs {
					links.lost(ident, u)
				}
				return unindexUser(tx, u)
			},
			done: links.apply,
		}
	})
}

// GetUser returns the user with linkID, or ErrNotFound.
func (s *Service) GetUser(ctx context.Context, linkID string) (User, error) {
	return get[User](ctx, s, bucketUsers, linkID)
}

// ListUsers returns a page of users in link_id order, and the After of the
// next page ("" after the last).
func (s *Service) ListUsers(ctx context.Context, p Page) ([]User, string, error) {
	return list[User](ctx, s, bucketUsers, p)
}
