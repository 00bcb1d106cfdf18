package ews

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors shared by every connector. Match them with [errors.Is]; the
// errors returned by a Mailbox wrap them together with an [*OpError] that
// names the server, folder and operation.
var (
	// ErrAuth means the server rejected the credentials (IMAP
	// AUTHENTICATIONFAILED, HTTP 401, an OAuth2 token error).
	ErrAuth = errors.New("ews: authentication failed")
	// ErrFolderNotFound means a configured folder does not exist.
	ErrFolderNotFound = errors.New("ews: folder not found")
	// ErrMessageNotFound means the message is no longer where its ID says,
	// for example because it was deleted or moved by someone else.
	ErrMessageNotFound = errors.New("ews: message not found")
	// ErrStale means a message ID can no longer be resolved because the
	// folder was rebuilt (IMAP UIDVALIDITY changed). List the folder again to
	// get fresh IDs; marks already stored on the server are kept.
	ErrStale = errors.New("ews: message id is stale")
	// ErrInvalidID means a MessageID is malformed or belongs to another kind
	// of mailbox.
	ErrInvalidID = errors.New("ews: invalid message id")
	// ErrThrottled means the server asked the client to slow down (EWS
	// ErrorServerBusy, HTTP 429 or 503 with Retry-After) and the wait it asked
	// for did not fit the caller's context or retry budget.
	ErrThrottled = errors.New("ews: server is throttling requests")
	// ErrInvalidConfig means a connector's configuration was rejected before
	// any I/O.
	ErrInvalidConfig = errors.New("ews: invalid configuration")
	// ErrUnsupported means the server lacks a feature the configuration needs,
	// for example an IMAP server that does not store keywords.
	ErrUnsupported = errors.New("ews: not supported by the server")
	// ErrClosed means the Mailbox was closed.
	ErrClosed = errors.New("ews: mailbox closed")
)

// OpError is the error returned by Mailbox methods. It says which server,
// folder and operation failed, and wraps the cause (a sentinel above, a
// [*ServerError], a network error or a context error).
//
// It never contains a password, a token or a query string.
type OpError struct {
	// Protocol is "imap", "ews" or "graph".
	Protocol string
	// Server is the server's host and port (IMAP) or host (EWS, Graph).
	Server string
	// Folder is the configured folder path the operation worked on, or empty.
	Folder string
	// Op is the operation, such as "login", "select", "fetch", "FindItem" or
	// "GET messages".
	Op string
	// Err is the cause.
	Err error
}

// Error returns "ews: <protocol> <server>: folder "<folder>": <op>: <cause>".
func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("ews: ")
	b.WriteString(e.Protocol)
	if e.Server != "" {
		b.WriteByte(' ')
		b.WriteString(e.Server)
	}
	if e.Folder != "" {
		b.WriteString(": folder ")
		b.WriteString(strconv.Quote(e.Folder))
	}
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "ews: "))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// ServerError is a failure that the server reported: an IMAP NO or BAD
// response, an EWS SOAP fault or ResponseCode, or a Graph error body.
// [errors.Is] matches it against the sentinel its code maps to, so
// errors.Is(err, ErrFolderNotFound) holds for an IMAP NONEXISTENT response and
// an EWS ErrorFolderNotFound alike.
type ServerError struct {
	// Code is the server's machine-readable code: the IMAP response code
	// (such as "NONEXISTENT", possibly empty), the EWS ResponseCode or fault
	// code (such as "ErrorServerBusy"), or the Graph error code (such as
	// "ErrorItemNotFound").
	Code string
	// Message is the server's human-readable text.
	Message string
	// StatusCode is the HTTP status for EWS and Graph; 0 for IMAP.
	StatusCode int
	// RetryAfter is how long the server asked the client to wait before
	// retrying (EWS BackOffMilliseconds, HTTP Retry-After), or 0.
	RetryAfter time.Duration
	// Kind is the sentinel this error matches with [errors.Is], or nil.
	Kind error
	// Err is the underlying protocol error, such as an *imap.Error, or nil.
	Err error
}

// Error returns the code, status and the server's text.
func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString("server error")
	if e.StatusCode != 0 {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(" [")
		b.WriteString(e.Code)
		b.WriteByte(']')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying protocol error.
func (e *ServerError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel that e's code maps to.
func (e *ServerError) Is(target error) bool { return e.Kind != nil && target == e.Kind }
