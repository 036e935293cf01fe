// Package panel is the BAS-IP panels a Lintel server knows, and the
// credentials with which they call it: the server side of the remote
// access protocol (the panel asks the server whether a card may open the
// door) and of the link management channel (the panel logs in, pongs,
// and pushes its own log). It owns the business rules of these
// functions; it knows nothing of HTTP.
//
// # Panels
//
// A panel is known by its serial: 1 to [MaxSerialBytes] bytes of
// printable ASCII without space (its login on the link channel, and the
// Source of its journal events); it has a name for people, at most
// [MaxNameBytes] bytes of UTF-8. [Registry.Put] creates or renames one,
// [Registry.Remove] deletes it with its credentials, [Registry.Get] and
// [Registry.List] (by serial) read them.
//
// # Remote access secret
//
// A panel sends no user credentials when it asks the server for a
// decision: the server's remote access URL (or a header) carries a secret
// per panel, set by [Registry.SetSecret] ([NewSecret] makes one: 32 random
// bytes in hex). [Registry.PanelBySecret] finds the panel of a secret, on
// the door's critical path, in well under a microsecond on the memory store
// (see BenchmarkPanelBySecret).
//
// Only SHA-256(secret) is stored, with an index from that hash to the
// panel. A fast unsalted hash is the right tool for a secret of high
// entropy (at least 16 bytes are required, NewSecret makes 256 bits):
// a leaked hash cannot be reversed by guessing, and bcrypt's deliberate
// 50 ms would be paid at the door on every request.
//
// # Link channel password and tokens
//
// A panel logs in with its serial and a password ([Registry.SetPassword],
// [MinPasswordBytes] to [MaxPasswordBytes] bytes), stored as a bcrypt hash
// only: a password is chosen by people and may be guessable, so it gets
// the slow hash, which [Registry.Login] pays once per login. A wrong
// password, an unknown serial and a panel without a password all answer
// [ErrBadPassword] after the same bcrypt work (an unknown serial is
// compared with a fixed dummy hash), so serials cannot be probed by timing.
// A login returns a token (32 random bytes in hex), kept in the store as
// SHA-256(token) (a fast hash suffices for 256 random bits, as for the
// secrets) with its panel and expiry (default 24 h), so that every
// server on the store accepts it ([Registry.Authenticate]). Expired tokens
// are deleted lazily (by the Authenticate that finds one, and by the
// panel's next login), and a panel keeps at most [MaxTokensPerPanel]
// tokens, the oldest dropped first, so a panel logging in in a loop cannot
// grow the store. Removing a panel, and setting or removing its password,
// ends its tokens.
//
// # Heartbeat, online and offline
//
// [Registry.Seen] records that a panel called (its pong, about every 10 s,
// its refresh, and every call it authenticated: the adapter calls Seen
// after Authenticate). To keep a pong cheap, Seen writes the store at most
// once per seen interval (default a minute) per panel and keeps the newest
// time in memory; Panel.LastSeen is the newest known, and
// [Registry.Online] says whether it is within the offline delay (default
// 30 s) of now. A panel that comes online (never seen, or recorded
// offline) is written at once, with a journal event of kind journal.Panel
// named [NameOnline]. Offline transitions are found lazily: a program calls
// [Registry.Sweep] periodically (every 10 s, say), which records
// [NameOffline] for each panel whose silence passed the offline delay
// since it came online, once (Sweep is idempotent, also across servers).
// A panel that returns before any Sweep noticed its silence gets both
// events from Seen.
//
// # Several servers on one store
//
// Everything that must be agreed on lives in the store: panels, secret
// hashes, password hashes, tokens, stored heartbeats and the online state.
// Each Registry keeps two things in memory:
//
//   - The panels and their secret hashes, for PanelBySecret (and the
//     existence checks of Seen and PushLogs), tagged with a generation
//     counter in the store that every write of a panel's record moves
//     (Put, Remove, SetSecret, SetPassword). Every lookup reads the
//     counter once (on the memory store without a transaction) and
//     rebuilds the map when it moved. So a secret that was changed or
//     removed, or whose panel was removed, fails on the next call of any
//     Registry once the change has returned.
//   - The last call it saw of each panel, which is newer than the store's
//     by up to the seen interval. Offline detection is exact on the server
//     that saw the newest call. A server that knows only the store waits
//     the offline delay plus the seen interval, so that it never declares
//     offline a panel that is calling another server. This assumes a
//     panel's calls reach one server at a time (a panel is configured with
//     one URL; behind a load balancer, make it sticky): a panel whose pongs
//     alternate between servers may look silent to each of them.
//     Get on a server that does not receive a panel's calls may show a
//     LastSeen up to the seen interval old, and PanelBySecret there the
//     one read when its map was last rebuilt. A panel removed and created
//     again with the same serial starts afresh: what any server remembers
//     of the old one is not carried over.
//
// # Pushed logs
//
// [Registry.PushLogs] takes the events a panel pushes from its own log
// ({"events":[{"created_at","category","code","info"}]}, [PageSize] per push,
// the backlog replayed when the channel is first enabled), up to [MaxPush]
// per call. Every event is validated before anything is written: code 1 to
// [MaxCodeBytes] bytes of [A-Za-z0-9_.-], category at most
// [MaxCategoryBytes] bytes, info at most [MaxInfoBytes] and a JSON object
// (or absent or null), created_at in Unix seconds, or in milliseconds when
// above [MillisAbove] (10^11, which no time in seconds before the year 5138
// reaches and every time in milliseconds after March 1973 does), within
// the journal's range (the year 2242). Each event becomes a journal event
// of kind journal.Panel: Source the serial, Name the code, Entity the
// category, Time the created_at, and Key the hex SHA-256 of the injective
// encoding (store.AppendKeyPart, length-prefixed) of the time in
// milliseconds, the category, the code and the canonical info (keys sorted,
// compact, numbers as written; {} counts as absent). The journal keeps one
// event per (Source, Key), so a backlog replayed twice is stored once, and
// PushLogs returns how many events were new. The events are written with
// journal.AppendTx in the push's own transaction, so they are durable when
// PushLogs returns, before the panel gets its 200. The journal must
// therefore keep its events in the Registry's store.
//
// The info object is not kept: journal.Event has no free-form field, and
// reusing another string field for it would mislead every reader of the
// journal; info may also carry credential numbers, which the journal keeps
// only masked. Info still counts in the key.
//
// # Journal events
//
//	kind            Name                  Source   Entity       Key
//	journal.Panel   the pushed code       serial   category     hex SHA-256
//	journal.Panel   NameOnline/Offline    serial   ""           ""
//	journal.Login   NameFailed            serial   EntityLogin  ""
//
// # Errors
//
// Errors are values: test them with errors.Is. How an adapter answers them:
//
//	ErrNotFound        404 (management); 401 for a panel's own calls
//	ErrInvalidSerial   400
//	ErrInvalidName     400
//	ErrWeakSecret      400  secret or password too short, or a secret another panel has
//	ErrInvalidSecret   400  too long, or not printable ASCII
//	ErrBadSecret       401  remote access: no panel has this secret
//	ErrBadPassword     401  link login: wrong serial or password
//	ErrBadToken        401  link channel: unknown, expired or revoked token
//	ErrTooManyEvents   413  more than MaxPush events
//	ErrInvalidEvent    400  an *EventError says which event and why
//	ErrNoJournal       500  PushLogs without WithJournal
//	ErrInvalidConfig   (Open only)
//	ErrCorrupt         500  a stored record this package cannot read
package panel
