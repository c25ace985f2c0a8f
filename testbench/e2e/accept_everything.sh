#!/usr/bin/env bash
# A planted bug for option_sweep.sh (test e2e.option_sweep_bad): a "ristsim" that
# accepts every option value in silence and exits 0. The sweep must fail on it.
exit 0
