// Package secrets turns the operator-provided secret values of a resource ({file: PATH} or
// {age: <armored ciphertext>}) into bytes, in memory only, for the deploy that inserts them
// under the recipe's versioned Swarm name. It also reads the controller's own credential
// files (age identity, API token), refusing those that group or others may read. Its errors
// name the file or say why decryption failed, never any part of a value. It stores, logs and
// prints nothing. It also owns the product's one redaction (Redact): every value it reveals,
// and every generated secret, is remembered in memory so that text leaving the process shows
// it as <redacted:NAME>.
package secrets
