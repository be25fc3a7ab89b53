package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SignatureHeader carries the HMAC-SHA256 of the request body, keyed with the token:
// "sha256=<hex>", as Gitea, GitHub and Drone webhooks sign theirs.
const SignatureHeader = "X-Signature"

// signaturePrefix starts the value of SignatureHeader.
const signaturePrefix = "sha256="

// Sign returns the SignatureHeader value of body under key.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// authenticatedBody reads the body of a trigger within maxBody and checks the caller: a bearer
// token equal to the server's, or a signature of the body keyed with it. It returns the body,
// or an HTTP status and message; a server without a token takes every caller (it listens on
// loopback only). Secrets are compared in constant time.
func (s *Server) authenticatedBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	token := s.opts.Token
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sig, hasSig := r.Header[http.CanonicalHeaderKey(SignatureHeader)]
	if token != "" {
		switch {
		case hasBearer:
			if subtle.ConstantTimeCompare([]byte(bearer), []byte(token)) != 1 {
				return nil, http.StatusForbidden, "wrong token"
			}
		case hasSig:
			// Checked below, once the body is read.
		default:
			return nil, http.StatusUnauthorized, "missing credentials (valid: Authorization: Bearer <token>, or " + SignatureHeader + ": sha256=<hex HMAC-SHA256 of the body>)"
		}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, http.StatusUnsupportedMediaType, "content type must be application/json"
	}
	if r.ContentLength > maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", maxBody)
	case err != nil:
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	}
	if token != "" && !hasBearer {
		if code, msg := checkSignature(token, sig[0], body); code != 0 {
			return nil, code, msg
		}
	}
	return body, 0, ""
}

// checkSignature compares a SignatureHeader value with the signature of body.
func checkSignature(key, header string, body []byte) (int, string) {
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	got, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(got) != sha256.Size {
		return http.StatusUnauthorized, "malformed " + SignatureHeader + " (valid: sha256=<64 hex digits>)"
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Sign(key, body), signaturePrefix))
	if !hmac.Equal(got, want) {
		return http.StatusForbidden, "wrong signature"
	}
	return 0, ""
}
