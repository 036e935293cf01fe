package device_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/journal"
)

const alice = "A1B2C3D4-0000-4000-8000-000000000001"

// TestGrantAccess has one case per reason: the access point is checked
// first, then its blocking, then the user's own data.
func TestGrantAccess(t *testing.T) {
	ctx := context.Background()
	d, _, j, _ := open(t)
	require.NoError(t, d.BlockAccessPoint(ctx, device.AccessPointExit, true))
	errStore := errors.New("store down")
	var asked []int
	check := func(ok bool, reason device.GrantReason, err error) device.CredentialCheck {
		return func(_ context.Context, user string, ap int, at time.Time) (bool, device.GrantReason, error) {
			assert.Equal(t, alice, user)
			assert.Equal(t, start, at)
			asked = append(asked, ap)
			return ok, reason, err
		}
	}
	tests := []struct {
		name  string
		ap    int
		check device.CredentialCheck
		want  device.Grant
		err   error
	}{
		{"granted", device.AccessPointEntry, check(true, "", nil), device.Grant{Granted: true}, nil},
		{"invalid credential", device.AccessPointEntry, check(false, device.GrantInvalidCredential, nil), device.Grant{Reason: device.GrantInvalidCredential}, nil},
		{"refused without a reason", device.AccessPointEntry, check(false, "", nil), device.Grant{Reason: device.GrantInvalidCredential}, nil},
		{"the check's own reason", device.AccessPointEntry, check(false, device.GrantInvalidAP, nil), device.Grant{Reason: device.GrantInvalidAP}, nil},
		{"blocked before the user is asked", device.AccessPointExit, check(true, "", nil), device.Grant{Reason: device.GrantAccessBlocked}, nil},
		{"no such access point", 2, check(true, "", nil), device.Grant{Reason: device.GrantInvalidAP}, nil},
		{"negative access point", -1, check(true, "", nil), device.Grant{Reason: device.GrantInvalidAP}, nil},
		{"an error never grants", device.AccessPointEntry, check(true, "", errStore), device.Grant{}, errStore},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			g, err := d.GrantAccess(journal.WithSource(ctx, "admin"), tc.ap, alice, tc.check)
			require.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.want, g)
			if tc.ap != device.AccessPointEntry { // blocked, or no such access point
				assert.Empty(t, asked, "the user's data is not asked")
			}
		})
	}
	require.NoError(t, j.Flush(ctx))
	evs, err := j.Events(ctx, 0, journal.Filter{}, 100)
	require.NoError(t, err)
	var decisions []journal.Event
	for _, ev := range evs {
		if ev.Kind == journal.Decision {
			decisions = append(decisions, ev)
		}
	}
	require.Len(t, decisions, 7, "every answer but the error is journaled")
	assert.True(t, decisions[0].Granted)
	assert.Equal(t, "admin", decisions[0].Source)
	assert.Equal(t, alice, decisions[0].UserLinkID)
	assert.Equal(t, "api", decisions[0].CredentialType)
	assert.Equal(t, "invalidAp", decisions[3].Reason)
	assert.Equal(t, "accessBlocked", decisions[4].Reason)
	assert.Equal(t, device.AccessPointExit, decisions[4].Lock)
}

func TestControlPort(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := open(t, device.WithSwitches(2))
	require.NoError(t, d.ControlPort(ctx, device.PortRelay2, device.ActionOn))
	st, err := d.IOStatus(ctx, device.PortRelay1, device.PortRelay2)
	require.NoError(t, err)
	assert.Equal(t, []device.PortState{{Port: "relay1"}, {Port: "relay2", State: 1}}, st.Ports)
	sw, err := d.SwitchStatus(ctx, 2)
	require.NoError(t, err)
	assert.True(t, sw.Switches[0].Active, "the relay's switch follows")
	require.NoError(t, d.ControlPort(ctx, device.PortRelay2, device.ActionOff))
	st, err = d.IOStatus(ctx, device.PortRelay2)
	require.NoError(t, err)
	assert.Equal(t, 0, st.Ports[0].State)

	assert.ErrorIs(t, d.ControlPort(ctx, device.PortInput1, device.ActionOn), device.ErrInvalidPort)
	assert.ErrorIs(t, d.ControlPort(ctx, "relay9", device.ActionOn), device.ErrInvalidPort)
	assert.ErrorIs(t, d.ControlPort(ctx, device.PortRelay1, device.ActionTrigger), device.ErrInvalidAction)
}
