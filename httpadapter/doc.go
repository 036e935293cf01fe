// Package httpadapter serves Lintel over HTTP: the panel's link API
// (BAS-IP style) on top of package access and the 2N directory API on top
// of package directory, byte for byte as the vendors document them. It owns
// routing, authentication, body limits, turning decoding errors into the
// vendors' messages, and the envelopes; the business rules are access's and
// directory's. New returns one http.Handler for both, built on
// http.ServeMux patterns.
//
// # Panel link API (/api/v1)
//
// GET /api/v1/login?username=U&password=MD5HEX returns {"token",
// "account_type"}; the MD5 of the password may come in either case. Tokens
// are Bearer tokens that live Limits.TokenTTL (2 hours) and end with POST
// /api/v1/logout. They are kept in this process's memory: several servers
// behind one balancer need sticky sessions (or each client logs in to each).
// An account keeps at most 64 live tokens; a login beyond ends its oldest
// (a client that logs in before every call keeps its newest ones).
//
// Batches are POST <base>/update {"list_items":[...]} and <base>/delete
// {"link_ids":[...]} for users (/api/v1/access/users/link), identifiers
// (/api/v1/access/identifiers/link), time profiles
// (/api/v1/access/timeprofile/link), apartments (/api/v1/apartments/link)
// and KONE lift rules (/api/v1/access/kone/link), and need an admin. Reads,
// GET <base>/{link_id} and GET <base>?after=&limit= (a page of at most
// limit, 1..1000, default 100, and the after of the next page), and our
// decision route POST /api/v1/access/decide
// {"identifier_type","identifier_number","lock":1|2,"at"?} also admit
// managers.
//
// Errors are the vendor's bodies, {"error":"..."}: 400 "Wrong JSON body"
// (no body, not JSON, a top level that is not an object), "Wrong JSON body:
// no value for `list_items[0].name`", "Wrong JSON body: value
// `list_items[3].valid.time.from` was of the wrong type" (the JSON path; a
// wrong element inside a nested list is named by its list), "List cannot be
// empty" and the time-profile and apartment messages, all from package
// access; 401 "Log In"; 403 "Administrator rights required". Ours (see
// Message): 413 for a body over Limits.MaxBodyBytes (16 MiB); 400 "List is
// too long: N, at most M" for a list over Limits.MaxListItems (10,000,
// counted before the items are decoded) or the service's own limit; 404 and
// 405 (with Allow) for unknown paths and methods; 429 with Retry-After for a
// throttled login, or one that came while the server checks as many
// passwords as it may; 500 "Internal error" for a failing store, whose
// cause is logged, not sent.
//
// The Camdroid/Linux panels' path family serves the same batches at
// POST|DELETE /api/v1/access/identifier/items/link, /api/v1/apartment/items/link
// and /api/v1/access/timeprofile/items/link, and their GET pages with the
// vendor's limit, page_number, filter and order_by (see camdroid.go).
// Identifiers carry the uid the service gave them.
//
// # BAS-IP panels as clients (Config.Panels)
//
// POST /api/v1/remote/access?key=SECRET is the remote access server a
// panel asks before it opens ({"identifier_number","identifier_type"} in,
// {"handled","access":{"granted","lock_number"}} out; see remote.go), and
// /api/v0/devices/login|logs|pong|refresh is the Link channel on which a
// panel logs in with its serial and pushes its log (see link.go). Panels
// are package panel's: secrets and passwords are stored as hashes, and
// every answer of the remote access server is journaled.
//
// # 2N directory API (/api/dir)
//
// template (GET, POST), create (PUT, ?force=0|1), update (PUT), delete
// (PUT), get (POST) and query (POST) answer HTTP 200 with
// {"success":true,"result":...} or
// {"success":false,"error":{"code","param","description"}}: code 2 for an
// unknown function and 3 for a wrong
// method (both before authentication), 9 with HTTP 401 and the challenges
// without valid credentials, 10 for a manager asking to change data, 11 and
// 12 for a missing or invalid parameter (param is its JSON path), 13 for a
// body or list over the limits, 14 for a failing store, and 18 with HTTP
// 429 and Retry-After for a throttled client, or one that came while the
// server checks as many passwords as it may. Codes 11 to 14 from package
// directory keep its param and description.
//
// Authentication is HTTP Basic or Digest (RFC 7616, qop=auth, SHA-256 or
// MD5; the 401 offers Digest SHA-256, Digest MD5 and Basic, in that order).
// A nonce carries its time of issue and random bytes, signed with a key of
// the process, and lives Limits.NonceTTL (5 minutes); a right response with
// an expired nonce, or with a nonce count that nonce already used, gets a
// challenge with stale=true, so a captured request cannot be replayed.
// Nonces from before a restart, or from another server, are refused.
// Not supported: the -sess algorithms, userhash, username*, and
// Authentication-Info.
//
// # Accounts and throttling
//
// Accounts authenticates users; StoreAccounts keeps them in the store with
// bcrypt over the MD5 hex of the password and the Digest HA1 values (which
// are password-equivalent for the realm, as in any Digest server).
//
// Failed logins through the panel's login, HTTP Basic and HTTP Digest
// count together, in a sliding window of Limits.LoginWindow (15 minutes),
// under three budgets (see Limits):
//
//   - per user name and client address (IPv6 per /64), LoginFailures (5):
//     only that pair is locked out, so a wrong password for admin from
//     one address does not keep admin out from another, nor other users
//     out from that one;
//   - per client address over all names, LoginAddressFailures (20): an
//     address that sprays many names is refused, not the names;
//   - per user name, LoginUserFailures (20), counted and applied only for
//     the addresses that have not logged in as that user in the last 30
//     days (the last 8, kept in this process's memory): a guess from many
//     addresses gets that many password checks per window, while the user
//     at an address it logged in from is never refused for it. At a new
//     address the user may have to wait for the window while such a guess
//     goes on.
//
// A refused attempt is answered 429 with Retry-After (the 2N API: code 18)
// before its password is checked. The decision and its record are one:
// an attempt takes its place in the budgets before its password is
// checked and gives it back if the password is right (which also clears
// the pair's failures) or could not be checked, so concurrent guesses run
// no more checks than the budgets allow. Tokens already issued keep
// working. Behind a reverse proxy every client has the proxy's address.
//
// Memory is bounded: the throttle keeps at most 65,536 pairs, 65,536
// addresses and 65,536 names, forgetting the least recently used first
// (nobody is refused because a table is full), and 4,096 names that
// logged in, which only successful logins add. A failure is remembered only
// after a password check, and StoreAccounts runs few bcrypt checks at once,
// so flushing a table costs an attacker tens of thousands of checks. (Digest
// checks need no bcrypt and are cheaper; the budgets of names that logged in
// are not in the tables such floods flush.) A user name longer than 256
// bytes is refused without a check or a record: no account has one.
//
// StoreAccounts runs at most half of GOMAXPROCS bcrypt comparisons at once
// (WithHashConcurrency); a check that cannot start one within 500
// milliseconds (WithHashWait), or before its request ends, is ErrBusy,
// answered at once with 429 and Retry-After: 1 ("Too many logins at once,
// try again later"; the 2N API: code 18) and not counted as a failure. A
// right password is remembered for 5 minutes (WithCheckCache, 1,024
// entries) under an HMAC, with a random key of the process, of the user
// name, the MD5 hex and the stored bcrypt hash, so a 2N client that sends
// HTTP Basic with every request pays bcrypt once per 5 minutes, and a
// password changed through any server sharing the store is checked anew.
// Wrong passwords are never remembered.
//
// # Logging and the OpenAPI document
//
// Every request is logged with log/slog at Info: method, path, status,
// duration, client address and, once authenticated, the user name. Bodies
// and query strings are not logged, so neither passwords, tokens, PINs nor
// face photos are.
//
// /openapi.json is the OpenAPI 3.1 document of every route (embedded in the
// binary); the package's tests check every response they receive against
// it with github.com/pb33f/libopenapi-validator.
package httpadapter
