// Package listquery parses and evaluates the list-query parameters of the
// BAS-IP panel API: filter and order_by, as the GET list routes such as
// /api/v1/access/identifier/items/link take them, and the filter of
// /api/v1/log/items (whose order_by is only asc or desc by time).
//
// # filter
//
// The vendor documents a filter as
//
//	[field name] [compare operator] [value] <logical operator> ...
//
// A clause compares one field with one value:
//
//	name eq 'Sherlock Holmes'    equal
//	name nq 'Sherlock Holmes'    not equal
//	building gt 10               greater than
//	floor lt 5                   less than
//	floor ge 5                   greater than or equal
//	floor le 10                  less than or equal
//
// Clauses combine with and, or and not, and group with parentheses:
//
//	floor le 10 and floor gt 3
//	floor le 3 or floor gt 10
//	not floor le 3
//	(name eq 'Sherlock Holmes' or building eq 221) and floor gt 10
//
// not binds tightest, then and, then or: "a eq 1 or b eq 2 and c eq 3" is
// "a eq 1 or (b eq 2 and c eq 3)", and "not a eq 1 and b eq 2" is
// "(not a eq 1) and b eq 2". Keywords (and, or, not), compare operators
// and the bool values true and false may be written in any case; field
// names are case-sensitive and must be among the Fields the caller allows.
// A field name is taken as such when a compare operator follows it, even
// if it spells a keyword.
//
// Tokens are separated by blanks (space, tab, CR, LF); parentheses and
// quoted strings need none around them. A value is a single-quoted
// string, with a quote inside doubled; a double-quoted string, likewise; a
// bare integer, optionally signed; or a bare word, taken as a string:
//
//	name eq 'O''Brien'
//	type eq "say ""hi"""
//	floor gt -3
//	type eq card
//
// A bare word runs to the next blank or parenthesis and may not be and, or
// or not (quote those). A quote opens a string only at the start of a
// token, so name eq O'Brien is the bare word O'Brien.
//
// Whatever the spelling, the value must fit the field's Type: a String
// field takes any value as its text ("building eq 221" on a String field
// compares with the string "221"); Integer and Timestamp fields take an
// integer, bare or quoted (a Timestamp in seconds since the Unix epoch);
// Bool fields take true or false. String fields compare bytewise with all
// six operators; Bool fields allow only eq and nq.
//
// A comparison with a field the record lacks, or holds with a value of
// another type, is false, except nq, which is true: "missing nq x" holds,
// like "not missing eq x".
//
// # order_by
//
// The vendor documents order_by as
//
//	[field name 1], [field name 2] ... <order (asc or desc)>
//
// for example "name, floor desc", "created_at asc" or just "desc" (the
// list's default key, descending). The direction applies to every key.
// Order.Compare compares records by the keys in turn; a record that lacks
// a key sorts before one that has it (after, with desc).
//
// # Bounds
//
// Both parameters come from untrusted clients, so the parsers refuse,
// with a *SyntaxError and never a panic or unbounded recursion:
//
//   - a filter longer than MaxFilterLen (1024) bytes, with more than
//     MaxClauses (64) comparisons, or with parentheses nested deeper than
//     MaxDepth (16);
//   - an order_by longer than MaxOrderLen (256) bytes or with more than
//     MaxOrderKeys (8) keys.
//
// Chains of and, or and not are parsed and evaluated iteratively, and the
// parser recurses once per parenthesis, so the stack stays shallow.
//
// # Errors
//
// Every error from ParseFilter and ParseOrder is a *SyntaxError naming the
// parameter, the byte offset and the fault. For example, these filters
// and order_by give these errors:
//
//	flor eq 1            filter: unknown field "flor" at 0
//	created_at gt abc    filter: timestamp field "created_at" compared with "abc", want an integer at 14
//	active gt true       filter: operator gt not allowed for bool field "active" at 7
//	floor le 10 and      filter: missing clause after "and" at 15
//	(floor le 10         filter: unclosed ( at 0
//	name, floor up       order_by: unexpected "up", want a comma, asc, desc, or the end at 12
package listquery
