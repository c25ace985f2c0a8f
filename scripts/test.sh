#!/usr/bin/env bash
# Sets up and builds ristsim, then runs the test suite with ctest. Extra
# arguments go to ctest, e.g. `scripts/test.sh -L unit` or `scripts/test.sh -R e2e.format`.
# Labels: unit, exhaustive, systemc, cosim, cuda, e2e. Exits with ctest's status.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
exec ctest --test-dir "${RISTSIM_BUILD_DIR:-build}" --output-on-failure -j2 "$@"
