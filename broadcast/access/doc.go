// Package access decides which frontends may connect to the broadcast
// server and how many: API keys (stored hashed), HS256/RS256 JWTs, per-key
// and per-node connection limits and per-IP/per-key connect rates.
//
// The broadcast handler calls Guard.Admit before upgrading a request. A nil
// error yields a *Ticket that says which matches the connection may follow
// (Ticket.Allowed) and, for a JWT, when it must be closed
// (Ticket.Expires); the handler calls Ticket.Release when the connection
// ends. A refusal is an *Error carrying the HTTP status (401 or 429), a
// stable code and, for rate limits, a Retry-After.
//
// Concurrency: a Guard has no goroutines and needs no Run. Admit, Reload
// and the Ticket methods may be called from any goroutine. Admit does no
// network I/O; at most every 10s one Admit call stats the keys file and, if
// it changed, re-reads it (the others go on with the current keys). State
// (counters, rate buckets, the key list) sits behind small mutexes with no
// I/O held under them.
//
// Secrets: credentials, key hashes and JWT secrets never appear in errors
// or logs. Refusals are logged at debug level with the remote IP, the code
// and, once known, the key name or JWT subject.
//
// docs/access.md is the operator guide: config, keys file format, how
// browsers pass credentials, and the codes a frontend may see.
package access
