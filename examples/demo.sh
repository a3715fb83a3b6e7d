#!/usr/bin/env bash
# Kaiwu demo: classify the Fashion-MNIST samples of examples/fmnist with `kaiwu run` and time each one.
# Usage: bash examples/demo.sh BUILD_DIR        (`make demo` runs `bash examples/demo.sh build`)
# Exits non-zero if kaiwu fails or disagrees with the class the trained PyTorch model predicts (samples.txt).
set -uo pipefail
export LC_ALL=C
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
[ -d "$BUILD" ] || BUILD="$ROOT/$BUILD"
KAIWU="$BUILD/bin/kaiwu"
EX="$ROOT/examples/fmnist"
MODEL="$EX/fmnist_small.onnx"
REPEAT="${KAIWU_DEMO_REPEAT:-50}"

if [ ! -x "$KAIWU" ]; then
  echo "demo: $KAIWU not found; build first (make build)" >&2
  exit 1
fi
mapfile -t CLASSES < "$EX/classes.txt"

echo "Kaiwu demo: Fashion-MNIST classifier ${MODEL#"$ROOT"/} ($(du -k "$MODEL" | cut -f1) KB)"
echo
n=0 correct=0 agree=0 failed=0
while IFS=$'\t' read -r file label true_class torch_pred _index; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  n=$((n + 1))
  cmd=("$KAIWU" run -m "$MODEL" -i "$EX/$file" -r "$REPEAT" --print-max 10)
  out="$("${cmd[@]}" 2>&1)"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    why="exit code $rc"
    [ "$rc" -gt 128 ] && why="killed by signal $(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    echo "$file: kaiwu run failed ($why): ${cmd[*]#"$ROOT"/}"
    [ -n "$out" ] && echo "$out" | sed 's/^/    /'
    continue
  fi
  # "logits: f32[1, 10] = [v0, v1, ...]" -> "argmax probability" (softmax of the logits)
  pred="$(echo "$out" | awk -F'= \\[' '/^logits:/ {
      s = $2; sub(/\].*/, "", s); k = split(s, v, ", ");
      best = 1; for (i = 2; i <= k; i++) if (v[i] + 0 > v[best] + 0) best = i;
      z = 0; for (i = 1; i <= k; i++) z += exp(v[i] - v[best]);
      printf "%d %.1f", best - 1, 100 / z }')"
  latency="$(echo "$out" | grep '^latency' || true)"
  if [ -z "$pred" ]; then
    failed=$((failed + 1))
    echo "$file: could not find the logits in kaiwu's output:"
    echo "$out" | sed 's/^/    /'
    continue
  fi
  p="${pred% *}" conf="${pred#* }"
  verdict="wrong"
  [ "$p" = "$label" ] && { verdict="correct"; correct=$((correct + 1)); }
  [ "$p" = "$torch_pred" ] && agree=$((agree + 1))
  printf '%s: predicted %-12s (%5s%%)  true %-12s  %s\n' "$file" "${CLASSES[$p]}" "$conf" "$true_class" "$verdict"
  [ -n "$latency" ] && echo "    $latency"
done < "$EX/samples.txt"

echo
echo "$correct/$n correct; $agree/$n agree with the PyTorch model's predictions; $failed failed"
echo "Try it: $KAIWU run -m ${MODEL#"$ROOT"/} -i examples/fmnist/sample_0.npy -r $REPEAT"
[ "$failed" -eq 0 ] && [ "$agree" -eq "$n" ] && [ "$n" -gt 0 ]
