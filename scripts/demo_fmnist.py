#!/usr/bin/env python3
"""Data and scoring for `make demo` (examples/demo.sh), from Debian's dataset-fashion-mnist (/usr/share/datasets).

  prepare WORK_DIR [--calib 100] [--chunk 1000]
      WORK_DIR/calibration_data/input/NNNN.npy  the first `calib` TRAIN images, float32 1x1x28x28;
      WORK_DIR/test/chunk_NN.npy                 the 10,000 TEST images in chunks of `chunk` (float32 Nx1x28x28);
      WORK_DIR/test/labels.npy                   their labels (int64).
      Images are normalized as the example model was trained: (pixel / 255 - 0.2860) / 0.3530.
  score WORK_DIR/test OUT_DIR
      top-1 accuracy of OUT_DIR/chunk_NN/logits.npy (written by `kaiwu run -o`) against the labels:
      prints "<correct> <total> <accuracy %>".

Needs numpy only (Debian's python3-numpy).
"""
import argparse
import gzip
import os
import sys

import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = np.float32(0.2860)
STD = np.float32(0.3530)


def read_idx_gz(path, ndim):
  """A gzip IDX file of uint8 (images: ndim 3, labels: ndim 1) as a numpy array."""
  with gzip.open(path, "rb") as f:
    raw = f.read()
  magic = int.from_bytes(raw[0:4], "big")
  if magic != 0x800 + ndim:
    raise ValueError(f"{path}: bad IDX magic {magic:#x}, expected {0x800 + ndim:#x}")
  dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
  return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def split(name):
  images = read_idx_gz(os.path.join(DATASET_DIR, f"{name}-images-idx3-ubyte.gz"), 3)
  labels = read_idx_gz(os.path.join(DATASET_DIR, f"{name}-labels-idx1-ubyte.gz"), 1)
  x = ((images.astype(np.float32) / np.float32(255.0)) - MEAN) / STD
  return x.reshape(-1, 1, 28, 28).astype(np.float32), labels.astype(np.int64)


def prepare(args):
  if not os.path.isdir(DATASET_DIR):
    sys.exit(f"demo: {DATASET_DIR} not found: install Debian's dataset-fashion-mnist (scripts/setup.sh)")
  cal_dir = os.path.join(args.work, "calibration_data", "input")
  test_dir = os.path.join(args.work, "test")
  os.makedirs(cal_dir, exist_ok=True)
  os.makedirs(test_dir, exist_ok=True)
  train_x, _ = split("train")
  for i in range(args.calib):
    np.save(os.path.join(cal_dir, f"{i:04d}.npy"), train_x[i:i + 1])
  test_x, test_y = split("t10k")
  for k, start in enumerate(range(0, len(test_x), args.chunk)):
    np.save(os.path.join(test_dir, f"chunk_{k:02d}.npy"), test_x[start:start + args.chunk])
  np.save(os.path.join(test_dir, "labels.npy"), test_y)
  print(f"{args.calib} calibration images (train set), {len(test_x)} test images in "
        f"{(len(test_x) + args.chunk - 1) // args.chunk} chunks")


def score(args):
  labels = np.load(os.path.join(args.test_dir, "labels.npy"))
  chunks = sorted(f[:-4] for f in os.listdir(args.test_dir) if f.startswith("chunk_"))
  preds = [np.load(os.path.join(args.out_dir, c, "logits.npy")).argmax(axis=1) for c in chunks]
  pred = np.concatenate(preds)
  if pred.shape != labels.shape:
    sys.exit(f"demo: {pred.shape[0]} predictions for {labels.shape[0]} labels")
  correct = int((pred == labels).sum())
  print(f"{correct} {labels.size} {100.0 * correct / labels.size:.2f}")


def main():
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  sub = p.add_subparsers(dest="cmd", required=True)
  pp = sub.add_parser("prepare")
  pp.add_argument("work")
  pp.add_argument("--calib", type=int, default=100)
  pp.add_argument("--chunk", type=int, default=1000)
  ps = sub.add_parser("score")
  ps.add_argument("test_dir")
  ps.add_argument("out_dir")
  args = p.parse_args()
  prepare(args) if args.cmd == "prepare" else score(args)


if __name__ == "__main__":
  main()
