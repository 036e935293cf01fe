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
//   - Request errors reject the whole batch before anything is written:
//     an *ItemError for item i of the list, naming the field inside the
//     item that is missing, of the wrong type or invalid (a number whose
//     format does not fit its type, say), or carrying a time profile's
//     message ("Wrong repeat_type", "Wrong Time Profile Uid", ...) or an
//     apartment's (ErrWrongLogicalAddress, ErrAddressTaken); ErrListEmpty
//     ("List cannot be empty"); a *TooManyItemsError. The HTTP adapter
//     turns them into the panel's 400 messages ("Wrong JSON body: no
//     value for `list_items[3].name`"), with the wire path it knows.
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
// No delete, unlink or update opens a door that was shut before it, unless
// the change itself grants (unblocking a user, widening a lock or a
// profile, pushing an identifier). References are kept, never cascaded,
// and a dangling one never opens a door:
//
//   - an identifier or user bound to a deleted time profile is denied
//     (TimeProfileMissing) until a profile with that link_id exists again;
//   - a deleted identifier is an unknown credential even if a user still
//     lists it;
//   - an identifier that loses a user that restricted it (a blocked user,
//     one with a lock_number other than 0, or one with time profiles),
//     because the user is deleted or stops listing it in
//     identifier_link_ids, is denied with OwnerRemoved until the management
//     system pushes the identifier again (UpsertIdentifiers) or a user
//     newly lists it; within one batch a new link wins over a lost one, so
//     a card moved from one user to another in one batch keeps working. A
//     user that restricts nothing (not blocked, lock_number 0, no time
//     profiles) narrows nothing, and losing it changes no decision;
//   - deleted apartments and lift rules change no decision.
//
// # Index keys
//
// Secondary indexes (user names, identifier numbers, owners) are keyed
// with store.Key, which is injective: no name, number or link_id, whatever
// bytes it holds, reaches another's entry. A store written by an older
// layout is re-indexed when New opens it.
//
// # Credential numbers
//
// Numbers are compared in a normal form: cards and key fobs as decimal, or
// as hex byte pairs in upper case with '-' between them ("0a:1B" and
// "0A-1b" are one card); PIN codes as given; QR codes (UUIDs) in lower
// case; licence plates printable UTF-8 of 1 to 100 bytes, outer ASCII spaces
// cut, ASCII letters in upper case, other letters folded only where the
// case pair is one to one ("а"/"А"), so "SIS 123" never matches "ſıſ 123".
//
// # The decision
//
// Decide answers whether a credential may open a Door (1 or 2; anything
// else is ErrInvalidDoor) at an instant, with a Reason, and fails closed;
// Check answers the same without consuming a pass. Both read compiled
// credentials from a cache tied to a generation counter in the store,
// which every write of this package increments; so a decision on a known
// credential decodes no JSON, and
// several Services, in one process or several, on one store see each
// other's changes at their very next decision. A decision that consumes a
// pass reads, checks and consumes in one write transaction, so concurrent
// decisions never grant more passes than there are, and nothing committed
// before it is missed. Pass counts are 0..4294967295; a larger max_passes or
// passes_left is the wrong type, never wrapped.
//
// Time profiles are read in the panel's zone (WithLocation, default UTC).
// Face photos are checked before a batch's transaction begins, by the
// FaceChecker the program gives (WithFaceChecker; package
// access/facecheck wires package face's detector). Without one, face
// identifiers are not supported.
package access
