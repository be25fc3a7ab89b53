#!/usr/bin/env bash
# Runs every package's tests (unit and integration, build tag `integration`) with the long pole,
# test/integration, split in two halves run side by side: the suite waits on Swarm far more than
# it computes, so two halves on one engine take about half the wall-clock on 2 cores.
#
# The halves are chosen by spec file: INTEGRATION_HALF_A is a regular expression over the file
# names of test/integration; half A runs the files it matches (-ginkgo.focus-file), half B every
# other file (-ginkgo.skip-file with the same expression), so a new spec file always runs in one
# of them. Each half is its own suite run with its own suite label, so their objects never mix.
#
# Output of each job is prefixed with its name; the script exits non-zero if any job failed and
# names the jobs that did.
set -uo pipefail

cd "$(dirname "$0")/.."

GO=${GO:-go}
TEST_TIMEOUT=${TEST_TIMEOUT:-30m}
TEST_FLAGS=${TEST_FLAGS:-}
# Balanced by the specs' measured durations (see the Makefile's test target).
INTEGRATION_HALF_A=${INTEGRATION_HALF_A:-'/(controllers|soak|apply|plan|operator_surface|sample_app|dashboard|moved_tag|one_way_in|junit|badges|import_abra|contrib_metrics|unschedulable|custom_container|resource_files|readme_commands)_test\.go'}

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

echo "test-parallel: building the test/integration suite once for both halves" >&2
# shellcheck disable=SC2086
if ! $GO test -tags integration -c -o "$bin/integration.test" $TEST_FLAGS ./test/integration/; then
  echo "test-parallel: test/integration does not build" >&2
  exit 1
fi

others=$($GO list -tags integration ./... | grep -v '/test/integration$')

# Compile every other package's tests first (-run '^$' runs none of them): compiling on both
# cores while the halves' first specs wait on 1-minute convergence timeouts starves the sample
# app's healthchecks.
echo "test-parallel: building the other packages' tests" >&2
# shellcheck disable=SC2086
if ! $GO test -tags integration -count=1 -run '^$' $TEST_FLAGS $others >/dev/null; then
  echo "test-parallel: a package's tests do not build" >&2
  $GO test -tags integration -count=1 -run '^$' $TEST_FLAGS $others 2>&1 | grep -v '^ok ' >&2
  exit 1
fi

names=()
pids=()
start() { # start NAME COMMAND...: run in the background, every line prefixed with [NAME]
  local name=$1
  shift
  ( "$@" 2>&1 | sed -u "s/^/[$name] /" ) &
  names+=("$name")
  pids+=($!)
}

# -p 1: one package at a time beside the two halves keeps three test processes on 2 cores; the
# other packages together take less time than one half.
# shellcheck disable=SC2086
start packages $GO test -p 1 -tags integration -count=1 -timeout "$TEST_TIMEOUT" $TEST_FLAGS $others
start integration-a bash -c 'cd test/integration && exec "$0" -test.count=1 -test.timeout="$1" -ginkgo.focus-file="$2"' \
  "$bin/integration.test" "$TEST_TIMEOUT" "$INTEGRATION_HALF_A"
start integration-b bash -c 'cd test/integration && exec "$0" -test.count=1 -test.timeout="$1" -ginkgo.skip-file="$2"' \
  "$bin/integration.test" "$TEST_TIMEOUT" "$INTEGRATION_HALF_A"

failed=()
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failed+=("${names[$i]}")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-parallel: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test-parallel: all passed (${names[*]})" >&2
