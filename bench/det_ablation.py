#!/usr/bin/env python3
"""Where PP-OCRv4 det loses its int8 IoU: what-if variants of Kaiwu's QDQ model, run by onnxruntime (issue 6, acc. 3).

  det_ablation.py [--images 60] [--wd build/ppocr_eval/det/out] [VARIANT ...]

Takes a compiled det working_dir (`bench/eval_ppocr.py --det` writes build/ppocr_eval/det/out) and edits its
det_ptq_model.onnx (fake-quantized, run by onnxruntime with graph optimizations off so that every Q/DQ pair
rounds) into variants; each is compared with the float model on the first N evaluation images of eval_ppocr.py's det
split (maps binarized at 0.3, IoU over all pixels). Variants:
  base                  the QDQ model as compiled (per-tensor int8 activations, per-channel int8 weights)
  float:A-B             activation tensors A..B-1 (QuantizeLinear nodes in graph order) left float
  per-channel:A-B       those activations quantized per channel (axis 1) at each channel's max |x| over the 100
                        calibration images: a what-if, Kaiwu's kernels have per-tensor activation scales
  weights-only          every activation float (the weights' share of the loss)
The 4D activations' per-channel maxima are cached in <wd>/det_channel_max.npz.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_ppocr import IMAGES, OUT, det_preprocess  # noqa: E402


def session(model):
  so = ort.SessionOptions()
  so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
  return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def channel_max(wd, fm):
  path = os.path.join(wd, "det_channel_max.npz")
  if os.path.exists(path):
    return dict(np.load(path))
  m = onnx.ModelProto()
  m.CopyFrom(fm)
  names = [n.output[0] for n in m.graph.node]
  del m.graph.output[:]
  for n in names:
    m.graph.output.append(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None))
  s = session(m)
  acc = {}
  calib = os.path.join(OUT, "det", "calib")
  for f in sorted(os.listdir(calib)):
    for n, o in zip(names, s.run(None, {"x": np.load(os.path.join(calib, f))})):
      if o.ndim == 4:
        c = np.abs(o).max(axis=(0, 2, 3))
        acc[n] = np.maximum(acc.get(n, c), c)
  np.savez(path, **acc)
  return acc


def variant(qdq, spec, chmax):
  m = onnx.ModelProto()
  m.CopyFrom(qdq)
  consts = {i.name for i in m.graph.initializer}
  qs = [n for n in m.graph.node if n.op_type == "QuantizeLinear" and n.input[0] not in consts]
  kind, _, rng = spec.partition(":")
  lo, hi = (int(v) for v in rng.split("-")) if rng else (0, len(qs))
  if kind == "base":
    return m
  if kind in ("float", "weights-only"):
    for q in qs[lo:hi]:
      dq_out = {n.output[0] for n in m.graph.node if n.op_type == "DequantizeLinear" and n.input[0] == q.output[0]}
      for n in m.graph.node:
        for k, i in enumerate(n.input):
          if i in dq_out:
            n.input[k] = q.input[0]
    return m
  if kind == "per-channel":
    init = {i.name: i for i in m.graph.initializer}
    for q in qs[lo:hi]:
      if q.input[0] not in chmax:
        continue
      zp = numpy_helper.to_array(init[q.input[2]])
      cm = chmax[q.input[0]]
      sc = (np.maximum(cm, 1e-6) / (255 if zp.dtype == np.uint8 else 127)).astype(np.float32)
      init[q.input[1]].CopyFrom(numpy_helper.from_array(sc, q.input[1]))
      init[q.input[2]].CopyFrom(numpy_helper.from_array(np.zeros(len(cm), zp.dtype), q.input[2]))
      for n in m.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear") and n.input[1] == q.input[1]:
          n.attribute.append(onnx.helper.make_attribute("axis", 1))
    return m
  raise SystemExit(f"unknown variant '{spec}' (base, float:A-B, per-channel:A-B, weights-only)")


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("variants", nargs="*", default=["base", "weights-only", "float:0-100", "float:100-1000",
                                                  "per-channel:0-100", "per-channel"])
  ap.add_argument("--images", type=int, default=60)
  ap.add_argument("--wd", default=os.path.join(OUT, "det", "out"))
  args = ap.parse_args()
  fm = onnx.load(os.path.join(args.wd, "det_optimized_float_model.onnx"))
  qdq = onnx.load(os.path.join(args.wd, "det_ptq_model.onnx"))
  chmax = channel_max(args.wd, fm)
  with open(os.path.join(IMAGES, "labels.tsv")) as f:
    files = [line.split("\t")[0] for line in f.read().splitlines()[1:] if line]
  images = [f for i, f in enumerate(files) if i % 10][: args.images]
  xs = [det_preprocess(os.path.join(IMAGES, f)) for f in images]  # 4.9 MB each
  ref = session(fm)
  maps = [ref.run(None, {"x": x})[0] > 0.3 for x in xs]
  print(f"| variant ({args.images} images) | IoU |\n|---|---|")
  for spec in args.variants:
    s = session(variant(qdq, spec, chmax))
    inter = union = 0
    for x, bf in zip(xs, maps):
      bq = s.run(None, {"x": x})[0] > 0.3
      inter += int((bf & bq).sum())
      union += int((bf | bq).sum())
    print(f"| {spec} | {inter / max(union, 1):.4f} |", flush=True)


if __name__ == "__main__":
  main()
