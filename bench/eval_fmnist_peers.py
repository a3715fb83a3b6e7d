#!/usr/bin/env python3
"""Fashion-MNIST: float vs Kaiwu int8 (QDQ in onnxruntime, deployable .kwm in Kaiwu) vs onnxruntime quantize_static
(QDQ, per-channel, MinMax / Entropy / Percentile) on the same 100 calibration images (the first 100 of the TRAIN
set), evaluated on the 10,000 TEST images. Writes bench/RESULTS_FMNIST.md (issue 6, acceptance 2).

Usage (repository root): .venv/bin/python bench/eval_fmnist_peers.py [--model ../shared/models/fmnist/fmnist_cnn.onnx]
"""
import argparse
import datetime
import glob
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import ptq_fmnist as pf  # noqa: E402
import eval_imagenet as ei  # noqa: E402  (CalibReader, ort_quantize)


def top1(logits, labels):
  return int((logits.argmax(axis=1) == labels).sum())


def kaiwu_logits(path, x):
  sys.path.insert(0, os.path.join(ROOT, "build", "python"))
  import kaiwu  # noqa: E402
  s = kaiwu.Session(path, 2)
  out = []
  for i in range(0, x.shape[0], 500):
    out.append(s.run(None, {s.input_names[0]: x[i:i + 500]})[0])
  return np.concatenate(out).reshape(x.shape[0], -1)


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--model", default=pf.DEFAULT_MODEL)
  ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS_FMNIST.md"))
  args = ap.parse_args()
  work = os.path.join(ROOT, "build", "fmnist_peers")
  os.makedirs(work, exist_ok=True)
  kaiwu_bin = os.path.join(ROOT, "build", "bin", "kaiwu")
  subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "ptq_fmnist.py"), "prepare", work, "--count", "100",
                  "--model", args.model], check=True, capture_output=True)
  subprocess.run([kaiwu_bin, "compile", "-q", "-c", os.path.join(work, "config.yaml")], check=True)
  out = os.path.join(work, "out")
  x, labels = pf.load_split("t10k")
  rows = []
  f_logits = pf.OrtModel(args.model).run(x)
  f_top = top1(f_logits, labels)
  rows.append(("float", "onnxruntime", f_top))
  rows.append(("Kaiwu P_ptq_model.onnx (QDQ)", "onnxruntime",
               top1(pf.OrtModel(os.path.join(out, "fmnist_ptq_model.onnx")).run(x), labels)))
  rows.append(("Kaiwu fmnist.kwm (deployable)", "kaiwu", top1(kaiwu_logits(os.path.join(out, "fmnist.kwm"), x), labels)))
  calib_dir = os.path.join(work, "calib", "input")
  peers = ei.ort_quantize(args.model, os.path.join(work, "ort"), calib_dir, "input")
  for m, (p, _) in peers.items():
    if p:
      rows.append((f"onnxruntime quantize_static {m}", "onnxruntime", top1(pf.OrtModel(p).run(x), labels)))
  n = x.shape[0]
  L = ["# Fashion-MNIST: float vs int8 (Kaiwu and onnxruntime quantize_static)", "",
       f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; model "
       f"`{os.path.relpath(args.model, ROOT)}`; calibration: the first 100 TRAIN images; evaluation: the 10,000 TEST "
       "images; Kaiwu `calibration_type: default`; onnxruntime: quant_pre_process + quantize_static, QDQ, "
       "per_channel=True, QInt8 activations and weights, same 100 inputs.",
       "- Regenerate: `.venv/bin/python bench/eval_fmnist_peers.py`", "",
       "| model | runtime | top-1 | drop vs float (points) |", "|---|---|---:|---:|"]
  for name, rt, c in rows:
    L.append(f"| {name} | {rt} | {100.0 * c / n:.2f}% | {100.0 * (f_top - c) / n:+.2f} |")
  with open(args.out, "w") as fo:
    fo.write("\n".join(L) + "\n")
  print("\n".join(L))


if __name__ == "__main__":
  main()
