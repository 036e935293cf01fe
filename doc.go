// Package lintel is the overview of Lintel, a pure-Go library for the data
// that intercom and access-control panels hold, and for the one question
// asked at the door: may this credential open this lock now?
//
// Panels at apartment-house doors (BAS-IP, 2N and others) hold users,
// identifiers (cards, key fobs, PIN codes, QR codes, licence plates, face
// photos), apartments, KONE lift rules, time profiles and a directory.
// Management systems push that data to them in batches and read back
// per-item results. Lintel models all of it, accepts the vendors' batches
// exactly as they spell them, and keeps the data in a transactional store.
// This package holds no code; the work is done by its sub-packages.
//
// # Packages
//
// They import each other downwards only:
//
//	examples/server ─> httpadapter ─> access, directory ─> journal, timeprofile ─> store
//
// Package face stands apart: access does not link a face detector unless
// the program asks for one, with access/facecheck, as database/sql never
// imports its drivers.
//
// What each one owns:
//
//   - [github.com/lintelhq/lintel/store] is a portable transactional
//     key-value layer with named buckets and ordered keys, over the small
//     backend contract of store/driver (as database/sql over its drivers).
//     Three backends implement it: store/memory, a copy-on-write B-tree for tests and
//     embedded use; store/file, a single bbolt file with one fsync per
//     commit; and store/postgres, for several servers sharing one
//     PostgreSQL database. Every backend passes the one conformance suite
//     in store/storetest.
//   - [github.com/lintelhq/lintel/timeprofile] validates the panel's time
//     profiles with the vendor's own messages, compiles them to an rrule-go
//     rule (the reference) and to a schedule that answers Active(t) by
//     calendar arithmetic, without walking occurrences.
//   - [github.com/lintelhq/lintel/face] decodes base64 face photos within
//     fixed bounds and checks them for a face with the pigo detector;
//     access/facecheck hands it to access as its FaceChecker.
//   - [github.com/lintelhq/lintel/journal] is the durable, bounded event
//     log of decisions and changes that embedders and both APIs read.
//   - [github.com/lintelhq/lintel/access] keeps users, identifiers,
//     apartments, lift rules and time profiles by the management system's
//     link_id, answers batches with the vendor's per-item result codes, and
//     makes the access decision.
//   - [github.com/lintelhq/lintel/device] is what a 2N device keeps
//     besides its directory: its description, switches, I/O, access point
//     blocking, holidays, and 2N's grantaccess decision.
//   - [github.com/lintelhq/lintel/directory] is the 2N directory: entries
//     addressed by dotted field paths, each 2N model's template, a series
//     and a change timestamp for incremental sync, the EDIR_* codes, and
//     2N's card matching.
//   - [github.com/lintelhq/lintel/panel] is the BAS-IP panels a server
//     knows: their remote access secrets and Link passwords (as hashes),
//     their heartbeats, and the logs they push, stored once each.
//   - [github.com/lintelhq/lintel/httpadapter] serves both vendors' HTTP APIs
//     byte for byte on top of access, directory, device and panel: 2N
//     clients, BAS-IP management clients (the Android and the Camdroid path
//     families), and BAS-IP panels themselves (the remote access server and
//     the Link channel); it is optional.
//   - examples/server is the runnable server: go run ./examples/server.
//
// Several Services or Directories may share one store, in one process or
// several: what must agree between them (access's generation counter, the
// directory's series and timestamps, pass counts) lives in the store and
// is read in each transaction, never only in memory.
//
// # Rules that hold in every package
//
// A batch answers every input item, in input order, with one result, which
// may be followed by warnings (success true, such as a user's
// bound_identifier_doesnt_exist for a card that does not exist yet), as the
// vendor's panels do; it runs in one store transaction: either all of its
// accepted items are durable or none is. Validation happens before anything
// is written. Domain errors are values to test with errors.Is and
// errors.As; vendor messages and codes are typed constants spelled as the
// vendor spells them. Everything that comes from outside is bounded: body
// size, list length, string length, image pixels, recurrence expansion.
// Calls that can block take a context.Context first; logging goes through
// log/slog; there is no global state.
package lintel
