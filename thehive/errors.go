package thehive

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Sentinel errors, matched with errors.Is. An [*APIError] matches the
// sentinels of its status code and of TheHive's error type.
var (
	// ErrNotFound: 404, or TheHive's NotFoundError.
	ErrNotFound = errors.New("thehive: not found")
	// ErrUnauthorized: 401, TheHive's AuthenticationError (missing or wrong
	// credentials).
	ErrUnauthorized = errors.New("thehive: unauthorized")
	// ErrForbidden: 403, TheHive's AuthorizationError (a permission is
	// missing).
	ErrForbidden = errors.New("thehive: forbidden")
	// ErrConflict: 409, or an entity that could not be created because of
	// another one (TheHive's CreateError or ConflictError).
	ErrConflict = errors.New("thehive: conflict")
	// ErrDuplicate: the entity already exists — an alert with the same
	// (type, source, sourceRef), an observable with the same data in the
	// same case or alert, a custom field or template of the same name. Every
	// error matching ErrDuplicate also matches ErrConflict.
	ErrDuplicate = errors.New("thehive: already exists")
	// ErrBadRequest: 400, whatever TheHive's error type (BadRequest,
	// AttributeCheckingError, CreateError, SearchError...).
	ErrBadRequest = errors.New("thehive: bad request")
	// ErrRateLimited: 429.
	ErrRateLimited = errors.New("thehive: rate limited")
	// ErrInvalidParams: the request was refused by the client before
	// anything was sent (a required field is missing, an enum is out of
	// range). The message names the field.
	ErrInvalidParams = errors.New("thehive: invalid parameters")
	// ErrUnknownUser: a user named as assignee does not exist in the
	// organisation. Returned by [CasesService.Assign] wrapped with the
	// server's answer.
	ErrUnknownUser = errors.New("thehive: unknown user")
)

// TheHive error types, as found in [APIError.Type].
const (
	TypeAuthenticationError    = "AuthenticationError"
	TypeAuthorizationError     = "AuthorizationError"
	TypeNotFoundError          = "NotFoundError"
	TypeBadRequest             = "BadRequest"
	TypeCreateError            = "CreateError"
	TypeConflictError          = "ConflictError"
	TypeAttributeCheckingError = "AttributeCheckingError"
	TypeSearchError            = "SearchError"
	TypeInternalError          = "InternalError"
)

// APIError is an answer of TheHive with a non-2xx status, after any
// retries. It never holds a credential.
type APIError struct {
	// StatusCode is the HTTP status of the last response.
	StatusCode int
	// Type is TheHive's error type ("NotFoundError", "CreateError",
	// "AttributeCheckingError"...), empty when the body was not TheHive's
	// JSON error.
	Type string
	// Message is TheHive's error message, or the start of the body when it
	// was not TheHive's JSON error.
	Message string
	// Method and URL identify the request; the URL is redacted.
	Method string
	URL    string
	// RequestID is the server's request id, when it sent one.
	RequestID string
	// RetryAfter is the server's Retry-After (on 429 and 503), or zero.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent.
	Attempts int
	// Body holds up to 64 KiB of the response body, for details such as
	// the "errors" list of an AttributeCheckingError.
	Body []byte
}

// Error implements error: "thehive: POST /api/v1/alert: 400 CreateError:
// Alert ... already exist in organisation ...".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "thehive: %s %s: %d", e.Method, e.URL, e.StatusCode)
	switch {
	case e.Type != "":
		b.WriteString(" " + e.Type)
	default:
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.Type == TypeNotFoundError
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.Type == TypeAuthenticationError
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden || e.Type == TypeAuthorizationError
	case ErrConflict:
		return e.StatusCode == http.StatusConflict || e.Type == TypeCreateError || e.Type == TypeConflictError
	case ErrDuplicate:
		return e.duplicate()
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// Temporary reports whether another try later may succeed: for 408, 429
// and the 5xx answers of an overloaded or restarting server.
func (e *APIError) Temporary() bool { return httpx.TemporaryStatus(e.StatusCode) }

func (e *APIError) duplicate() bool {
	switch {
	case e.StatusCode == http.StatusConflict, e.Type == TypeConflictError:
		return true
	case e.Type == TypeCreateError:
		return isDuplicateMessage(e.Message)
	}
	return false
}

// isDuplicateMessage recognises TheHive's "already exist(s)" messages.
func isDuplicateMessage(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "already exist")
}

