package access

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/lintelhq/lintel/store"
)

// IdentifierType is the kind of credential.
type IdentifierType string

// The identifier types of the panel API.
const (
	Card         IdentifierType = "card"
	UKey         IdentifierType = "ukey"
	InputCode    IdentifierType = "inputCode"
	FaceID       IdentifierType = "face_id"
	QR           IdentifierType = "qr"
	LicensePlate IdentifierType = "license_plate"
)

// Lock says which locks an identifier opens.
type Lock string

// The identifier locks; an empty lock means all.
const (
	LockFirst  Lock = "first"
	LockSecond Lock = "second"
	LockAll    Lock = "all"
)

// Owner is identifier_owner.
type Owner struct {
	Name string `json:"name" validate:"max=256"`
	Type string `json:"type" validate:"omitempty,oneof=owner guest"`
}

// Validity is an identifier's valid block: a time window and a pass count.
type Validity struct {
	Time   ValidTime   `json:"time"`
	Passes ValidPasses `json:"passes"`
}

// ValidTime is the window in which an identifier is valid, in Unix
// seconds: [From, To), unless IsPermanent.
type ValidTime struct {
	IsPermanent bool  `json:"is_permanent"`
	From        int64 `json:"from"`
	To          int64 `json:"to"`
}

// ValidPasses limits how often an identifier opens, unless IsPermanent.
type ValidPasses struct {
	IsPermanent bool `json:"is_permanent"`
	// MaxPasses above 4294967295 (what a panel counts in 32 bits) is the
	// wrong type; below 1 it is invalid_time_rules_settings.
	MaxPasses int `json:"max_passes" validate:"max=4294967295"`
}

// Identifier is a credential: a card, key fob, PIN code, QR code, licence
// plate or face photo. For face_id, Number is the base64 photo on the way
// in; the stored identifier keeps it in a bucket of its own.
type Identifier struct {
	LinkID          string           `json:"link_id" validate:"required,uuid"`
	ApartmentLinkID string           `json:"apartment_link_id,omitempty" validate:"omitempty,uuid"`
	Owner           Owner            `json:"identifier_owner"`
	Type            IdentifierType   `json:"identifier_type" validate:"required,oneof=card ukey inputCode face_id qr license_plate"`
	Number          string           `json:"identifier_number" validate:"required"`
	Lock            Lock             `json:"lock,omitempty" validate:"omitempty,oneof=first second all"`
	Valid           Validity         `json:"valid"`
	TimeProfiles    TimeProfileLinks `json:"time_profiles"`
	Additional      Additional       `json:"additional"`
	// UID is the panel's own number for the identifier (the "uid" that
	// Camdroid panels answer), handed out by the Service when the
	// identifier is created: 1, 2, 3, ... per store, never reused, kept by
	// updates. A UID sent in a batch is ignored.
	UID int64 `json:"uid,omitempty"`
}

// TimeProfileLinks are the time profiles an identifier is bound to.
type TimeProfileLinks struct {
	LinkIDs []string `json:"link_ids" validate:"max=64,dive,uuid"`
}

// Additional is an identifier's additional block. PassesLeft sets the
// passes left on the way in (0..4294967295) and reports them on the way out.
type Additional struct {
	PassesLeft *int `json:"passes_left,omitempty" validate:"omitempty,min=0,max=4294967295"`
}

