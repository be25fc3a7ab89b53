// Command ccci-controller tests Co-op Cloud recipes on throw-away Swarm stacks and promotes
// long-lived warm apps, driven by RecipeTest and WarmCanonical resource files. main.go only
// wires the subcommands; each subcommand lives in its own file and gets the global options
// (resources and state directories, logger) through globalOptions. This package parses flags
// and prints; it must not hold reconcile logic.
package main
