#!/bin/sh
# Makes the Python environment of the onnxruntime tests: VENV (build/venv-ort, outside git)
# with onnxruntime and numpy (and qonnx, for the QONNX executor's tests) from PyPI, created once and reused by later runs. Never fails the
# test run: when pip cannot install them, VENV.reason says why, and the tests that need
# onnxruntime print it and are skipped (exit 77).
#   ort_venv.sh VENV
venv=$1
[ -n "$venv" ] || { echo "usage: ort_venv.sh VENV" >&2; exit 2; }
# QONNX's executor (the qonnx_exec tests), installed into the same environment when
# onnxruntime is there; VENV.qonnx.reason says why when it cannot be.
qonnx() {
  "$venv/bin/python" -c 'import qonnx' 2>/dev/null && return 0
  rm -f "$venv.qonnx.reason"
  qlog=$(mktemp)
  if "$venv/bin/python" -m pip install -q --timeout 60 --retries 2 qonnx >"$qlog" 2>&1 &&
     "$venv/bin/python" -c 'import qonnx' >>"$qlog" 2>&1; then
    echo "qonnx installed in $venv"
  else
    { echo "qonnx could not be installed from PyPI into $venv:"; tail -5 "$qlog"; } > "$venv.qonnx.reason"
    cat "$venv.qonnx.reason"
  fi
  rm -f "$qlog"
}
if "$venv/bin/python" -c 'import numpy, onnxruntime' 2>/dev/null; then
  "$venv/bin/python" -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__, "in '"$venv"'")'
  qonnx
  exit 0
fi
rm -rf "$venv" "$venv.reason"
log=$(mktemp)
if python3 -m venv "$venv" >"$log" 2>&1 &&
   "$venv/bin/python" -m pip install -q --timeout 60 --retries 2 onnxruntime numpy >>"$log" 2>&1 &&
   "$venv/bin/python" -c 'import numpy, onnxruntime' >>"$log" 2>&1; then
  "$venv/bin/python" -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__, "installed in '"$venv"'")'
  qonnx
else
  { echo "onnxruntime could not be installed from PyPI into $venv:"; tail -5 "$log"; } > "$venv.reason"
  cat "$venv.reason"
  rm -rf "$venv"
fi
rm -f "$log"
exit 0
