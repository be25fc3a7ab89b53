// Command probe is the custom-tier image of the security specs: a static binary built FROM
// scratch (hostile.BuildProbeImage) that either checks what a custom tier's container should
// have (the recipe, the app by service name, a writable artifacts directory) or tries what a
// hostile one would (write the recipe, read a host file, reach the Docker socket). It is test
// code and must not be imported.
package main
