package qradar

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Sentinel errors. An *APIError matches the first ones through errors.Is,
// by its HTTP status and QRadar code; the others come from the client.
var (
	// ErrUnauthorized: missing or refused credentials (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the credentials lack a capability (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such object (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request conflicts with the object's state (409),
	// for example changing the status of a closed offense.
	ErrConflict = errors.New("conflict")
	// ErrInvalidRequest: QRadar refused a parameter (400 or 422).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidFilter: QRadar refused a filter (422, code 1010); it also
	// matches ErrInvalidRequest.
	ErrInvalidFilter = errors.New("invalid filter")
	// ErrInvalidAQL: QRadar refused an AQL query (422, code 2000); it also
	// matches ErrInvalidRequest.
	ErrInvalidAQL = errors.New("invalid AQL")
	// ErrUnsupportedVersion: the console does not serve the API version
	// asked for in the Version header; see WithVersion.
	ErrUnsupportedVersion = errors.New("unsupported API version")
	// ErrServer: the console failed (5xx).
	ErrServer = errors.New("server error")

	// ErrInvalidParams: the client refused the arguments before sending
	// anything.
	ErrInvalidParams = errors.New("invalid parameters")
	// ErrAlreadyClosed: the offense to close is already closed.
	ErrAlreadyClosed = errors.New("offense already closed")
	// ErrSearchFailed: an Ariel search ended in status ERROR.
	ErrSearchFailed = errors.New("search failed")
	// ErrSearchCanceled: an Ariel search ended in status CANCELED.
	ErrSearchCanceled = errors.New("search canceled")
	// ErrSearchTimeout: an Ariel search did not end within the wait's
	// timeout.
	ErrSearchTimeout = errors.New("search timed out")
)

// APIError is an answer of the console with a status other than 2xx. It
// holds QRadar's error body: the HTTP status, QRadar's own code (1002 for
// an unknown offense, 1005 for a bad parameter...), message and
// description.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is QRadar's error code, or 0 when the body was not QRadar's.
	Code int
	// Message is QRadar's message about this request.
	Message string
	// Description is QRadar's general description of Code (often empty).
	Description string
	// HTTPMessage is http_response.message, QRadar's text for the status.
	HTTPMessage string
	// Details is the error's details object, usually empty.
	Details json.RawMessage
	// Method and URL identify the request; the URL holds no credential.
	Method string
	URL    string
	// RequestID is the console's request id, when it sent one.
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
	// Body is the start of an answer that was not QRadar's JSON error body
	// (a proxy's or web server's page); nil otherwise.
	Body []byte
}

// Temporary reports whether another try later may succeed: 408, 429 and
// the 5xx answers of a loaded or restarting console. Workflows retry such
// errors.
func (e *APIError) Temporary() bool { return httpx.TemporaryStatus(e.StatusCode) }

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "qradar: %s %s: %d", e.Method, e.URL, e.StatusCode)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(e.Message)
	case e.Description != "":
		b.WriteString(": ")
		b.WriteString(e.Description)
	case e.HTTPMessage != "":
		b.WriteString(": ")
		b.WriteString(e.HTTPMessage)
	case e.Body != nil:
		b.WriteString(": answer is not a QRadar error body")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is maps the error to the sentinels by status and code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == 401
	case ErrForbidden:
		return e.StatusCode == 403
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrConflict:
		return e.StatusCode == 409
	case ErrInvalidRequest:
		return e.StatusCode == 400 || e.StatusCode == 422
	case ErrInvalidFilter:
		return e.StatusCode == 422 && e.Code == 1010
	case ErrInvalidAQL:
		return e.StatusCode == 422 && e.Code == 2000
	case ErrUnsupportedVersion:
		return e.StatusCode == 422 && strings.Contains(e.Message, "header parameter (Version)")
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

type errorBody struct {
	HTTPResponse *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"http_response"`
	Code        int             `json:"code"`
	Message     string          `json:"message"`
	Description string          `json:"description"`
	Details     json.RawMessage `json:"details"`
}

// maxForeignBody is how much of a non-QRadar error body is kept.
const maxForeignBody = 512

// decodeError is the httpx DecodeError hook.
func decodeError(re *httpx.ResponseError) error {
	e := &APIError{
		StatusCode: re.StatusCode,
		Method:     re.Method,
		URL:        re.URL,
		RequestID:  re.RequestID,
		Attempts:   re.Attempts,
	}
	var body errorBody
	if err := json.Unmarshal(re.Body, &body); err == nil && (body.HTTPResponse != nil || body.Message != "" || body.Code != 0) {
		e.Code = body.Code
		e.Message = body.Message
		e.Description = body.Description
		e.Details = body.Details
		if body.HTTPResponse != nil {
			e.HTTPMessage = body.HTTPResponse.Message
		}
		return e
	}
	if len(re.Body) > 0 {
		e.Body = append([]byte(nil), re.Body[:min(len(re.Body), maxForeignBody)]...)
	}
	return e
}

// invalidParams returns an ErrInvalidParams error.
func invalidParams(format string, args ...any) error {
	return fmt.Errorf("qradar: %w: %s", ErrInvalidParams, fmt.Sprintf(format, args...))
}
