#!/usr/bin/env python3
"""Fashion-MNIST PTQ helper for `kaiwu compile`: calibration data + yaml, and onnxruntime accuracy checks.

  prepare OUT_DIR [--count 100] [--model PATH]
      OUT_DIR/calib/input/NNNN.npy: the first `count` TRAIN images, (pixel/255 - 0.2860)/0.3530, float32 1x1x28x28;
      OUT_DIR/config.yaml: the Horizon-style compile config (featuremap input, calibration_type default unless
      --calibration-type is given).
  eval MODEL.onnx [--count 10000]
      top-1 on the TEST set through onnxruntime: "accuracy <pct> correct <n> of <N>".
  eval --compare A.onnx B.onnx [--count 10000]
      "A accuracy ...", "B accuracy ..." (as above), then
      "agreement <pct> same <n> of <N> cosine <mean output cosine>" (top-1 agreement of B with A);
      --save-b OUT.npy saves B's outputs.
  eval --check MODEL.onnx ...  also runs onnx.checker (full check) first.

Needs numpy, onnx, onnxruntime (the repo venv: /work/main/.venv/bin/python).
"""
import argparse
import gzip
import os
import sys

import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = np.float32(0.2860)
STD = np.float32(0.3530)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.normpath(os.path.join(REPO, "..", "shared", "models", "fmnist", "fmnist_cnn.onnx"))


def read_idx_gz(path, ndim):
  """Reads a gzip IDX file of u8 (magic 0x00000803 images / 0x00000801 labels) as a numpy array."""
  with gzip.open(path, "rb") as f:
    raw = f.read()
  magic = int.from_bytes(raw[0:4], "big")
  if magic != 0x800 + ndim:
    raise ValueError(f"{path}: bad IDX magic {magic:#x}, expected {0x800 + ndim:#x}")
  dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
  data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
  if data.size != int(np.prod(dims)):
    raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
  return data.reshape(dims)


def normalize(pixels):
  """u8 [N,28,28] -> float32 [N,1,28,28], computed in float32 exactly as the C++ e2e test does."""
  x = pixels.astype(np.float32) / np.float32(255.0)
  x = (x - MEAN) / STD
  return x.reshape(-1, 1, 28, 28).astype(np.float32)


def load_split(split, count=None):
  """(images float32 [N,1,28,28], labels int64 [N]) of 'train' or 't10k'."""
  imgs = read_idx_gz(os.path.join(DATASET_DIR, f"{split}-images-idx3-ubyte.gz"), 3)
  labels = read_idx_gz(os.path.join(DATASET_DIR, f"{split}-labels-idx1-ubyte.gz"), 1)
  if count is not None:
    if count <= 0 or count > imgs.shape[0]:
      raise ValueError(f"--count {count} out of range 1..{imgs.shape[0]} for the {split} set")
    imgs, labels = imgs[:count], labels[:count]
  return normalize(imgs), labels.astype(np.int64)


def yaml_str(s):
  return "'" + str(s).replace("'", "''") + "'"


def cmd_prepare(args):
  calibration_type = args.calibration_type
  out = os.path.abspath(args.out_dir)
  model = os.path.abspath(args.model)
  if not os.path.isfile(model):
    sys.exit(f"prepare: model {model} does not exist")
  cal_dir = os.path.join(out, "calib", "input")
  os.makedirs(cal_dir, exist_ok=True)
  x, _ = load_split("train", args.count)
  for i in range(x.shape[0]):
    np.save(os.path.join(cal_dir, f"{i:04d}.npy"), np.ascontiguousarray(x[i:i + 1]))
  cfg = (
      "# Fashion-MNIST CNN, PTQ on x86 (written by scripts/ptq_fmnist.py prepare)\n"
      "model_parameters:\n"
      f"  onnx_model: {yaml_str(model)}\n"
      "  march: x86-avx512vnni\n"
      f"  working_dir: {yaml_str(os.path.join(out, 'out'))}\n"
      "  output_model_file_prefix: fmnist\n"
      "input_parameters:\n"
      "  input_name: input\n"
      "  input_type_rt: featuremap\n"
      "  input_type_train: featuremap\n"
      "  input_layout_train: NCHW\n"
      "  input_shape: 1x1x28x28\n"
      "calibration_parameters:\n"
      f"  cal_data_dir: {yaml_str(cal_dir)}\n"
      f"  calibration_type: {calibration_type}\n"
      "compiler_parameters:\n"
      "  optimize_level: O2\n")
  with open(os.path.join(out, "config.yaml"), "w") as f:
    f.write(cfg)
  print(f"prepared {x.shape[0]} calibration files in {cal_dir} and {os.path.join(out, 'config.yaml')}")


