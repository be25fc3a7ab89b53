// Package notify owns the optional webhook notifications: it watches the WarmCanonical status
// the controllers write (as a metrics.Observer), turns a change an operator must hear of — tests
// failed, promoted, held, rolled back, recovered — into a JSON event, signs it with HMAC-SHA256
// and posts it to one URL, at most once per object, reason and version, remembering what it
// sent in the state directory so a nightly sweep does not repeat yesterday's alert. It is off
// unless a URL is configured; it must never block or fail the write it watches, and it decides
// nothing about reconciles.
package notify
