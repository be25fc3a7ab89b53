// Package corpus holds the tests that point the controller at eleven public recipes nobody on
// this project wrote (shared/corpus/recipes beside the repository, or CCCI_RECIPE_CORPUS): their
// compose files load exactly as `docker stack config` loads them, and their lint verdicts and
// backup plans are what was derived by hand from the recipes and the Co-op Cloud backup spec.
// It has no code of its own besides the tests.
package corpus
