package httpadapter

import _ "embed" // the OpenAPI document

// openAPIDocument is the OpenAPI 3.1 description of every route, served at
// /openapi.json; a test validates real responses against it.
//
//go:embed openapi.json
var openAPIDocument []byte
