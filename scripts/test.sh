#!/usr/bin/env bash
# The project's one test command (`npm test`): lint and format check, type check, the dependency rule,
# then every test file under test/ with Node's test runner. Pass files or folders to run only those
# (`npm test -- test/unit` runs every test file under test/unit). A run that executes no test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
npx biome check .
npx tsc --noEmit -p tsconfig.json
npx depcruise src adapters --config .dependency-cruiser.cjs
files=()
for arg in "${@:-test}"; do
  if [ -d "$arg" ]; then
    mapfile -t -O "${#files[@]}" files < <(find "$arg" -name '*.test.ts' | sort)
  elif [ -f "$arg" ]; then
    files+=("$arg")
  else
    echo "npm test: no such file or folder: $arg" >&2
    exit 2
  fi
done
if [ "${#files[@]}" -eq 0 ]; then
  echo "npm test: no test files (*.test.ts) under: ${*:-test}" >&2
  exit 1
fi
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=300000 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$summary" "${files[@]}" || status=$?
tests=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$summary" | tail -1)
if [ "${tests:-0}" -eq 0 ]; then
  echo "npm test: no test ran (${#files[@]} file(s) given)" >&2
  exit 1
fi
exit "$status"