// errorBody is TheHive's JSON error.
type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// decodeError turns the plumbing's response error into an *APIError.
func decodeError(re *httpx.ResponseError) error {
	e := &APIError{
		StatusCode: re.StatusCode,
		Method:     re.Method,
		URL:        re.URL,
		RequestID:  re.RequestID,
		RetryAfter: re.RetryAfter,
		Attempts:   re.Attempts,
		Body:       re.Body,
	}
	var eb errorBody
	if err := json.Unmarshal(re.Body, &eb); err == nil && (eb.Type != "" || eb.Message != "") {
		e.Type, e.Message = eb.Type, eb.Message
	} else if s := strings.TrimSpace(string(re.Body)); s != "" {
		e.Message = truncate(strings.Join(strings.Fields(s), " "), 200)
	}
	return e
}

// Failure is one value TheHive refused in a request that created several
// entities at once (observables), while it created the others.
type Failure struct {
	// Type and Message are TheHive's error type and message, e.g.
	// "CreateError", "Observable already exists".
	Type    string `json:"type"`
	Message string `json:"message"`
	// Object is what was refused, as TheHive echoes it (e.g.
	// {"data":"1.2.3.4"}).
	Object json.RawMessage `json:"object,omitempty"`
}

// Duplicate reports whether the value was refused because it already
// exists.
func (f Failure) Duplicate() bool {
	return f.Type == TypeConflictError || (f.Type == TypeCreateError && isDuplicateMessage(f.Message))
}

// PartialError is returned with the created entities when TheHive created
// some of the values of one request and refused others (its 207
// Multi-Status answer).
//
// errors.Is(err, ErrDuplicate) (and ErrConflict) is true when every
// refused value already existed, the usual case when a step is run again:
// then nothing is missing.
type PartialError struct {
	// Method and URL identify the request; the URL is redacted.
	Method string
	URL    string
	// Failures lists the refused values.
	Failures []Failure
}

// Error implements error.
func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "thehive: %s %s: %d value(s) refused", e.Method, e.URL, len(e.Failures))
	for i, f := range e.Failures {
		if i == 3 {
			fmt.Fprintf(&b, "; ...")
			break
		}
		fmt.Fprintf(&b, "; %s: %s", f.Type, f.Message)
		if len(f.Object) > 0 {
			b.WriteString(" " + truncate(string(f.Object), 80))
		}
	}
	return b.String()
}

// Is matches ErrDuplicate and ErrConflict when every failure is a
// duplicate.
func (e *PartialError) Is(target error) bool {
	if target != ErrDuplicate && target != ErrConflict {
		return false
	}
	for _, f := range e.Failures {
		if !f.Duplicate() {
			return false
		}
	}
	return len(e.Failures) > 0
}

// invalid returns an ErrInvalidParams error naming what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
}

// UnknownUserError reports an assignment to a login TheHive does not know.
// It matches [ErrUnknownUser] and unwraps to the server's answer.
type UnknownUserError struct {
	// Login is the user that was named.
	Login string
	// Err is the server's answer to the request that named the user.
	Err error
}

// Error implements error.
func (e *UnknownUserError) Error() string {
	return fmt.Sprintf("thehive: user %q does not exist in the organisation: %v", e.Login, e.Err)
}

// Unwrap returns the server's answer.
func (e *UnknownUserError) Unwrap() error { return e.Err }

// Is matches ErrUnknownUser.
func (e *UnknownUserError) Is(target error) bool { return target == ErrUnknownUser }
