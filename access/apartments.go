package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/lintelhq/lintel/store"
)

// Address is an apartment's logical address.
type Address struct {
	Building int `json:"building"`
	Unit     int `json:"unit"`
	Floor    int `json:"floor"`
	Room     int `json:"room"`
}

// Apartment is a flat with its logical address.
type Apartment struct {
	LinkID    string    `json:"link_id" validate:"required,uuid"`
	Address   Address   `json:"apartment_address"`
	Name      string    `json:"apartment_name" validate:"max=256"`
	Residents Residents `json:"residents"`
}

// Residents says how many people live in an apartment.
type Residents struct {
	Count int `json:"count" validate:"min=0,max=10000"`
}

var apartmentName = regexp.MustCompile(`^\S(.*\S)?$`)

func (a Address) valid() bool {
	return a.Building >= 1 && a.Building <= 9999 && a.Unit >= 0 && a.Unit <= 99 &&
		a.Floor >= 0 && a.Floor <= 98 && a.Room >= 0 && a.Room <= 99
}

func (a Address) key() []byte {
	return fmt.Appendf(nil, "%04d-%02d-%02d-%02d", a.Building, a.Unit, a.Floor, a.Room)
}

// UpsertApartments creates or updates apartments by link_id. An address
// out of range (ErrWrongLogicalAddress), a name with leading or trailing
// space, or an address that another apartment has (ErrAddressTaken)
// rejects the whole batch; nothing is written.
func (s *Service) UpsertApartments(ctx context.Context, apartments []Apartment) ([]Result, error) {
	if err := s.checkBatch(len(apartments)); err != nil {
		return nil, err
	}
	for i := range apartments {
		a := &apartments[i]
		if err := validateItem(s.validate, i, a); err != nil {
			return nil, err
		}
		if !a.Address.valid() {
			return nil, &ItemError{Index: i, Err: ErrWrongLogicalAddress}
		}
		if a.Name != "" && !apartmentName.MatchString(a.Name) {
			return nil, wrongField(i, "apartment_name")
		}
	}
	return s.commit(ctx, "apartments", "upsert", func(tx store.Tx) ([]Result, error) {
		results := make([]Result, 0, len(apartments))
		for i, a := range apartments {
			old, found, err := getJSON[Apartment](tx, bucketApartments, a.LinkID)
			if err != nil {
				return nil, err
			}
			holder, err := tx.Get(bucketAddresses, a.Address.key())
			switch {
			case err == nil && string(holder) != a.LinkID:
				return nil, &ItemError{Index: i, Err: ErrAddressTaken} // rolls the batch back
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			if found {
				if err := tx.Delete(bucketAddresses, old.Address.key()); err != nil {
					return nil, err
				}
			}
			if err := tx.Put(bucketAddresses, a.Address.key(), []byte(a.LinkID)); err != nil {
				return nil, err
			}
			if err := putJSON(tx, bucketApartments, a.LinkID, a); err != nil {
				return nil, err
			}
			info := Created
			if found {
				info = Updated
			}
			results = append(results, Result{LinkID: a.LinkID, Success: true, ExtendedInfo: info})
		}
		return results, nil
	})
}

// DeleteApartments deletes apartments by link_id. Users and identifiers
// bound to one keep the reference, which changes no decision.
func (s *Service) DeleteApartments(ctx context.Context, linkIDs []string) ([]Result, error) {
	return s.deleteBatch(ctx, "apartments", bucketApartments, linkIDs, func() deleteHooks {
		return deleteHooks{each: func(tx store.Tx, id string, stored []byte) error {
			a, err := decodeRecord[Apartment](bucketApartments, []byte(id), stored)
			if err != nil {
				return err
			}
			return tx.Delete(bucketAddresses, a.Address.key())
		}}
	})
}

// GetApartment returns the apartment with linkID, or ErrNotFound.
func (s *Service) GetApartment(ctx context.Context, linkID string) (Apartment, error) {
	return get[Apartment](ctx, s, bucketApartments, linkID)
}

// ListApartments returns a page of apartments in link_id order.
func (s *Service) ListApartments(ctx context.Context, p Page) ([]Apartment, string, error) {
	return list[Apartment](ctx, s, bucketApartments, p)
}
