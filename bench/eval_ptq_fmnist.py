#!/usr/bin/env python3
"""Accuracy of every stage model of a `kaiwu compile` run on Fashion-MNIST, as a markdown table.

  eval_ptq_fmnist.py WORKING_DIR [--prefix fmnist] [--count 10000] [--float FLOAT.onnx] [--out table.md]

Evaluates P_original_float_model.onnx, P_optimized_float_model.onnx, P_calibrated_model.onnx and P_ptq_model.onnx
of WORKING_DIR through onnxruntime on the Fashion-MNIST TEST set and prints

  | model stage | top-1 | agreement with float | output cosine |

Agreement = top-1 agreement with the float reference (P_original_float_model.onnx, or --float) over the same images;
output cosine = mean cosine of the logits rows against the reference. A stage that is missing or that onnxruntime
cannot run is listed with the reason. The prefix defaults to the one of the only *_ptq_model.onnx in WORKING_DIR.
Run with the repo venv: /work/main/.venv/bin/python bench/eval_ptq_fmnist.py <working_dir>
"""
import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import ptq_fmnist as pf  # noqa: E402

STAGES = [("original float", "original_float_model"), ("optimized float", "optimized_float_model"),
          ("calibrated", "calibrated_model"), ("ptq (QDQ)", "ptq_model")]


def detect_prefix(wd):
  hits = sorted(glob.glob(os.path.join(wd, "*_ptq_model.onnx")))
  if len(hits) != 1:
    sys.exit(f"{wd}: found {len(hits)} *_ptq_model.onnx files; pass --prefix")
  return os.path.basename(hits[0])[:-len("_ptq_model.onnx")]


def first_line(err):
  s = str(err).strip().splitlines()
  return (s[0] if s else type(err).__name__)[:120].replace("|", "/")


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("working_dir")
  ap.add_argument("--prefix")
  ap.add_argument("--count", type=int, default=10000)
  ap.add_argument("--float", dest="float_model", help="reference model (default: P_original_float_model.onnx)")
  ap.add_argument("--out", help="also write the table to this file")
  args = ap.parse_args()
  wd = os.path.abspath(args.working_dir)
  if not os.path.isdir(wd):
    sys.exit(f"{wd} is not a folder")
  prefix = args.prefix or detect_prefix(wd)
  x, labels = pf.load_split("t10k", args.count)
  n = x.shape[0]

  ref_path = args.float_model or os.path.join(wd, f"{prefix}_original_float_model.onnx")
  try:
    ref_out = pf.OrtModel(ref_path).run(x)
  except Exception as e:  # noqa: BLE001 - any onnxruntime failure is reported
    sys.exit(f"reference {ref_path}: {first_line(e)}")

  rows = []
  for stage, suffix in STAGES:
    path = os.path.join(wd, f"{prefix}_{suffix}.onnx")
    name = os.path.basename(path)
    if not os.path.isfile(path):
      rows.append((stage, name, "missing", "", "", ""))
      continue
    try:
      pf.check_model(path)
      checker = "ok"
    except Exception as e:  # noqa: BLE001
      checker = "fails: " + first_line(e)
    try:
      t0 = time.time()
      out = pf.OrtModel(path).run(x)
      ms = 1000.0 * (time.time() - t0) / n
    except Exception as e:  # noqa: BLE001
      rows.append((stage, name, "not runnable: " + first_line(e), "", "", checker))
      continue
    correct = int((out.argmax(axis=1) == labels).sum())
    same, cos = pf.compare(ref_out, out)
    rows.append((stage, name, f"{100.0 * correct / n:.2f}% ({correct}/{n})", f"{100.0 * same / n:.2f}%",
                 f"{cos:.6f}", checker + f", ort {ms:.3f} ms/img"))

  lines = [f"Fashion-MNIST test set ({n} images), onnxruntime CPU; working_dir `{wd}`, prefix `{prefix}`; "
           f"reference `{os.path.basename(ref_path)}`.", "",
           "| model stage | file | top-1 | agreement with float | output cosine | notes |",
           "|---|---|---|---|---|---|"]
  lines += ["| " + " | ".join(r) + " |" for r in rows]
  text = "\n".join(lines) + "\n"
  print(text, end="")
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)


if __name__ == "__main__":
  main()
