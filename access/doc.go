// Package access keeps what a panel needs to let people in, users,
// identifiers, apartments, KONE lift rules and time profiles, by the
// link_id a management system gives each, and makes the access decision.
//
// # Batches
//
// A Service answers the batches of the panel's link API: Upsert* and
// Delete* for each entity. Each batch runs in one store transaction, and
// there are two kinds of failure, as on the vendor's panels:
//
//   - Request errors reject the whole batch before anything is written,
//     with an error whose text is exactly the panel's 400 message: a
//     *FieldError ("Wrong JSON body: no value for `list_items[3].name`",
//     "... value `list_items[0].lock_number` was of the wrong type") for a
//     missing field, a wrong type, an invalid value or a number whose format
//     does not fit its type; ErrListEmpty ("List cannot be empty"); an
//     *ItemError carrying a time profile's message ("Wrong repeat_type",
//     "Wrong Time Profile Uid", ...) or an apartment's
//     (ErrWrongLogicalAddress, ErrAddressTaken); ErrTooManyItems.
//   - Business outcomes are per item: a batch returns one or more Results
//     per input item, in input order, whose JSON is the wire form, and one
//     bad item never fails the others. ExtendedInfo has a typed constant for
//     every value the vendor documents, spelled as the vendor spells it
//     ("has_dublicates" included). Each Upsert method's doc lists its codes.
//
// Field names the vendor does not publish are ours: a user refers to its
// apartment, time profiles, identifiers and KONE rule with
// apartment_link_id, time_profile_link_ids, identifier_link_ids and
// kone_rule_link_id, and is_blocked blocks a user.
//
// # Deleting what others refer to
//
// References are kept, never cascaded, and a dangling one never opens a
// door: an identifier or user bound to a deleted time profile is denied
// (TimeProfileMissing) until a profile with that link_id exists again; a
// deleted identifier is an unknown credential even if a user still lists
// it; deleted apartments and lift rules change no decision.
//
// # The decision
//
// Decide answers whether a credential may open a lock at an instant, with a
// Reason, and fails closed. It reads compiled credentials from a cache tied
// to a generation counter in the store, which every write of this package
// increments; so a decision on a known credential decodes no JSON, and
// several Services, in one process or several, on one store see each
// other's changes at their very next decision. Passes are consumed in a
// write transaction, so concurrent decisions never grant more passes than
// there are.
//
// Time profiles are read in the panel's zone (WithLocation, default UTC).
// Face photos are checked with package face before a batch's transaction
// begins (WithFaceChecker to plug another checker).
package access
