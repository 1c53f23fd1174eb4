package access

import "time"

// Refusal codes, as Error.Code returns them. They are part of the frontend
// protocol (docs/access.md).
const (
	CodeUnauthorized       = "unauthorized"         // 401: no credentials, or an unknown API key
	CodeInvalidToken       = "invalid_token"        // 401: a JWT that is malformed, badly signed, of the wrong algorithm, issuer or audience
	CodeTokenExpired       = "token_expired"        // 401: a JWT past its "exp"
	CodeTooManyConnections = "too_many_connections" // 429: per_key or per_node reached
	CodeRateLimited        = "rate_limited"         // 429: connect_rate exceeded; see RetryAfter
)

// Error is why Admit refused a request. Its message is fixed text that never
// contains a credential.
type Error struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration
}

func refuse(status int, code, msg string) *Error {
	return &Error{status: status, code: code, msg: msg}
}

// Error returns the human-readable reason, e.g. "token has expired".
func (e *Error) Error() string { return e.msg }

// HTTPStatus is the status to answer with: 401 or 429.
func (e *Error) HTTPStatus() int { return e.status }

// Code is the machine-readable reason, one of the Code constants.
func (e *Error) Code() string { return e.code }

// RetryAfter is how long the client should wait before trying again; zero
// when not known. The handler sends it as a Retry-After header, rounded up
// to whole seconds (see RetryAfterSeconds).
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, the value of
// a Retry-After header; 0 means send none.
func (e *Error) RetryAfterSeconds() int {
	if e.retryAfter <= 0 {
		return 0
	}
	return int((e.retryAfter + time.Second - 1) / time.Second)
}

var _ error = (*Error)(nil)
