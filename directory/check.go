package directory

import (
	"context"
	"strconv"
	"time"

	"github.com/lintelhq/lintel/store"
)

// AccessReason is why CheckAccess refused, spelled as the reason of 2N's
// /api/accesspoint/grantaccess answer.
type AccessReason string

// The reasons of CheckAccess.
const (
	// ReasonInvalidAP: the access point does not exist on the model.
	ReasonInvalidAP AccessReason = "invalidAp"
	// ReasonInvalidCredential: the user may not pass there now.
	ReasonInvalidCredential AccessReason = "invalidCredential"
)

// CheckAccess decides whether the entry user (a uuid) may pass access
// point accessPoint (0-based) at the time at, as 2N's
// /api/accesspoint/grantaccess?id=&user= does. It answers granted with an
// empty reason, or not granted with:
//   - ReasonInvalidAP when accessPoint is not one of the model's access
//     points (0 and 1 where access.accessPoints exists; a model without
//     them, such as uni, has none);
//   - ReasonInvalidCredential when user is not a well-formed uuid, names no
//     entry or a deleted one, when at lies before access.validFrom or after
//     access.validTo (unix seconds, "0" for no bound; both bounds belong to
//     the validity, which ends at the validTo second itself), when
//     access.accessPoints[accessPoint].enabled is false, or when
//     access.accessPoints[accessPoint].profiles names time profiles.
//
// It fails closed: 2N time profiles are device configuration, which the
// directory does not hold, so an entry restricted by any profile at that
// access point is refused rather than let through at the wrong hours; a
// validity bound that does not read as unix seconds refuses too. Fields
// the model lacks count at their defaults. An error (of the store, or a
// record that does not decode) never grants: it is returned with false and
// an empty reason.
func (d *Directory) CheckAccess(ctx context.Context, user string, accessPoint int, at time.Time) (granted bool, reason AccessReason, err error) {
	if accessPoint < 0 || accessPoint >= d.view.accessPoints {
		return false, ReasonInvalidAP, nil
	}
	key, ok := parseUUID(user)
	if !ok {
		return false, ReasonInvalidCredential, nil
	}
	var rec Entry
	var found bool
	err = d.st.View(ctx, func(tx store.Tx) error {
		var err error
		found, err = d.readRecord(tx, []byte(key), &rec)
		return err
	})
	switch {
	case err != nil:
		return false, "", err
	case !found || rec.deleted:
		return false, ReasonInvalidCredential, nil
	}
	ap := d.reg.accessPoints[accessPoint]
	if !d.within(&rec, at) || !d.valueOf(&rec, ap.enabled).b || d.valueOf(&rec, ap.profiles).s != "" {
		return false, ReasonInvalidCredential, nil
	}
	return true, "", nil
}

// within reports whether at lies within the entry's validity.
func (d *Directory) within(e *Entry, at time.Time) bool {
	from, ok := unixBound(d.valueOf(e, d.reg.validFrom).s)
	if !ok || from != 0 && at.Before(time.Unix(from, 0)) {
		return false
	}
	to, ok := unixBound(d.valueOf(e, d.reg.validTo).s)
	return ok && (to == 0 || !at.After(time.Unix(to, 0)))
}

// unixBound reads a validity bound: unix seconds, 0 for none.
func unixBound(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// valueOf is the value of f in e on the directory's model: its default
// when the model lacks the field.
func (d *Directory) valueOf(e *Entry, f *field) value {
	if !d.view.avail[f.idx] {
		return f.def
	}
	return e.value(f)
}
