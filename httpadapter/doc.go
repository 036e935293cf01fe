// Package httpadapter serves Lintel over HTTP: the panel's link API
// (BAS-IP style) on top of package access and the 2N directory API on top
// of package directory, byte for byte as the vendors document them. It is
// optional: everything it does is also a plain Go call.
//
// # Panel link API (/api/v1)
//
// GET /api/v1/login?username=U&password=MD5HEX returns {"token",
// "account_type"}; the MD5 of the password may come in either case. Tokens
// are Bearer tokens that live Limits.TokenTTL (2 hours) and end with POST
// /api/v1/logout. They are kept in this process's memory: several servers
// behind one balancer need sticky sessions. Failed logins are throttled per
// user name and per client address (429 after Limits.LoginFailures within
// Limits.LoginWindow).
//
// Batches are POST <entity>/link/update {"list_items":[...]} and
// <entity>/link/delete {"link_ids":[...]} for users
// (/api/v1/access/users), identifiers (/api/v1/access/identifiers), time
// profiles (/api/v1/access/timeprofile), apartments (/api/v1/apartments)
// and KONE lift rules (/api/v1/access/kone); they need an admin account.
// Reads, GET <entity>/link/{link_id} and GET <entity>/link?after=&limit=,
// and our decision route POST /api/v1/access/decide
// {"identifier_type","identifier_number","lock","at"} also admit managers.
// Errors are the vendor's bodies: 400 {"error":"Wrong JSON body"} (no body,
// not JSON, wrong top-level type), "Wrong JSON body: no value for
// `list_items[0].name`", "... value `list_items[0].valid.time.from` was of
// the wrong type", "List cannot be empty", the time-profile messages;
// 401 {"error":"Log In"}; 403 {"error":"Administrator rights required"};
// 413 for a body over Limits.MaxBodyBytes (16 MiB).
//
// # 2N directory API (/api/dir)
//
// template (GET, POST), create (PUT, ?force=0|1), update (PUT), delete
// (PUT), get (POST) and query (POST) answer {"success":true,"result":...}
// or {"success":false,"error":{"code","param","description"}}: code 2 for
// an unknown function, 3 for a wrong method, 9 (HTTP 401, with Digest
// SHA-256, Digest MD5 and Basic challenges) without valid credentials, 10
// for a manager asking to change data, 11/12/13/14 for the request's
// parameters. Digest follows RFC 7616 with qop=auth; its nonces are signed
// timestamps valid for Limits.NonceTTL, so the server keeps no nonce state
// (and does not track nonce counts: a captured request can be replayed
// within that window).
//
// /openapi.json is the OpenAPI 3.1 document of every route; the tests
// check every response they receive against it.
package httpadapter
