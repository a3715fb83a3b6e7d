#!/bin/sh
# Exports the torchvision test models (resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, efficientnet_b0) with
# ../shared/models/scripts/export_tv.py into OUT_DIR, only those that are missing. All five are exported together
# in one run because export_tv.py seeds once: a model's random weights depend on the models exported before it.
# Usage: scripts/export_models.sh OUT_DIR [SHARED_DIR]   (needs /usr/bin/python3 with Debian's torch/torchvision)
set -eu
out=${1:?usage: export_models.sh OUT_DIR [SHARED_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
shared=${2:-$here/../../shared}
py=${KAIWU_TORCH_PYTHON:-/usr/bin/python3}
names="resnet18 resnet50 mobilenet_v2 mobilenet_v3_small efficientnet_b0"
mkdir -p "$out"
exec 9>"$out/.export.lock"
flock 9   # several test processes may ask at once
missing=0
for n in $names; do [ -s "$out/$n.onnx" ] || missing=1; done
[ "$missing" = 0 ] && exit 0
tmp=$(mktemp -d "$out/.export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$py" "$shared/models/scripts/export_tv.py" "$tmp" $names
for n in $names; do
  if [ ! -s "$tmp/$n.onnx" ]; then echo "export_models.sh: export of $n failed" >&2; exit 1; fi
done
for n in $names; do mv -f "$tmp/$n.onnx" "$out/$n.onnx"; done
echo "exported to $out: $names"
