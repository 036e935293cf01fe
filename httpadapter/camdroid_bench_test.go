package httpadapter

import (
	"fmt"
	"testing"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/httpadapter/internal/listquery"
)

// BenchmarkCamdroidSort orders 10,000 apartments by floor, then name,
// both descending, as a Camdroid page with order_by does before it cuts the
// page.
func BenchmarkCamdroidSort(b *testing.B) {
	il := itemsLink[access.Apartment]{fields: apartmentFields, field: apartmentField}
	order, err := listquery.ParseOrder("floor, apartment_name desc", []string{"apartment_name", "floor"})
	if err != nil {
		b.Fatal(err)
	}
	items := make([]access.Apartment, 10_000)
	for i := range items {
		items[i].LinkID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		items[i].Name = fmt.Sprintf("flat %d", i*7919%10_000)
		items[i].Address.Floor = i * 31 % 40
	}
	b.ReportAllocs()
	for b.Loop() {
		if out := il.sorted(items, order); len(out) != len(items) {
			b.Fatal(len(out))
		}
	}
}
