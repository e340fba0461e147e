#!/usr/bin/env bash
# Set up the environment (tools/setup_env.sh) and run the test suite; extra arguments go to
# pytest.   bash tools/run_tests.sh [-k PATTERN ...]
# The tests run in HIERASEG_TEST_WORKERS pytest-xdist workers (default 2, one per core of the
# project's machines; each worker's torch ops use one thread); 0 runs them in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(bash tools/setup_env.sh | tail -n1)"
exec "${py}" -m pytest -n "${HIERASEG_TEST_WORKERS:-2}" --dist worksteal tests "$@"
