// Package errs holds the one error type the LRS uses to say what went wrong.
//
// Domain packages return *Error with a Kind; the HTTP layer maps each Kind to a
// status code in one table (lrs/errors.go). Any other error reaching the HTTP
// layer is treated as internal: logged, and answered with a 500 whose body
// reveals nothing.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the client can do about it.
type Kind int

const (
	Internal           Kind = iota // a bug or an unavailable dependency
	Invalid                        // the request breaks a rule of the spec (400)
	Unauthorized                   // missing or bad credentials (401)
	Forbidden                      // authenticated but not allowed (403)
	NotFound                       // no such resource (404)
	Conflict                       // clashes with stored data (409)
	PreconditionFailed             // If-Match / If-None-Match did not hold (412)
	TooLarge                       // body over a limit (413)
	UnsupportedMedia               // wrong Content-Type (415)
	TooManyRequests                // rate limited (429)
	Unavailable                    // the store cannot be reached right now (503)
	Timeout                        // the request did not arrive within the time allowed (408)
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found",
	"conflict", "precondition_failed", "too_large", "unsupported_media_type",
	"too_many_requests", "unavailable", "request_timeout"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an error a client can act on.
type Error struct {
	Kind    Kind
	Message string // a sentence a client developer can act on
	Path    string // the JSON path of the offending property, e.g. "actor.mbox", or "[3].verb.id" in a batch
	Rule    string // a short name of the rule broken, e.g. "mbox-format"
	Err     error  // an underlying cause, never shown to clients
}

func (e *Error) Error() string {
	s := e.Message
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error of kind k with a formatted message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalidf builds an Invalid error for the property at path, breaking rule.
func Invalidf(path, rule, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Wrap marks err as internal with a message for the logs.
func Wrap(err error, msg string) *Error {
	return &Error{Kind: Internal, Message: msg, Err: err}
}

// KindOf returns the Kind of err: the Kind of the first *Error in its chain, or
// Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
