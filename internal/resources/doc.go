// Package resources reads resource files and directory trees into api/v1 objects: it walks
// directories for *.yaml and *.yml files (skipping hidden directories and editor temp files),
// bounds file sizes, reports the same object defined in two files, and keeps loading past bad
// files so that one mistake never hides the other objects. It gives the directory watcher a
// content digest per object. It parses through api/v1 and must not interpret the objects.
package resources