// UpsertIdentifiers creates or updates identifiers by link_id, in one
// transaction.
//
// Request errors reject the whole batch first: a field missing or of the
// wrong type, and an identifier_number whose format does not fit its type
// ("value `list_items[i].identifier_number` was of the wrong type").
// Otherwise each identifier yields one result:
//   - created or updated;
//   - invalid_time_rules_settings, success true, when it was saved but its
//     validity window ends before it starts or its pass count is below 1
//     (such an identifier is never granted);
//   - success false with face_id_not_supported, bad_base_64_image_file,
//     face_has_not_recognized, number_of_identifiers_exceeded,
//     number_of_face_identifiers_exceeded or
//     number_taken_by_another_identifier; nothing of it is written;
//
// and a saved identifier bound to a time profile that does not exist gets
// a second result, bound_time_profile_doesnt_exist with success true (it is
// denied until the profile exists, see Decide).
//
// Face photos are checked before the transaction begins, so a slow check
// never holds the store's writer.
func (s *Service) UpsertIdentifiers(ctx context.Context, ids []Identifier) ([]Result, error) {
	if err := s.checkBatch(len(ids)); err != nil {
		return nil, err
	}
	numbers := make([]string, len(ids))
	for i := range ids {
		if err := validateItem(s.validate, i, &ids[i]); err != nil {
			return nil, err
		}
		n, ok := normalizeNumber(ids[i].Type, ids[i].Number)
		if !ok {
			return nil, wrongField(i, "identifier_number")
		}
		numbers[i] = n
	}
	refused, err := s.checkFaces(ctx, ids)
	if err != nil {
		return nil, err
	}
	return s.commit(ctx, "identifiers", "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(ids))
		counts, err := readCounts(tx)
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			if refused[i] != "" {
				results = append(results, Result{LinkID: id.LinkID, ExtendedInfo: refused[i]})
				continue
			}
			rs, err := s.upsertIdentifier(tx, id, numbers[i], &counts)
			if err != nil {
				return nil, err
			}
			results = append(results, rs...)
		}
		return results, writeCounts(tx, counts)
	})
}

// checkFaces checks the batch's face photos before its transaction, on
// as many goroutines as there are CPUs, and returns per item why it fails
// before the store is asked (face_id_not_supported,
// bad_base_64_image_file, face_has_not_recognized), or "". A done context
// (the client went away, or its deadline passed) stops the checks and
// refuses the batch: nothing is written.
func (s *Service) checkFaces(ctx context.Context, ids []Identifier) ([]ExtendedInfo, error) {
	refused := make([]ExtendedInfo, len(ids))
	var faces []int
	for i, id := range ids {
		switch {
		case id.Type != FaceID:
		case !s.cfg.caps.FaceID:
			refused[i] = FaceIDNotSupported
		default:
			faces = append(faces, i)
		}
	}
	if len(faces) == 0 {
		return refused, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(faces)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				err := s.cfg.faces.CheckFace(ctx, ids[i].Number)
				switch {
				case errors.Is(err, ErrFaceUnreadable):
					refused[i] = BadBase64ImageFile
				case errors.Is(err, ErrNoFace):
					refused[i] = FaceHasNotRecognized
				case err != nil:
					cancel(fmt.Errorf("access: checking the face of %s: %w", ids[i].LinkID, err))
				}
			}
		}()
	}
feed:
	for _, i := range faces {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("access: batch refused before anything was written: %w", err)
	}
	return refused, nil
}

// identifierCounts are the stored identifiers, all and faces, kept in the
// meta bucket and changed by every create, delete and change of type, so
// that the capability limits cost two reads per batch, not a scan.
type identifierCounts struct{ all, faces int }

var (
	keyCountAll   = []byte("count.identifiers")
	keyCountFaces = []byte("count.faces")
)

func readCounts(tx store.Tx) (identifierCounts, error) {
	all, err := store.GetUint64(tx, bucketMeta, keyCountAll)
	if err != nil {
		return identifierCounts{}, err
	}
	faces, err := store.GetUint64(tx, bucketMeta, keyCountFaces)
	return identifierCounts{all: int(all), faces: int(faces)}, err
}

func writeCounts(tx store.Tx, c identifierCounts) error {
	if err := store.PutUint64(tx, bucketMeta, keyCountAll, uint64(max(c.all, 0))); err != nil {
		return err
	}
	return store.PutUint64(tx, bucketMeta, keyCountFaces, uint64(max(c.faces, 0)))
}

var keyLastUID = []byte("seq.identifier_uid")

// identifierUID is the UID an upserted identifier keeps (old's) or gets
// (the next of the store's sequence).
func identifierUID(tx store.Tx, old Identifier, found bool) (int64, error) {
	if found && old.UID > 0 {
		return old.UID, nil
	}
	return nextUID(tx)
}

