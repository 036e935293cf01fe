package timeprofile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Profile is a time profile as the panel's API carries it. It is a plain
// struct with no JSON methods of its own, so other packages can embed it in
// their wire types (adding a link_id, say).
type Profile struct {
	Name          string        `json:"name"`
	TimeOptions   TimeOptions   `json:"time_options"`
	RepeatOptions RepeatOptions `json:"repeat_options"`
}

// TimeOptions is the first window of the profile. DateFrom and DateTo are
// unix seconds: the first window is [DateFrom, DateTo) as instants (whole
// days with IsAllDay), and its repetitions take the wall-clock reading of
// both in the panel's zone (see Compile).
type TimeOptions struct {
	IsAllDay bool  `json:"is_all_day"`
	DateFrom int64 `json:"date_from"`
	DateTo   int64 `json:"date_to"`
}

// RepeatOptions says whether and how the first window repeats.
type RepeatOptions struct {
	RepeatEnable bool         `json:"repeat_enable"`
	RepeatFormat RepeatFormat `json:"repeat_format"`
}

// RepeatFormat is the recurrence: a repeat type, an end and, for the custom
// type, the custom rule.
type RepeatFormat struct {
	RepeatType   RepeatType    `json:"repeat_type"`
	RepeatEnd    RepeatEnd     `json:"repeat_end"`
	RepeatCustom *RepeatCustom `json:"repeat_custom,omitempty"`
}

// RepeatEnd ends the recurrence never, or after the day of Date (unix
// seconds) in the panel's zone.
type RepeatEnd struct {
	Format EndFormat `json:"format"`
	Date   int64     `json:"date,omitempty"`
}

// RepeatCustom repeats every RepeatLooper units of RepeatPointType,
// restricted by RepeatOptions.
type RepeatCustom struct {
	RepeatPointType PointType     `json:"repeat_point_type"`
	RepeatLooper    int           `json:"repeat_looper"`
	RepeatOptions   CustomOptions `json:"repeat_options"`
}

// RepeatType is repeat_format.repeat_type.
type RepeatType string

// The repeat types of the panel's API.
const (
	RepeatDay        RepeatType = "day"
	RepeatWeek       RepeatType = "week"
	RepeatTwoWeeks   RepeatType = "twoWeeks"
	RepeatMonth      RepeatType = "month"
	RepeatYear       RepeatType = "year"
	RepeatCustomType RepeatType = "custom"
)

// EndFormat is repeat_end.format.
type EndFormat string

// The repeat_end formats.
const (
	EndNever EndFormat = "never"
	EndDate  EndFormat = "date"
)

// PointType is repeat_custom.repeat_point_type, the unit of repeat_looper.
type PointType string

// The units of a custom repetition.
const (
	PointDay   PointType = "day"
	PointWeek  PointType = "week"
	PointMonth PointType = "month"
	PointYear  PointType = "year"
)

// Weekday is a day name of the week form and of day_type.
type Weekday string

// The day names of the panel's API.
const (
	MON Weekday = "MON"
	TUE Weekday = "TUE"
	WED Weekday = "WED"
	THU Weekday = "THU"
	FRI Weekday = "FRI"
	SAT Weekday = "SAT"
	SUN Weekday = "SUN"
)

// MonthFormat is the format of the month form.
type MonthFormat string

// The month form's formats.
const (
	DayNumbers       MonthFormat = "dayNumbers"
	ParameterizedDay MonthFormat = "parameterizedDay"
)

// WeekOrder picks one of the days of a kind in a month.
type WeekOrder string

// The week orders.
const (
	First  WeekOrder = "first"
	Second WeekOrder = "second"
	Third  WeekOrder = "third"
	Fourth WeekOrder = "fourth"
	Fifth  WeekOrder = "fifth"
	Last   WeekOrder = "last"
)

// DayType is a weekday name (MON..SUN) or one of these two kinds of day.
type DayType string

