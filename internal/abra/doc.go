// Package abra adopts what abra runs: it reads a server's directory of abra app env files and
// maps each app to a WarmCanonical (name from the app's domain, the stack by abra's own
// stack-name rule, the env minus abra's bookkeeping keys, the version the engine runs) and
// each distinct recipe to a RecipeTest. It reads the env files only — never a secret — and
// writes nothing: the caller prints the resources and says where the versions came from.
package abra
