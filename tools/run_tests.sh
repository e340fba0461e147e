#!/usr/bin/env bash
# Set up the environment (tools/setup_env.sh) and run the test suite; extra arguments go to
# pytest.   bash tools/run_tests.sh [-k PATTERN ...]
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(bash tools/setup_env.sh | tail -n1)"
exec "${py}" -m pytest tests "$@"
