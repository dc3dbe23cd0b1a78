package seserr

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// UnparsableBody: a v2 request body that is not JSON, or not of the
// operation's shape. The client is told which member is wrong and what it
// must be, in the API's own member names; Go's decoder's text (which names
// sesame's Go types) goes to the log only. A TemplateData sent as an object
// — the AWS SDK for JavaScript passes one through unchanged — is told that
// it must be the data as JSON text.
func UnparsableBody(err error) *Error {
	const prefix = "Could not parse the request body: "
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var msg string
	switch {
	case errors.As(err, &syntax):
		msg = fmt.Sprintf("%sit is not valid JSON (at byte %d).", prefix, syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		msg = fmt.Sprintf("%sit must be a JSON object, not %s.", prefix, jsonValueKind(typ.Value))
	case errors.As(err, &typ):
		want := goKind(typ.Type)
		if strings.HasSuffix(typ.Field, "TemplateData") && want == "a string" {
			want = "a string (the data as JSON text)"
		}
		msg = fmt.Sprintf("%s%s must be %s, not %s.", prefix, typ.Field, want, jsonValueKind(typ.Value))
	default:
		msg = "Could not parse the request body."
	}
	return BadRequest(msg).Wrap(err)
}

// jsonValueKind names the JSON value Go's decoder found ("object",
// "array", "number", "number 1.5", "string", "bool").
func jsonValueKind(v string) string {
	switch {
	case v == "object":
		return "an object"
	case v == "array":
		return "a list"
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return v
}

// goKind names what a member of type t must be in JSON.
func goKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value of another type"
}
