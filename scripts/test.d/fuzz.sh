#!/usr/bin/env bash
# scripts/test extra: builds the libFuzzer targets (build-fuzz/, clang) and runs each one for
# a few seconds over its checked-in seeds, so an input in tests/fuzz/corpus/ that crashes
# (or breaks an invariant) fails the suite. New inputs go to a throw-away scratch dir.
# Longer campaigns: scripts/fuzz [seconds].
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
FUZZ_SCRATCH=$scratch scripts/fuzz "${FUZZ_TEST_SECONDS:-4}"
