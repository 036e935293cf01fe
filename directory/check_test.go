package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/directory"
	"github.com/lintelhq/lintel/store"
	"github.com/lintelhq/lintel/store/memory"
)

func TestAccessReasonSpellings(t *testing.T) {
	assert.Equal(t, "invalidAp", string(directory.ReasonInvalidAP))
	assert.Equal(t, "invalidCredential", string(directory.ReasonInvalidCredential))
}

func TestCheckAccess(t *testing.T) {
	ctx := context.Background()
	const (
		from    = 1_700_000_000
		to      = 1_700_086_400
		valid   = "ABCDEF00-0000-4000-8000-000000000001"
		open    = "00000000-0000-4000-8000-000000000002" // no bounds, no restrictions
		ap1Off  = "00000000-0000-4000-8000-000000000003"
		timed   = "00000000-0000-4000-8000-000000000004"
		deleted = "00000000-0000-4000-8000-000000000005"
		unknown = "00000000-0000-4000-8000-000000000099"
	)
	d := openDir(t, "verso")
	res, err := d.Create(ctx, raws(t, `[
		{"uuid":"`+valid+`","access":{"validFrom":"1700000000","validTo":"1700086400"}},
		{"uuid":"`+open+`","name":"no bounds"},
		{"uuid":"`+ap1Off+`","access.accessPoints[1].enabled":false},
		{"uuid":"`+timed+`","access.accessPoints[0].profiles":"1,3"},
		{"uuid":"`+deleted+`","name":"gone"}]`), false)
	require.NoError(t, err)
	for _, u := range res.Users {
		require.Empty(t, u.Errors)
	}
	_, err = d.Delete(ctx, []string{deleted}, "")
	require.NoError(t, err)

	at := time.Unix(from+3600, 0)
	sec := time.Second
	tests := []struct {
		name string
		user string
		ap   int
		at   time.Time
		want directory.AccessReason // "" for granted
	}{
		{"granted", valid, 0, at, ""},
		{"granted, second access point", valid, 1, at, ""},
		{"granted, no bounds, far past", open, 0, time.Unix(0, 0), ""},
		{"granted, no bounds, far future", open, 1, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"lower-case uuid", "abcdef00-0000-4000-8000-000000000001", 0, at, ""},
		{"validFrom exactly", valid, 0, time.Unix(from, 0), ""},
		{"one second before validFrom", valid, 0, time.Unix(from, 0).Add(-sec), directory.ReasonInvalidCredential},
		{"a moment before validFrom", valid, 0, time.Unix(from, 0).Add(-time.Nanosecond), directory.ReasonInvalidCredential},
		{"validTo exactly", valid, 0, time.Unix(to, 0), ""},
		{"one second after validTo", valid, 0, time.Unix(to, 0).Add(sec), directory.ReasonInvalidCredential},
		{"a moment after validTo", valid, 0, time.Unix(to, 0).Add(time.Nanosecond), directory.ReasonInvalidCredential},
		{"access point disabled", ap1Off, 1, at, directory.ReasonInvalidCredential},
		{"the other access point enabled", ap1Off, 0, at, ""},
		{"time profiles: fail closed", timed, 0, at, directory.ReasonInvalidCredential},
		{"no profiles on the other access point", timed, 1, at, ""},
		{"deleted", deleted, 0, at, directory.ReasonInvalidCredential},
		{"unknown", unknown, 0, at, directory.ReasonInvalidCredential},
		{"malformed uuid", "01234567-89A-CDEF-0123-456789ABCDEF", 0, at, directory.ReasonInvalidCredential},
		{"all-zero uuid", "00000000-0000-0000-0000-000000000000", 0, at, directory.ReasonInvalidCredential},
		{"empty uuid", "", 0, at, directory.ReasonInvalidCredential},
		{"access point -1", valid, -1, at, directory.ReasonInvalidAP},
		{"access point 2", valid, 2, at, directory.ReasonInvalidAP},
		{"bad access point before bad user", "nonsense", 7, at, directory.ReasonInvalidAP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			granted, reason, err := d.CheckAccess(ctx, tc.user, tc.ap, tc.at)
			require.NoError(t, err)
			assert.Equal(t, tc.want == "", granted)
			assert.Equal(t, tc.want, reason)
		})
	}

	// A model without access points has none to grant.
	uni := openDir(t, "uni")
	res, err = uni.Create(ctx, raws(t, `[{"name":"x"}]`), false)
	require.NoError(t, err)
	granted, reason, err := uni.CheckAccess(ctx, res.Users[0].UUID, 0, at)
	require.NoError(t, err)
	assert.False(t, granted)
	assert.Equal(t, directory.ReasonInvalidAP, reason)
	base := openDir(t, "base")
	res, err = base.Create(ctx, raws(t, `[{"name":"x"}]`), false)
	require.NoError(t, err)
	granted, _, err = base.CheckAccess(ctx, res.Users[0].UUID, 1, at)
	require.NoError(t, err)
	assert.True(t, granted)
}

func openDir(t *testing.T, model string) *directory.Directory {
	t.Helper()
	m, ok := directory.ModelFor(model)
	require.True(t, ok)
	return open(t, directory.WithModel(m))
}

// An error never grants.
func TestCheckAccessErrors(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	d, err := directory.Open(ctx, st)
	require.NoError(t, err)
	res, err := d.Create(ctx, raws(t, `[{"name":"x"}]`), false)
	require.NoError(t, err)
	id := res.Users[0].UUID

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	granted, reason, err := d.CheckAccess(canceled, id, 0, time.Now())
	assert.Error(t, err)
	assert.False(t, granted)
	assert.Empty(t, reason)

	// A record that does not decode.
	require.NoError(t, st.Update(ctx, func(tx store.Tx) error {
		return tx.Put([]byte("directory.entries"), []byte(id), []byte{9, 9})
	}))
	granted, _, err = d.CheckAccess(ctx, id, 0, time.Now())
	assert.Error(t, err)
	assert.False(t, granted)

	// A validity bound that is not unix seconds (an old JSON record, whose
	// values are not checked again) refuses.
	require.NoError(t, st.Update(ctx, func(tx store.Tx) error {
		return tx.Put([]byte("directory.entries"), []byte(id), []byte(`{"uuid":"`+id+`","timestamp":1,"values":{"access.validTo":"tomorrow"}}`))
	}))
	granted, reason, err = d.CheckAccess(ctx, id, 0, time.Now())
	require.NoError(t, err)
	assert.False(t, granted)
	assert.Equal(t, directory.ReasonInvalidCredential, reason)
}
