package device

import (
	"context"
	"time"

	"github.com/lintelhq/lintel/journal"
)

// GrantReason is why /api/accesspoint/grantaccess refused, as 2N spells it.
type GrantReason string

// The reasons of a refused grant.
const (
	GrantInvalidAP         GrantReason = "invalidAp"         // no such access point
	GrantInvalidCredential GrantReason = "invalidCredential" // the user may not pass (see CredentialCheck)
	GrantAccessBlocked     GrantReason = "accessBlocked"     // the access point is blocked
)

// CredentialCheck says whether user may pass access point ap at an
// instant by the user's own data (directory.Directory.CheckAccess is one),
// and, when not, why: a reason left empty is GrantInvalidCredential. It
// must fail closed: false on any doubt.
type CredentialCheck func(ctx context.Context, user string, ap int, at time.Time) (granted bool, reason GrantReason, err error)

// Grant is the answer of GrantAccess.
type Grant struct {
	Granted bool        `json:"accessGranted"`
	Reason  GrantReason `json:"reason,omitempty"`
}

// GrantAccess decides 2N's /api/accesspoint/grantaccess?id=ap&user=uuid:
// whether user may pass access point ap now. An access point that does not
// exist is GrantInvalidAP; a blocked one GrantAccessBlocked, whoever asks
// (blocking has no exceptions here); otherwise check decides, and refuses
// with its reason (GrantInvalidCredential when it gives none). Each answer, granted or not, is journaled
// as a decision (Kind Decision, CredentialType "api", UserLinkID user,
// Lock ap) with the Source of ctx. Lintel drives no lock: an embedder opens
// the door on a grant (from the answer, or from the journal's Observer).
func (d *Device) GrantAccess(ctx context.Context, ap int, user string, check CredentialCheck) (Grant, error) {
	now := d.now()
	g, err := d.grant(ctx, ap, user, now, check)
	if err != nil {
		return Grant{}, err
	}
	if d.journal != nil {
		ev := journal.Event{Kind: journal.Decision, Time: now, Source: journal.SourceFrom(ctx), Granted: g.Granted,
			Reason: string(g.Reason), CredentialType: "api", UserLinkID: user, Lock: ap}
		if err := d.journal.Append(ctx, ev); err != nil {
			d.log.Warn("device: grant not journaled", "err", err)
		}
	}
	return g, nil
}

func (d *Device) grant(ctx context.Context, ap int, user string, now time.Time, check CredentialCheck) (Grant, error) {
	if checkAccessPoint(ap) != nil {
		return Grant{Reason: GrantInvalidAP}, nil
	}
	st, err := d.AccessPointStatus(ctx, ap)
	if err != nil {
		return Grant{}, err
	}
	if st.AccessPoints[0].Blocked {
		return Grant{Reason: GrantAccessBlocked}, nil
	}
	ok, reason, err := check(ctx, user, ap, now)
	switch {
	case err != nil:
		return Grant{}, err
	case ok:
		return Grant{Granted: true}, nil
	case reason == "":
		reason = GrantInvalidCredential
	}
	return Grant{Reason: reason}, nil
}
