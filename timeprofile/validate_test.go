package timeprofile_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lintelhq/lintel/timeprofile"
)

// The vendor's spellings, pinned.
func TestMessagesAreSpelledAsTheVendorSpellsThem(t *testing.T) {
	want := map[timeprofile.Message]string{
		timeprofile.ErrWrongRepeatType:  "Wrong repeat_type",
		timeprofile.ErrWrongFormat:      "Wrong format enum name",
		timeprofile.ErrWrongPointType:   "Wrong repeat_point_type enum name",
		timeprofile.ErrWrongOptionsEnum: "Wrong repeat_options enum name",
		timeprofile.ErrWrongLooperRange: "Wrong repeat_looper range",
		timeprofile.ErrEmptyWeekOptions: "Set in WeekOptions can't be empty",
		timeprofile.ErrWrongYearRange:   "Wrong year range",
		timeprofile.ErrEmptyYearOptions: "Set in YearOptions can't be empty",
		timeprofile.ErrWrongDayOfMonth:  "Wrong DayOfMonth range",
		timeprofile.ErrWrongMonthsRange: "Wrong months range",
		timeprofile.ErrEmptyDayNumbers:  "Set in dayNumbers can't be empty",
		timeprofile.ErrWrongUID:         "Wrong Time Profile Uid",
	}
	for m, s := range want {
		assert.Equal(t, s, m.Error())
	}
}

// profileJSON builds a repeating profile whose repeat_format is rf.
func profileJSON(rf string) string {
	return `{"name":"p","time_options":{"is_all_day":false,"date_from":1767254400,"date_to":1767265200},
		"repeat_options":{"repeat_enable":true,"repeat_format":` + rf + `}}`
}

func custom(point string, looper int, options string) string {
	b, _ := json.Marshal(looper)
	return `{"repeat_type":"custom","repeat_end":{"format":"never"},"repeat_custom":{"repeat_point_type":"` +
		point + `","repeat_looper":` + string(b) + `,"repeat_options":` + options + `}}`
}

