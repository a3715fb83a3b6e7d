#!/usr/bin/env bash
# Installs what Kaiwu needs on Debian 12, idempotently.
#  - apt: compiler toolchain, ONNX/protobuf, oneDNN, yaml-cpp, test/bench libraries, datasets for tests, chromium
#    (headless, for the P.html rendering test).
#  - venv (.venv, from Debian's /usr/bin/python3, isolated; Debian's python3-torch is used only through /usr/bin/python3 to export test models):
#    onnxruntime, onnx, numpy for tests and benchmarks only.
# Usage: scripts/setup.sh [--no-python]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APT_PKGS=(build-essential cmake pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler
  libdnnl-dev ocl-icd-opencl-dev
  libjpeg-dev zlib1g-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev pybind11-dev
  python3-dev python3-venv python3-numpy
  dataset-fashion-mnist libonnx-testdata
  python3-torch python3-torchvision python3-onnx
  chromium)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-}" != "--no-python" ]; then
  VENV="$ROOT/.venv"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV from /usr/bin/python3"
    /usr/bin/python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c "import onnxruntime, onnx, numpy, PIL, pytest" 2>/dev/null; then
    echo "[setup] pip install test/bench packages into $VENV"
    "$VENV/bin/pip" install -q -r "$ROOT/scripts/requirements-dev.txt"
  fi
fi
echo "[setup] ok"
