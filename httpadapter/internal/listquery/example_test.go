package listquery_test

import (
	"errors"
	"fmt"
	"slices"

	"github.com/lintelhq/lintel/httpadapter/internal/listquery"
)

func Example() {
	fields := listquery.Fields{"name": listquery.String, "building": listquery.Integer, "floor": listquery.Integer}
	residents := []listquery.Map{
		{"name": listquery.StringValue("Sherlock Holmes"), "building": listquery.IntValue(221), "floor": listquery.IntValue(12)},
		{"name": listquery.StringValue("John Watson"), "building": listquery.IntValue(221), "floor": listquery.IntValue(2)},
		{"name": listquery.StringValue("James Moriarty"), "building": listquery.IntValue(15), "floor": listquery.IntValue(20)},
	}

	f, err := listquery.ParseFilter("building eq 221 or floor gt 10", fields)
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := listquery.ParseOrder("name, floor desc", []string{"name", "floor"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var page []listquery.Map
	for _, r := range residents {
		if f.Match(r) {
			page = append(page, r)
		}
	}
	slices.SortStableFunc(page, func(a, b listquery.Map) int { return o.Compare(a, b) })
	for _, r := range page {
		fmt.Println(r["name"])
	}

	_, err = listquery.ParseFilter("floor gt abc", fields)
	var se *listquery.SyntaxError
	fmt.Println(err, errors.As(err, &se), se.Pos)
	// Output:
	// Sherlock Holmes
	// John Watson
	// James Moriarty
	// filter: integer field "floor" compared with "abc", want an integer at 9 true 9
}

func ExampleFilter_Equals() {
	fields := listquery.Fields{"link_id": listquery.String, "floor": listquery.Integer}
	f, _ := listquery.ParseFilter("floor gt 3 and link_id eq '91c615e3'", fields)
	fmt.Println(f.Fields())
	fmt.Println(f.Equals("link_id"))
	fmt.Println(f.Equals("floor"))
	// Output:
	// [floor link_id]
	// 91c615e3 true
	//  false
}