func TestValidate(t *testing.T) {
	ordinal := `{"week_order":"first","day_type":"MON"}`
	tests := []struct {
		name string
		json string
		want error
	}{
		{"daily", profileJSON(`{"repeat_type":"day","repeat_end":{"format":"never"}}`), nil},
		{"custom week", profileJSON(custom("week", 2, `["MON","FRI"]`)), nil},
		{"custom month days", profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[1,15,31]}`)), nil},
		{"custom month ordinal", profileJSON(custom("month", 3, `{"format":"parameterizedDay","range":{"week_order":"last","day_type":"WEEK_DAY"}}`)), nil},
		{"custom year", profileJSON(custom("year", 1, `{"months":[1,12],"range":`+ordinal+`}`)), nil},
		{"custom day", profileJSON(custom("day", 1000, `null`)), nil},
		{"end by date", profileJSON(`{"repeat_type":"week","repeat_end":{"format":"date","date":1798761600}}`), nil},
		{"repeat disabled ignores the format", `{"time_options":{"date_from":10,"date_to":20},"repeat_options":{"repeat_enable":false,"repeat_format":{"repeat_type":"bogus"}}}`, nil},

		{"Wrong repeat_type", profileJSON(`{"repeat_type":"hourly","repeat_end":{"format":"never"}}`), timeprofile.ErrWrongRepeatType},
		{"Wrong format enum name (repeat_end)", profileJSON(`{"repeat_type":"day","repeat_end":{"format":"soon"}}`), timeprofile.ErrWrongFormat},
		{"Wrong format enum name (month)", profileJSON(custom("month", 1, `{"format":"days","range":[1]}`)), timeprofile.ErrWrongFormat},
		{"Wrong repeat_point_type enum name", profileJSON(custom("fortnight", 1, `null`)), timeprofile.ErrWrongPointType},
		{"Wrong repeat_point_type enum name (no custom)", profileJSON(`{"repeat_type":"custom","repeat_end":{"format":"never"}}`), timeprofile.ErrWrongPointType},
		{"Wrong repeat_options enum name (weekday)", profileJSON(custom("week", 1, `["MON","FUN"]`)), timeprofile.ErrWrongOptionsEnum},
		{"Wrong repeat_options enum name (week_order)", profileJSON(custom("month", 1, `{"format":"parameterizedDay","range":{"week_order":"sixth","day_type":"MON"}}`)), timeprofile.ErrWrongOptionsEnum},
		{"Wrong repeat_options enum name (day_type)", profileJSON(custom("year", 1, `{"months":[1],"range":{"week_order":"first","day_type":"HOLIDAY"}}`)), timeprofile.ErrWrongOptionsEnum},
		{"Wrong repeat_options enum name (shape)", profileJSON(custom("month", 1, `["MON"]`)), timeprofile.ErrWrongOptionsEnum},
		{"Wrong repeat_looper range (0)", profileJSON(custom("day", 0, `null`)), timeprofile.ErrWrongLooperRange},
		{"Wrong repeat_looper range (1001)", profileJSON(custom("week", 1001, `["MON"]`)), timeprofile.ErrWrongLooperRange},
		{"Set in WeekOptions can't be empty", profileJSON(custom("week", 1, `[]`)), timeprofile.ErrEmptyWeekOptions},
		{"Wrong year range", profileJSON(custom("year", 1, `{"months":[3]}`)), timeprofile.ErrWrongYearRange},
		{"Set in YearOptions can't be empty", profileJSON(custom("year", 1, `{"months":[],"range":`+ordinal+`}`)), timeprofile.ErrEmptyYearOptions},
		{"Wrong DayOfMonth range (0)", profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[0]}`)), timeprofile.ErrWrongDayOfMonth},
		{"Wrong DayOfMonth range (32)", profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[1,32]}`)), timeprofile.ErrWrongDayOfMonth},
		{"Wrong months range", profileJSON(custom("year", 1, `{"months":[13],"range":`+ordinal+`}`)), timeprofile.ErrWrongMonthsRange},
		{"Set in dayNumbers can't be empty", profileJSON(custom("month", 1, `{"format":"dayNumbers","range":[]}`)), timeprofile.ErrEmptyDayNumbers},

		{"date_to before date_from", `{"time_options":{"date_from":20,"date_to":10}}`, timeprofile.ErrDateOrder},
		{"date_to equal to date_from", `{"time_options":{"date_from":20,"date_to":20}}`, timeprofile.ErrDateOrder},
		{"negative date", `{"time_options":{"date_from":-5,"date_to":20}}`, timeprofile.ErrDateRange},
		{"end date missing", profileJSON(`{"repeat_type":"day","repeat_end":{"format":"date"}}`), timeprofile.ErrEndDateMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p timeprofile.Profile
			require.NoError(t, json.Unmarshal([]byte(tc.json), &p))
			err := p.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.want.Error(), err.Error(), "the message must be exactly the documented one")
		})
	}
}

func TestCompileRefusesMeaninglessProfiles(t *testing.T) {
	tests := []struct {
		name string
		json string
		want error
	}{
		{"end before start", profileJSON(`{"repeat_type":"day","repeat_end":{"format":"date","date":1704067200}}`), timeprofile.ErrEndBeforeStart},
		// 2026-02-01, every 12th month: always February, never a 30th.
		{"never matches", `{"time_options":{"date_from":1769904000,"date_to":1769907600},"repeat_options":{"repeat_enable":true,"repeat_format":` +
			custom("month", 12, `{"format":"dayNumbers","range":[30]}`) + `}}`, timeprofile.ErrNeverRepeats},
		{"window too long", `{"time_options":{"date_from":1767254400,"date_to":1770000000},"repeat_options":{"repeat_enable":true,"repeat_format":{"repeat_type":"year","repeat_end":{"format":"never"}}}}`, timeprofile.ErrWindowTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p timeprofile.Profile
			require.NoError(t, json.Unmarshal([]byte(tc.json), &p))
			_, err := timeprofile.Compile(p, nil)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCheckUID(t *testing.T) {
	require.NoError(t, timeprofile.CheckUID("91c615e3-1040-4815-8ecb-039a18b756b5"))
	require.NoError(t, timeprofile.CheckUID("91C615E3-1040-4815-8ECB-039A18B756B5"))
	for _, bad := range []string{"", "91c615e3", "91c615e3104048158ecb039a18b756b5", "{91c615e3-1040-4815-8ecb-039a18b756b5}",
		"urn:uuid:91c615e3-1040-4815-8ecb-039a18b756b5", "91c615e3-1040-4815-8ecb-039a18b756bz"} {
		err := timeprofile.CheckUID(bad)
		require.ErrorIs(t, err, timeprofile.ErrWrongUID, bad)
		assert.Equal(t, "Wrong Time Profile Uid", err.Error())
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, rf := range []string{
		`{"repeat_type":"day","repeat_end":{"format":"never"}}`,
		`{"repeat_type":"week","repeat_end":{"format":"date","date":1798761600}}`,
		custom("week", 2, `["MON","FRI"]`),
		custom("month", 1, `{"format":"dayNumbers","range":[1,15,31]}`),
		custom("month", 3, `{"format":"parameterizedDay","range":{"week_order":"last","day_type":"WEEK_DAY"}}`),
		custom("year", 2, `{"months":[1,12],"range":{"week_order":"fifth","day_type":"SUN"}}`),
		custom("day", 3, `null`),
	} {
		in := profileJSON(rf)
		var p timeprofile.Profile
		require.NoError(t, json.Unmarshal([]byte(in), &p))
		out, err := json.Marshal(p)
		require.NoError(t, err)
		assert.JSONEq(t, in, string(out))
		var again timeprofile.Profile
		require.NoError(t, json.Unmarshal(out, &again))
		assert.Equal(t, p, again)
	}
}

func TestDecodeWrongShapes(t *testing.T) {
	for _, options := range []string{`"MON"`, `5`, `true`, `{"format":"dayNumbers","range":"1"}`, `["MON",5]`} {
		var p timeprofile.Profile
		err := json.Unmarshal([]byte(profileJSON(custom("week", 1, options))), &p)
		var typeErr *json.UnmarshalTypeError
		assert.True(t, errors.As(err, &typeErr), "options %s: got %v", options, err)
	}
}
