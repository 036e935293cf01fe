package device_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/device"
	"github.com/lintelhq/lintel/store/memory"
)

func TestParseHoliday(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   device.Holiday
		reason string
	}{
		{"01/01", device.Holiday{Day: 1, Month: time.January}, ""},
		{"24/12", device.Holiday{Day: 24, Month: time.December}, ""},
		{"01/04/2018", device.Holiday{Day: 1, Month: time.April, Year: 2018}, ""},
		{"29/02", device.Holiday{Day: 29, Month: time.February}, ""},
		{"29/02/2024", device.Holiday{Day: 29, Month: time.February, Year: 2024}, ""},
		{"29/02/2000", device.Holiday{Day: 29, Month: time.February, Year: 2000}, ""},
		{"31/12/9999", device.Holiday{Day: 31, Month: time.December, Year: 9999}, ""},
		{"01/01/1970", device.Holiday{Day: 1, Month: time.January, Year: 1970}, ""},
		{"29/02/2019", device.Holiday{}, "day 29 is not in February 2019 (1 to 28)"},
		{"29/02/2100", device.Holiday{}, "day 29 is not in February 2100 (1 to 28)"},
		{"30/02", device.Holiday{}, "day 30 is not in February (1 to 29)"},
		{"31/04", device.Holiday{}, "day 31 is not in April (1 to 30)"},
		{"31/06/2026", device.Holiday{}, "day 31 is not in June 2026 (1 to 30)"},
		{"00/01", device.Holiday{}, "day 00 is not in January (1 to 31)"},
		{"32/01", device.Holiday{}, "day 32 is not in January (1 to 31)"},
		{"01/00", device.Holiday{}, "month 00 is not 1 to 12"},
		{"01/13/2026", device.Holiday{}, "month 13 is not 1 to 12"},
		{"31/12/1969", device.Holiday{}, "year 1969 is before 1970"},
		{"01/01/0000", device.Holiday{}, "year 0000 is before 1970"},
		{"1/1", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01/1/2026", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01/01/26", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01-01", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01/01/", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01/01-2026", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{" 1/01", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"+1/01", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"01/01/+999", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"١٢/٠١", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
		{"2026-01-01", device.Holiday{}, "not DD/MM or DD/MM/YYYY"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			h, err := device.ParseHoliday(tc.in)
			if tc.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, h)
				assert.Equal(t, tc.in, h.String())
				return
			}
			require.ErrorIs(t, err, device.ErrInvalidDate)
			assert.Equal(t, `device: invalid holiday date "`+tc.in+`": `+tc.reason, err.Error())
		})
	}
}

func TestHolidays(t *testing.T) {
	ctx := context.Background()
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	d, _, _, _ := open(t, device.WithLocation(prague))
	h, err := d.Holidays(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"dates":[]}`, jsonOf(t, h))

	require.NoError(t, d.SetHolidays(ctx, []string{"24/12", "01/01", "01/04/2018", "24/12", "29/02"}))
	h, err = d.Holidays(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"dates":["24/12","01/01","01/04/2018","29/02"]}`, jsonOf(t, h), "in order, each once")
	h.Dates[0] = "changed"
	h, err = d.Holidays(ctx)
	require.NoError(t, err)
	assert.Equal(t, "24/12", h.Dates[0], "a copy")

	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 24, 0, 0, 0, 0, prague), true},
		{time.Date(2026, 12, 24, 23, 59, 59, 0, prague), true},
		{time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC), false}, // 00:30 on the 25th in Prague
		{time.Date(2026, 12, 23, 23, 30, 0, 0, time.UTC), true},  // 00:30 on the 24th in Prague
		{time.Date(1999, 1, 1, 12, 0, 0, 0, prague), true},
		{time.Date(2018, 4, 1, 12, 0, 0, 0, prague), true},
		{time.Date(2019, 4, 1, 12, 0, 0, 0, prague), false},
		{time.Date(2024, 2, 29, 12, 0, 0, 0, prague), true},
		{time.Date(2026, 3, 1, 12, 0, 0, 0, prague), false},
		{time.Date(2026, 7, 4, 12, 0, 0, 0, prague), false},
		{time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC), true}, // yearly dates hold in any year
		{time.Date(12000, 4, 1, 12, 0, 0, 0, time.UTC), false},
	} {
		assert.Equal(t, tc.want, d.IsHoliday(tc.at), "%v", tc.at)
	}

	require.NoError(t, d.SetHolidays(ctx, nil))
	assert.False(t, d.IsHoliday(time.Date(2026, 12, 24, 12, 0, 0, 0, prague)))
	h, err = d.Holidays(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"dates":[]}`, jsonOf(t, h))

	many := make([]string, 0, device.MaxHolidays)
	for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); len(many) < device.MaxHolidays; day = day.AddDate(0, 0, 1) {
		many = append(many, day.Format("02/01/2006"))
	}
	require.NoError(t, d.SetHolidays(ctx, many))
	assert.True(t, d.IsHoliday(time.Date(2026, 12, 31, 12, 0, 0, 0, prague)))
	assert.False(t, d.IsHoliday(time.Date(2027, 1, 1, 12, 0, 0, 0, prague)))
}

// TestHolidaysSharedStore: a list set through one Device is what another
// on the same store reads; its IsHoliday snapshot follows at Refresh.
func TestHolidaysSharedStore(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	a, err := device.Open(ctx, st)
	require.NoError(t, err)
	b, err := device.Open(ctx, st)
	require.NoError(t, err)
	christmas := time.Date(2026, 12, 25, 12, 0, 0, 0, time.UTC)

	require.NoError(t, a.SetHolidays(ctx, []string{"25/12"}))
	assert.True(t, a.IsHoliday(christmas))
	assert.False(t, b.IsHoliday(christmas), "b's snapshot is from Open")
	h, err := b.Holidays(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"25/12"}, h.Dates, "reads are transactions")
	assert.True(t, b.IsHoliday(christmas), "and refresh the snapshot")

	require.NoError(t, b.SetHolidays(ctx, []string{"26/12"}))
	assert.True(t, a.IsHoliday(christmas))
	require.NoError(t, a.Refresh(ctx))
	assert.False(t, a.IsHoliday(christmas))
	assert.True(t, a.IsHoliday(christmas.AddDate(0, 0, 1)))

	c, err := device.Open(ctx, st)
	require.NoError(t, err)
	assert.True(t, c.IsHoliday(christmas.AddDate(0, 0, 1)), "Open reads the list")
}
