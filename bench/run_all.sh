#!/usr/bin/env bash
# Float benchmark of all eight models, Kaiwu against onnxruntime: writes bench/RESULTS_FLOAT.md and bench/results_float.json.
# Usage: bash bench/run_all.sh BUILD_DIR [bench_float.py options, e.g. --models resnet18 --threads 1 --quick]
# (`make bench` builds, then runs `bash bench/run_all.sh build`.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
shift || true
cd "$ROOT"
if [ ! -x "$BUILD/bin/kaiwu_bench" ]; then
  echo "run_all.sh: $BUILD/bin/kaiwu_bench not found; build with benchmarks on (make build)" >&2
  exit 1
fi
PY="$ROOT/.venv/bin/python"
if ! "$PY" -c "import onnxruntime, numpy" 2>/dev/null; then
  bash "$ROOT/scripts/setup.sh"
fi
exec "$PY" "$ROOT/bench/bench_float.py" --build "$BUILD" "$@"