func nextUID(tx store.Tx) (int64, error) {
	last, err := store.GetUint64(tx, bucketMeta, keyLastUID)
	if err != nil {
		return 0, err
	}
	if last >= math.MaxInt64 {
		return 0, fmt.Errorf("access: identifier uids exhausted")
	}
	return int64(last + 1), store.PutUint64(tx, bucketMeta, keyLastUID, last+1)
}

func numberKey(t IdentifierType, normalized string) []byte { return store.Key(string(t), normalized) }

func (s *Service) upsertIdentifier(tx store.Tx, id Identifier, number string, counts *identifierCounts) ([]Result, error) {
	fail := func(info ExtendedInfo) ([]Result, error) {
		return []Result{{LinkID: id.LinkID, ExtendedInfo: info}}, nil
	}
	old, found, err := getJSON[Identifier](tx, bucketIdentifiers, id.LinkID)
	if err != nil {
		return nil, err
	}
	if id.Type != FaceID {
		owner, err := tx.Get(bucketNumbers, numberKey(id.Type, number))
		if err == nil && string(owner) != id.LinkID {
			return fail(NumberTakenByAnotherIdentifier)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	caps := s.cfg.caps
	if !found {
		if caps.MaxIdentifiers > 0 && counts.all >= caps.MaxIdentifiers {
			return fail(NumberOfIdentifiersExceeded)
		}
		if id.Type == FaceID && caps.MaxFaceIdentifiers > 0 && counts.faces >= caps.MaxFaceIdentifiers {
			return fail(NumberOfFaceIdentifiersExceeded)
		}
		counts.all++
		if id.Type == FaceID {
			counts.faces++
		}
	} else if id.Type == FaceID && old.Type != FaceID {
		if caps.MaxFaceIdentifiers > 0 && counts.faces >= caps.MaxFaceIdentifiers {
			return fail(NumberOfFaceIdentifiersExceeded)
		}
		counts.faces++
	} else if id.Type != FaceID && old.Type == FaceID {
		counts.faces--
	}
	if found {
		if err := unindexIdentifier(tx, old); err != nil {
			return nil, err
		}
	}
	if id.UID, err = identifierUID(tx, old, found); err != nil {
		return nil, err
	}
	if err := s.writeIdentifier(tx, id, number, old, found); err != nil {
		return nil, err
	}
	if err := tx.Delete(bucketDetached, []byte(id.LinkID)); err != nil { // pushed again: see DeleteUsers
		return nil, err
	}
	info := Created
	if found {
		info = Updated
	}
	if !timeRulesConsistent(id.Valid) {
		info = InvalidTimeRulesSettings
	}
	results := []Result{{LinkID: id.LinkID, Success: true, ExtendedInfo: info}}
	missing, err := anyMissing(tx, bucketTimeProfiles, id.TimeProfiles.LinkIDs)
	if err != nil {
		return nil, err
	}
	if missing {
		results = append(results, Result{LinkID: id.LinkID, Success: true, ExtendedInfo: BoundTimeProfileDoesntExist})
	}
	return results, nil
}

// writeIdentifier stores the identifier, its number index entry, its face
// photo and its passes left.
func (s *Service) writeIdentifier(tx store.Tx, id Identifier, number string, old Identifier, found bool) error {
	if id.Type == FaceID {
		if err := tx.Put(bucketFaces, []byte(id.LinkID), []byte(id.Number)); err != nil {
			return err
		}
		id.Number = "" // the photo lives in its own bucket
	} else if err := tx.Put(bucketNumbers, numberKey(id.Type, number), []byte(id.LinkID)); err != nil {
		return err
	}
	passes := id.Additional.PassesLeft
	id.Additional.PassesLeft = nil // the live count lives in bucketPasses
	if err := putJSON(tx, bucketIdentifiers, id.LinkID, id); err != nil {
		return err
	}
	if id.Valid.Passes.IsPermanent {
		return tx.Delete(bucketPasses, []byte(id.LinkID))
	}
	left := id.Valid.Passes.MaxPasses
	switch {
	case passes != nil:
		left = *passes
	case found && !old.Valid.Passes.IsPermanent:
		// Keep the passes already used: at most the new maximum.
		cur, err := passesLeft(tx, id.LinkID)
		if err != nil {
			return err
		}
		left = min(cur, left)
	}
	return tx.Put(bucketPasses, []byte(id.LinkID), binary.BigEndian.AppendUint32(nil, uint32(max(left, 0))))
}

// passesLeft reads the live pass count of an identifier with limited
// passes. A count that is missing or malformed is an error: the store is
// not what this package wrote.
func passesLeft(tx store.Tx, linkID string) (int, error) {
	v, err := tx.Get(bucketPasses, []byte(linkID))
	if err != nil {
		return 0, fmt.Errorf("access: passes of %s: %w", linkID, err)
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("access: passes of %s: %d bytes, want 4", linkID, len(v))
	}
	return int(binary.BigEndian.Uint32(v)), nil
}

// timeRulesConsistent reports whether an identifier's validity can ever
// grant: a window that ends after it starts, a pass count of at least one.
func timeRulesConsistent(v Validity) bool {
	if !v.Time.IsPermanent && v.Time.To <= v.Time.From {
		return false
	}
	return v.Passes.IsPermanent || v.Passes.MaxPasses >= 1
}

// unindexIdentifier removes a stored identifier's index entries and data.
func unindexIdentifier(tx store.Tx, id Identifier) error {
	if id.Type == FaceID {
		return tx.Delete(bucketFaces, []byte(id.LinkID))
	}
	n, _ := normalizeNumber(id.Type, id.Number)
	return tx.Delete(bucketNumbers, numberKey(id.Type, n))
}

// DeleteIdentifiers deletes identifiers by link_id: deleted, or not_found.
// Users that referred to one keep the reference, which grants nothing.
func (s *Service) DeleteIdentifiers(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "identifiers", bucketIdentifiers, linkIDs, func() deleteHooks {
		return deleteHooks{each: func(tx store.Tx, id string, stored []byte) error {
			ident, err := decodeRecord[Identifier](bucketIdentifiers, []byte(id), stored)
			if err != nil {
				return err
			}
			for _, b := range [][]byte{bucketPasses, bucketDetached} {
				if err := tx.Delete(b, []byte(id)); err != nil {
					return err
				}
			}
			counts, err := readCounts(tx)
			if err != nil {
				return err
			}
			counts.all--
			if ident.Type == FaceID {
				counts.faces--
			}
			if err := writeCounts(tx, counts); err != nil {
				return err
			}
			return unindexIdentifier(tx, ident)
		}}
	})
}

// GetIdentifier returns the identifier with linkID, with its current
// passes_left, or ErrNotFound. A face identifier's number is its photo.
func (s *Service) GetIdentifier(ctx context.Context, linkID string) (Identifier, error) {
	var id Identifier
	err := s.st.View(ctx, func(tx store.Tx) error {
		var ok bool
		var err error
		if id, ok, err = getJSON[Identifier](tx, bucketIdentifiers, linkID); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, linkID)
		}
		return s.completeIdentifier(tx, &id)
	})
	return id, err
}

// completeIdentifier adds what is kept beside the record: the face photo
// and the passes left.
func (s *Service) completeIdentifier(tx store.Tx, id *Identifier) error {
	if id.Type == FaceID {
		photo, err := tx.Get(bucketFaces, []byte(id.LinkID))
		if err != nil {
			return err
		}
		id.Number = string(photo)
	}
	if !id.Valid.Passes.IsPermanent {
		n, err := passesLeft(tx, id.LinkID)
		if err != nil {
			return err
		}
		id.Additional.PassesLeft = &n
	}
	return nil
}

// ListIdentifiers returns a page of identifiers in link_id order (face
// photos and passes_left left out; GetIdentifier has them).
func (s *Service) ListIdentifiers(ctx context.Context, p Page) ([]Identifier, string, error) {
	return list[Identifier](ctx, s, bucketIdentifiers, p)
}
