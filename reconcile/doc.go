// Package reconcile is the generic engine of a level-based controller, modelled on
// controller-runtime's pkg/reconcile and client-go's workqueue without Kubernetes: sources (a
// directory watch, a ticker, a channel) mark keys dirty, a keyed queue collapses duplicates and
// backs failing keys off exponentially, and a fixed pool of workers calls the Reconciler
// registered for each key's kind, never running one key twice at once. It must not know what a
// key means: nothing here imports api/v1, Docker, git or recipes, and it never parses the files
// it watches (the caller hands DirWatch a parse function).
package reconcile
