package thehivetest

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error answered the way TheHive's error handler renders it:
// a JSON object with "type" and "message", plus a few type-specific keys
// ("errors" for AttributeCheckingError, "object" for some CreateErrors).
type apiError struct {
	status  int
	typ     string
	message string
	extra   map[string]any
}

func (e *apiError) Error() string { return e.typ + ": " + e.message }

func (e *apiError) body() map[string]any {
	b := map[string]any{"type": e.typ, "message": e.message}
	for k, v := range e.extra {
		b[k] = v
	}
	return b
}

// errAuthentication is TheHive's answer to missing, malformed or wrong
// credentials and to a locked account.
func errAuthentication() *apiError {
	return &apiError{status: http.StatusUnauthorized, typ: "AuthenticationError", message: "Authentication failure"}
}

// errPermission is the entry point refusal, with TheHive's own wording
// (including its "Your are" typo).
func errPermission(name, perm string) *apiError {
	return &apiError{
		status:  http.StatusForbidden,
		typ:     "AuthorizationError",
		message: fmt.Sprintf("Your are not authorized to %s, you haven't the permission %s", name, perm),
	}
}

func errAuthorization(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, typ: "AuthorizationError", message: msg}
}

// errNotFound renders the message of a traversal's getOrFail: "Case not found".
func errNotFound(label string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "NotFoundError", message: label + " not found"}
}

// errNotFoundName renders the message of a service's getOrFail:
// "ObservableType foo not found".
func errNotFoundName(label, idOrName string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "NotFoundError", message: label + " " + idOrName + " not found"}
}

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "BadRequest", message: fmt.Sprintf(format, args...)}
}

func errCreate(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "CreateError", message: fmt.Sprintf(format, args...)}
}

func errInternal(format string, args ...any) *apiError {
	return &apiError{status: http.StatusInternalServerError, typ: "InternalError", message: fmt.Sprintf(format, args...)}
}

// attrError is one entry of an AttributeCheckingError.
type attrError struct {
	kind     string // MissingAttributeError, InvalidFormatAttributeError, UnknownAttributeError, ...
	name     string
	format   string   // InvalidFormatAttributeError only
	accepted []string // the values an enumeration accepts
	field    string   // the offending value as TheHive prints it
}

func (a attrError) String() string {
	switch a.kind {
	case "MissingAttributeError":
		return "Attribute " + a.name + " is missing"
	case "InvalidFormatAttributeError":
		return fmt.Sprintf("Invalid format for %s: %s, expected %s (%s)", a.name, a.field, a.format, strings.Join(a.accepted, ","))
	case "UnknownAttributeError":
		return "Unknown attribute " + a.name + ": " + a.field
	case "UpdateReadOnlyAttributeError":
		return "Attribute " + a.name + " is read-only"
	default:
		return "Attribute " + a.name + " is not supported"
	}
}

func (a attrError) json() map[string]any {
	m := map[string]any{"name": a.name, "type": a.kind}
	if a.kind == "InvalidFormatAttributeError" {
		m["format"] = a.format
		accepted := make([]any, len(a.accepted))
		for i, v := range a.accepted {
			accepted[i] = v
		}
		m["acceptedInput"] = accepted
		m["field"] = a.field
	}
	if a.kind == "UnknownAttributeError" {
		m["field"] = a.field
	}
	return m
}

// errAttributes is the 400 AttributeCheckingError of TheHive's fields
// parser: the message lists every problem as "[...][...]".
func errAttributes(errs []attrError) *apiError {
	var msg strings.Builder
	list := make([]any, 0, len(errs))
	for _, e := range errs {
		msg.WriteString("[" + e.String() + "]")
		list = append(list, e.json())
	}
	return &apiError{
		status:  http.StatusBadRequest,
		typ:     "AttributeCheckingError",
		message: msg.String(),
		extra:   map[string]any{"errors": list},
	}
}