class OrtModel:
  """An onnxruntime session on one model: first input, first output, batched when the batch dim is dynamic."""

  def __init__(self, path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 2
    self.path = path
    self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inp = self.sess.get_inputs()
    if len(inp) != 1:
      raise ValueError(f"{path}: expected one input, found {len(inp)}: {[i.name for i in inp]}")
    self.input = inp[0].name
    self.output = self.sess.get_outputs()[0].name
    dim0 = inp[0].shape[0] if inp[0].shape else None
    self.fixed = isinstance(dim0, int) and dim0 > 0
    self.batch = dim0 if self.fixed else 1000

  def run(self, x):
    """Outputs [N, ...] (float32) for inputs x [N,1,28,28]."""
    outs = []
    b = self.batch
    if self.fixed and x.shape[0] % b != 0:
      raise ValueError(f"{self.path}: fixed batch {b} does not divide {x.shape[0]} images")
    for i in range(0, x.shape[0], b):
      outs.append(np.asarray(self.sess.run([self.output], {self.input: x[i:i + b]})[0], dtype=np.float32))
    return np.concatenate(outs, axis=0).reshape(x.shape[0], -1)


def check_model(path):
  import onnx
  onnx.checker.check_model(path, full_check=True)


def accuracy(path, x, labels):
  logits = OrtModel(path).run(x)
  correct = int((logits.argmax(axis=1) == labels).sum())
  return correct, logits


def compare(a_out, b_out):
  """(top-1 agreement count, mean cosine of the output rows)."""
  same = int((a_out.argmax(axis=1) == b_out.argmax(axis=1)).sum())
  a = a_out.astype(np.float64)
  b = b_out.astype(np.float64)
  na = np.linalg.norm(a, axis=1)
  nb = np.linalg.norm(b, axis=1)
  cos = (a * b).sum(axis=1) / np.maximum(na * nb, 1e-30)
  cos[(na == 0) & (nb == 0)] = 1.0
  return same, float(cos.mean())


def cmd_eval(args):
  x, labels = load_split("t10k", args.count)
  n = x.shape[0]
  paths = args.models
  if args.compare and len(paths) != 2:
    sys.exit("eval --compare takes exactly two models: A.onnx B.onnx")
  if not args.compare and len(paths) != 1:
    sys.exit("eval takes one model (or --compare A.onnx B.onnx)")
  for p in paths:
    if not os.path.isfile(p):
      sys.exit(f"eval: {p} does not exist")
    if args.check:
      try:
        check_model(p)
      except Exception as e:  # noqa: BLE001 - report any checker failure
        sys.exit(f"onnx.checker failed on {p}: {e}")
      print(f"checker ok {p}")
  if args.compare:
    a_correct, a_out = accuracy(paths[0], x, labels)
    b_correct, b_out = accuracy(paths[1], x, labels)
    print(f"A accuracy {100.0 * a_correct / n:.2f} correct {a_correct} of {n}")
    print(f"B accuracy {100.0 * b_correct / n:.2f} correct {b_correct} of {n}")
    same, cos = compare(a_out, b_out)
    print(f"agreement {100.0 * same / n:.2f} same {same} of {n} cosine {cos:.6f}")
    if args.save_b:
      np.save(args.save_b, b_out.astype(np.float32))
  else:
    correct, _ = accuracy(paths[0], x, labels)
    print(f"accuracy {100.0 * correct / n:.2f} correct {correct} of {n}")


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  sub = ap.add_subparsers(dest="cmd", required=True)
  p = sub.add_parser("prepare", help="calibration .npy files + config.yaml")
  p.add_argument("out_dir")
  p.add_argument("--count", type=int, default=100)
  p.add_argument("--model", default=DEFAULT_MODEL)
  p.add_argument("--calibration-type", default="default", help="calibration_type in the yaml (default: default)")
  p.set_defaults(func=cmd_prepare)
  e = sub.add_parser("eval", help="top-1 accuracy on the test set, or --compare two models")
  e.add_argument("models", nargs="+")
  e.add_argument("--count", type=int, default=10000)
  e.add_argument("--compare", action="store_true")
  e.add_argument("--check", action="store_true", help="run onnx.checker (full_check) first")
  e.add_argument("--save-b", help="with --compare: save model B's outputs [N, classes] as this .npy")
  e.set_defaults(func=cmd_eval)
  args = ap.parse_args()
  try:
    args.func(args)
  except (ValueError, OSError) as err:
    sys.exit(f"{args.cmd}: {err}")


if __name__ == "__main__":
  main()
