#!/usr/bin/env bash
# Kaiwu demo: post-training quantization of the Fashion-MNIST classifier in examples/fmnist.
#  1. calibration data: the first 100 images of the Fashion-MNIST TRAIN set (Debian's dataset-fashion-mnist);
#  2. `kaiwu compile -c config.yaml`: stage models, node and output tables (float vs int8 cosines);
#  3. top-1 accuracy on the 10,000 TEST images, every model run by Kaiwu (`kaiwu run`, 1000 images per run).
# Usage: bash examples/demo.sh BUILD_DIR        (`make demo` runs `bash examples/demo.sh build`)
# Exits non-zero if a step fails or the int8 model loses more than 1 point of accuracy.
set -euo pipefail
export LC_ALL=C
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
[ -d "$BUILD" ] || BUILD="$ROOT/$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
KAIWU="$BUILD/bin/kaiwu"
PY=/usr/bin/python3                      # Debian's python3 with python3-numpy (scripts/setup.sh)
MODEL="$ROOT/examples/fmnist/fmnist_small.onnx"
WORK="$BUILD/demo"
OUT="$WORK/model_output"
PREFIX=fmnist

if [ ! -x "$KAIWU" ]; then
  echo "demo: $KAIWU not found; build first (make build)" >&2
  exit 1
fi
rm -rf "$WORK"
mkdir -p "$WORK"

echo "== 1. Data (Debian dataset-fashion-mnist)"
"$PY" "$ROOT/scripts/demo_fmnist.py" prepare "$WORK" --calib 100 --chunk 1000

cat > "$WORK/config.yaml" <<YAML
# Fashion-MNIST classifier, J6-style PTQ config (written by examples/demo.sh)
model_parameters:
  onnx_model: '$MODEL'
  march: 'nash-e'                    # a Horizon name: kaiwu compiles for this host's CPU instead
  working_dir: '$OUT'
  output_model_file_prefix: '$PREFIX'
input_parameters:
  input_name: 'input'
  input_shape: '1x1x28x28'
  input_type_rt: 'featuremap'
  input_type_train: 'featuremap'
  input_layout_train: 'NCHW'
calibration_parameters:
  cal_data_dir: '$WORK/calibration_data/input'   # .npy, already normalized like the training data
  calibration_type: 'default'        # searches max / percentile / kl / mse by output cosine
compiler_parameters:
  optimize_level: 'O2'
YAML

echo
echo "== 2. kaiwu compile -c $WORK/config.yaml"
"$KAIWU" compile -c "$WORK/config.yaml"

echo
echo "== 3. Top-1 accuracy on the 10,000 test images, run by Kaiwu"
# One line per model: "label|model file". The test set runs through `kaiwu run` in chunks of 1000 images.
MODELS=(
  "float   (original model)|$MODEL"
  "int8    (QDQ, ${PREFIX}_ptq_model.onnx)|$OUT/${PREFIX}_ptq_model.onnx"
  "int8    (deployable, ${PREFIX}.kwm)|$OUT/${PREFIX}.kwm"
)
declare -a ACC
for entry in "${MODELS[@]}"; do
  label="${entry%%|*}" file="${entry#*|}"
  dir="$WORK/eval/$(basename "$file")"
  t0=$(date +%s.%N)
  for chunk in "$WORK"/test/chunk_*.npy; do
    name="$(basename "$chunk" .npy)"
    mkdir -p "$dir/$name"
    "$KAIWU" run -m "$file" -i "$chunk" -o "$dir/$name" --print-max 0 > /dev/null
  done
  t1=$(date +%s.%N)
  score="$("$PY" "$ROOT/scripts/demo_fmnist.py" score "$WORK/test" "$dir")"
  read -r correct total acc <<< "$score"
  ACC+=("$acc")
  printf '  %-40s %6s%%  (%s of %s correct, %s s)\n' "$label" "$acc" "$correct" "$total" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
done

echo
echo "Artifacts: $OUT (stage models, fixed-point ${PREFIX}_quantized_model.onnx, deployable ${PREFIX}.kwm, ${PREFIX}_node_info.csv, ${PREFIX}_quant_info.json, kaiwu_compile.log)"
echo "Try: $KAIWU compile -m ${MODEL#"$ROOT"/}        (check mode: what runs in int8 and why)"
# The int8 model must stay within 1 point of the float model.
awk -v f="${ACC[0]}" -v q="${ACC[1]}" 'BEGIN { exit !(q >= f - 1.0) }' || {
  echo "demo: int8 accuracy ${ACC[1]}% is more than 1 point below float ${ACC[0]}%" >&2
  exit 1
}
