#!/usr/bin/env bash
# The project's one test command (`npm test`): lint and format check, type check, then every test file
# under test/ with Node's test runner. Pass file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."
npx biome check .
npx tsc --noEmit -p tsconfig.json
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=300000 "${files[@]}"