// The kinds of day beside the weekday names.
const (
	WeekDay DayType = "WEEK_DAY" // Monday to Friday
	DayOff  DayType = "DAY_OFF"  // Saturday and Sunday
)

// OrdinalDay is "the WeekOrder DayType of the month", for example the last
// FRI, or the first WEEK_DAY.
type OrdinalDay struct {
	WeekOrder WeekOrder `json:"week_order"`
	DayType   DayType   `json:"day_type"`
}

// MonthOptions is the month form of repeat_options: listed days of the
// month (DayNumbers, JSON "range":[1,15]) or one ordinal day (Day, JSON
// "range":{"week_order":"first","day_type":"MON"}).
type MonthOptions struct {
	Format     MonthFormat
	DayNumbers []int
	Day        *OrdinalDay
}

// YearOptions is the year form of repeat_options: an ordinal day in each of
// the listed months.
type YearOptions struct {
	Months []int       `json:"months"`
	Range  *OrdinalDay `json:"range"`
}

// CustomOptions is repeat_custom.repeat_options, which the wire carries in
// one of three shapes; exactly one field is set after decoding (none for
// JSON null or an absent value):
//
//	["MON","WED"]                                                  Weekdays (week form)
//	{"format":"dayNumbers","range":[1,15]}                         Month
//	{"format":"parameterizedDay","range":{"week_order":...,"day_type":...}}  Month
//	{"months":[1,7],"range":{"week_order":...,"day_type":...}}     Year
type CustomOptions struct {
	Weekdays []Weekday
	Month    *MonthOptions
	Year     *YearOptions
}

// UnmarshalJSON decodes any of the three shapes.
func (o *CustomOptions) UnmarshalJSON(data []byte) error {
	*o = CustomOptions{}
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		return nil
	case data[0] == '[':
		return json.Unmarshal(data, &o.Weekdays)
	case data[0] == '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(data, &probe); err != nil {
			return err
		}
		if _, ok := probe["months"]; ok {
			o.Year = new(YearOptions)
			return json.Unmarshal(data, o.Year)
		}
		o.Month = new(MonthOptions)
		return o.Month.UnmarshalJSON(data)
	}
	return &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[CustomOptions]()}
}

// MarshalJSON encodes the shape that is set, or null.
func (o CustomOptions) MarshalJSON() ([]byte, error) {
	switch {
	case o.Weekdays != nil:
		return json.Marshal(o.Weekdays)
	case o.Month != nil:
		return json.Marshal(o.Month)
	case o.Year != nil:
		return json.Marshal(o.Year)
	}
	return []byte("null"), nil
}

type monthWire struct {
	Format MonthFormat     `json:"format"`
	Range  json.RawMessage `json:"range,omitempty"`
}

// UnmarshalJSON decodes {"format":..., "range": [days] | {ordinal day}}.
func (m *MonthOptions) UnmarshalJSON(data []byte) error {
	var w monthWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = MonthOptions{Format: w.Format}
	r := bytes.TrimSpace(w.Range)
	switch {
	case len(r) == 0 || string(r) == "null":
		return nil
	case r[0] == '[':
		return json.Unmarshal(r, &m.DayNumbers)
	case r[0] == '{':
		m.Day = new(OrdinalDay)
		return json.Unmarshal(r, m.Day)
	}
	return &json.UnmarshalTypeError{Value: jsonKind(r), Type: reflect.TypeFor[MonthOptions](), Field: "range"}
}

// MarshalJSON encodes the month form with its range.
func (m MonthOptions) MarshalJSON() ([]byte, error) {
	w := monthWire{Format: m.Format}
	var err error
	switch {
	case m.DayNumbers != nil:
		w.Range, err = json.Marshal(m.DayNumbers)
	case m.Day != nil:
		w.Range, err = json.Marshal(m.Day)
	}
	if err != nil {
		return nil, fmt.Errorf("timeprofile: month range: %w", err)
	}
	return json.Marshal(w)
}

// jsonKind names the kind of a JSON value the way encoding/json's type
// errors do.
func jsonKind(data []byte) string {
	switch data[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}
