package access

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/lintelhq/lintel/store"
)

// UpsertUsers creates or updates users by link_id, in one transaction.
//
// A request error (see FieldError) rejects the whole batch before anything
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
	var results []Result
	err := s.st.Update(ctx, func(tx store.Tx) error {
		results = make([]Result, 0, len(users))
		for _, u := range users {
			rs, err := upsertUser(tx, u)
			if err != nil {
				return err
			}
			results = append(results, rs...)
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func upsertUser(tx store.Tx, u User) ([]Result, error) {
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
	}
	if err := putJSON(tx, bucketUsers, u.LinkID, u); err != nil {
		return nil, err
	}
	if err := tx.Put(bucketUserNames, indexKey(u.Name, u.LinkID), nil); err != nil {
		return nil, err
	}
	for _, id := range u.IdentifierLinkIDs {
		if err := tx.Put(bucketOwners, indexKey(id, u.LinkID), nil); err != nil {
			return nil, err
		}
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

// unindexUser removes a stored user's index entries.
func unindexUser(tx store.Tx, u User) error {
	if err := tx.Delete(bucketUserNames, indexKey(u.Name, u.LinkID)); err != nil {
		return err
	}
	for _, id := range u.IdentifierLinkIDs {
		if err := tx.Delete(bucketOwners, indexKey(id, u.LinkID)); err != nil {
			return err
		}
	}
	return nil
}

// nameTakenByAnother reports whether a user other than linkID has name.
func nameTakenByAnother(tx store.Tx, name, linkID string) (bool, error) {
	taken := false
	err := tx.Scan(bucketUserNames, append([]byte(name), 0), func(k, _ []byte) error {
		if !bytes.Equal(k[len(name)+1:], []byte(linkID)) {
			taken = true
			return store.ErrStopScan
		}
		return nil
	})
	return taken, err
}

// DeleteUsers deletes users by link_id: deleted, or not_found. An empty
// list is ErrListEmpty. The identifiers the users referred to stay.
func (s *Service) DeleteUsers(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, bucketUsers, linkIDs, func(tx store.Tx, _ string, stored []byte) error {
		var u User
		if err := json.Unmarshal(stored, &u); err != nil {
			return fmt.Errorf("access: decoding user: %w", err)
		}
		return unindexUser(tx, u)
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
