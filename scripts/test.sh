#!/usr/bin/env bash
# `npm test [unit|medium|e2e]`: build (for e2e), then every jest run of the tier, or of all three. A failed
# build stops at once (there is nothing to test); a failed jest run does not stop the ones after it, so one red
# run shows every failure. One summary line per run at the end; the exit status is non-zero if any run failed.
#
# For this script's own test (test/test-script.spec.ts): BEAMLINE_TEST_BUILD and BEAMLINE_TEST_JEST replace
# the build and jest commands.
set -uo pipefail
cd "$(dirname "$0")/.."

build=${BEAMLINE_TEST_BUILD:-npm run build}
jest=${BEAMLINE_TEST_JEST:-node_modules/.bin/jest}

# Three tiers. unit: the specs beside the code, no server. medium: test/medium, one real nats-server per file,
# no build. e2e: whole networks of built processes. The big-data tests (gigabytes of log, tens of thousands of
# tasks), the cluster failure tests and the hostile-input fuzz run alone, after the rest of e2e: they load the
# machine, and the cluster tests measure recovery times.
unit_runs=("libs apps")
medium_runs=("test/medium")
e2e_runs=(
  "test --testPathIgnorePatterns test/medium hostile-input test/cluster test/large- test/storage-full"
  "test/large- test/storage-full"
  "test/cluster"
  "test/hostile-input"
)

tier=${1:-all}
if [ "$#" -gt 1 ] || ! [[ $tier =~ ^(all|unit|medium|e2e)$ ]]; then
  echo "npm test: takes one optional tier, unit, medium or e2e (got: $*); for a subset run: npx jest <paths>" >&2
  exit 2
fi
case $tier in
  all) runs=("${unit_runs[@]}" "${medium_runs[@]}" "${e2e_runs[@]}") ;;
  unit) runs=("${unit_runs[@]}") ;;
  medium) runs=("${medium_runs[@]}") ;;
  e2e) runs=("${e2e_runs[@]}") ;;
esac

# Unquoted on purpose: the commands and jest arguments are word lists (no argument has a space).
# Only e2e runs built processes.
if [ "$tier" = all ] || [ "$tier" = e2e ]; then
  # shellcheck disable=SC2086
  $build
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "npm test: the build failed (exit $status); no tests ran" >&2
    exit "$status"
  fi
fi

summary=()
failed=0
for args in "${runs[@]}"; do
  started=$SECONDS
  # shellcheck disable=SC2086
  $jest $args
  status=$?
  took=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    summary+=("passed             ${took}s  jest $args")
  else
    summary+=("FAILED (exit $status)  ${took}s  jest $args")
    failed=1
  fi
done

echo
echo "npm test summary:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
