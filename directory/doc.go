// Package directory is a 2N-style directory: entries of people and
// devices with dotted field paths, a series and change timestamps for
// incremental sync, and the EDIR_* error codes, kept in a store.
//
// Entries follow the template of the 2N HTTP API (uuid, owner, name,
// email, callPos[3], access{pin, card[2], code[4], accessPoints[2], ...}).
// A Model says which fields a device has: ModelFor maps the firmwarePackage
// a 2N device reports (vario, style, base, uni, verso, accessunit, ipone,
// videokit, audiokit, and their aliases) to the fields of its template, and
// VersoModel is the default. A field the model lacks, or an index past its
// length of an array (access.code[2] on a base), is EDIR_FIELD_NOT_AVAILABLE
// in a write and never shows in Get, Query or Template; what a store holds
// from another model stays stored, unseen. Each field has a canonical path and a value rule (PIN digits 2..15,
// switch codes digits 2..16, validity as unix seconds, e-mail, card numbers
// in hex, text length); an entry object may address fields nested
// ({"access":{"pin":"1234"}}), dotted ({"access.pin":"1234"}) or indexed
// ({"callPos[1].grouped":true}).
//
// Create, Update and Delete take the request's entries and answer, per
// entry and in order, {uuid, timestamp} or {uuid, errors}: one bad field
// rejects its whole entry, and the entry's errors list every problem
// (EDIR_FIELD_NAME_UNKNOWN, EDIR_FIELD_NOT_AVAILABLE, EDIR_FIELD_VALUE_ERROR
// with the field's path; EDIR_UUID_* for the uuid). Results echo the uuid as
// the request spelled it; uuids compare without regard to case and are
// stored and listed in upper case. The all-zero uuid is reserved. A
// failure of the whole request is a *RequestError carrying the 2N API's
// numeric code; nothing of such a request is written.
//
// Every change takes the next timestamp of the directory's series, a
// counter kept in the store with the series (made when the directory is
// first opened). Deleted entries stay as tombstones so that a syncing
// client sees them; Query since a timestamp reads a change index, so its
// cost follows the changes returned, not the size of the directory. Since
// the counters live in the store and are read in each transaction, several
// Directory values on one store (in several processes, on a shared
// database) hand out one strictly increasing, gap-free sequence.
//
// Get and Query without fields show an entry's fields in the order they
// were written, as 2N devices do: a field an update sets again keeps its
// place, a new one comes last. Entries are stored as compact binary
// records that keep that order and that Get and Query turn into JSON
// without building a map; records that earlier versions stored as JSON are
// still read, in template order, and rewritten by their next change.
//
// Results marshal to the wire shape of the 2N API with encoding/json, so
// an HTTP layer only wraps them in {"success":true,"result":...}.
//
// At the door, FindCard finds the entry that holds a card, and CheckAccess
// answers 2N's grantaccess question for an entry and an access point.
// Card ids match as 2N devices match them (CardsMatch): without regard to
// case, whole when their lengths are equal, and otherwise from the end, in
// at least 6 characters. FindCard reads an index of cards by their last 6
// characters, kept in the transaction of every change (and built when a
// store written before it is opened), so its cost does not grow with the
// directory; when several entries match and not exactly one of them
// exactly, it fails closed with ErrAmbiguousCard. CheckAccess refuses with
// 2N's reasons (invalidAp, invalidCredential) outside the entry's
// validFrom..validTo (both included), at a disabled access point, and,
// failing closed, at one restricted by time profiles, which are device
// configuration the directory does not hold.
//
// A Go program need not write that JSON: an Entry sets and gets fields by
// the same dotted paths, answering with the same EDIR codes (as errors),
// and CreateEntries, UpdateEntries, Entry and QueryEntries take and return
// entries.
package directory
