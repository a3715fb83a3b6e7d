#!/usr/bin/env python3
"""PP-OCRv4 accuracy after int8 quantization (issue 6, acceptances 3 and 4).

  eval_ppocr.py [--rec] [--det] [--cls] [--lines 500] [--skip-compile] [--kaiwu build/bin/kaiwu]

rec: text lines rendered by this script with Debian's DejaVu fonts (fonts-dejavu-core) from known random text
  (letters, digits, punctuation of the PP-OCR dictionary; seeded), PaddleOCR rec preprocessing (height 48, width in
  proportion up to 320, (x/255 - 0.5)/0.5, right zero padding to 1x3x48x320). 100 calibration lines (seed 1) and
  N test lines (seed 2, default 500). The float model (onnxruntime on the original ONNX) and Kaiwu's deployable
  int8 model (P.kwm through `import kaiwu`) decode by CTC greedy; character accuracy = 1 - edit distance / length,
  summed over the lines.
det: ../shared/data/imagenet-sample images, resized to 640x640, ImageNet mean/std; every 10th image (100)
  calibrates, the other 900 evaluate. The probability maps of float and int8 are binarized at 0.3 (DBNet's
  threshold); IoU = |float AND int8| / |float OR int8| summed over all images (and the mean per image over images
  with at least 100 positive pixels in either map).
cls: the angle classifier (ch_ppocr_mobile_v2.0_cls) on rendered lines (as rec), each turned by 180 degrees with
  probability 1/2 (label 1), PaddleOCR cls preprocessing (height 48, width up to 192, (x/255 - 0.5)/0.5, right
  zero padding to 1x3x48x192); 100 calibration lines (seed 3), N test lines (seed 4, --cls-lines 1000); accuracy
  of float and of Kaiwu's deployable.

Outputs under build/ppocr_eval/{rec,det,cls}/ and bench/RESULTS_PPOCR.md. Run with the repo venv:
  .venv/bin/python bench/eval_ppocr.py
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
PPOCR = os.path.join(SHARED, "models", "ppocr")
IMAGES = os.path.join(SHARED, "data", "imagenet-sample")
OUT = os.path.join(ROOT, "build", "ppocr_eval")
RESULTS_MD = os.path.join(ROOT, "bench", "RESULTS_PPOCR.md")
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
PUNCT = ".,:-/()%"
IMNET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMNET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def keys():
  with open(os.path.join(PPOCR, "ppocr_keys_v1.txt"), encoding="utf-8") as f:
    chars = [line.rstrip("\n") for line in f]
  return ["<blank>"] + chars + [" "]


def random_text(rng):
  words = []
  for _ in range(rng.randint(1, 3)):
    kind = rng.random()
    if kind < 0.2:
      w = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 6)))
    else:
      w = "".join(rng.choice(ALPHABET[:26] if kind < 0.7 else ALPHABET) for _ in range(rng.randint(2, 7)))
    if rng.random() < 0.2:
      w += rng.choice(PUNCT)
    words.append(w)
  return " ".join(words)[:18]


def render_line(text, rng):
  font = ImageFont.truetype(rng.choice(FONTS), rng.randint(26, 34))
  l, t, r, b = font.getbbox(text)
  pad = rng.randint(4, 10)
  w, h = r - l + 2 * pad, b - t + 2 * pad
  bg = rng.randint(200, 255)
  fg = rng.randint(0, 70)
  img = Image.new("RGB", (w, h), (bg, bg, bg))
  ImageDraw.Draw(img).text((pad - l, pad - t), text, fill=(fg, fg, fg), font=font)
  return img


def line_preprocess(img, width):
  """PaddleOCR's text-line input: height 48, width in proportion up to `width`, (x/255 - 0.5)/0.5, right zero
  padding to 1x3x48xwidth (rec: 320, cls: 192)."""
  w, h = img.size
  rw = min(width, int(math.ceil(48 * w / h)))
  x = np.asarray(img.resize((rw, 48), Image.BILINEAR), np.float32) / 255.0
  x = (x - 0.5) / 0.5
  out = np.zeros((1, 3, 48, width), np.float32)
  out[0, :, :, :rw] = x.transpose(2, 0, 1)
  return out


def rec_preprocess(img):
  return line_preprocess(img, 320)


def ctc_decode(prob, table):
  ids = np.argmax(prob, -1)
  out, prev = [], -1
  for i in ids:
    if i != prev and i != 0:
      out.append(table[i] if i < len(table) else "")
    prev = i
  return "".join(out)


def edit_distance(a, b):
  d = list(range(len(b) + 1))
  for i in range(1, len(a) + 1):
    prev, d[0] = d[0], i
    for j in range(1, len(b) + 1):
      cur = d[j]
      d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
      prev = cur
  return d[len(b)]


def write_yaml(d, args, model, prefix, calib, shape):
  """Writes the compile yaml of `model` under folder d (config.yaml -> out/, or config_<tag>.yaml -> out_<tag>/
  with --quant-config); returns (working_dir, yaml path)."""
  tagged = "_" + args.tag if args.quant_config else ""
  work = os.path.join(d, "out" + tagged)
  path = os.path.join(d, "config" + tagged + ".yaml")
  with open(path, "w") as f:
    f.write(f"model_parameters:\n  onnx_model: '{model}'\n  march: x86-avx512vnni\n  working_dir: '{work}'\n"
            f"  output_model_file_prefix: {prefix}\ninput_parameters:\n  input_name: x\n  input_type_rt: featuremap\n"
            f"  input_type_train: featuremap\n  input_layout_train: NCHW\n  input_shape: {shape}\n"
            f"calibration_parameters:\n  cal_data_dir: '{calib}'\n  calibration_type: {args.calibration_type}\n")
    if args.max_percentile is not None:
      f.write(f"  max_percentile: {args.max_percentile}\n")
    if args.quant_config:
      f.write(f"  quant_config: '{args.quant_config}'\n")
  return work, path


def compile_model(kaiwu_bin, yaml):
  t = time.time()
  r = subprocess.run([kaiwu_bin, "compile", "-q", "-c", yaml], capture_output=True, text=True)
  if r.returncode:
    sys.exit(f"kaiwu compile failed:\n{r.stderr}")
  return time.time() - t


def sessions(model, kwm):
  """onnxruntime on `model`, and Kaiwu on `kwm` (None: no Kaiwu session)."""
  import onnxruntime as ort
  so = ort.SessionOptions()
  so.intra_op_num_threads = 2
  so.log_severity_level = 3
  if kwm is None:
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"]), None
  sys.path.insert(0, os.path.join(ROOT, "build", "python"))
  import kaiwu
  return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"]), kaiwu.Session(kwm)


def ort_det_path(method):
  """Where --det-ort METHOD writes onnxruntime's quantized det model."""
  return os.path.join(OUT, "det", "ort", f"{method.lower()}.onnx")


def ort_quantize(model, calib, path, method):
  """onnxruntime quantize_static (QDQ, per-channel int8 weights, int8 activations, `method` calibration) on the
  calibration .npy files into `path` (intermediate models beside it); returns the seconds taken."""
  from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
  from onnxruntime.quantization.shape_inference import quant_pre_process
  from eval_imagenet import CalibReader  # onnxruntime CalibrationDataReader over .npy files
  import onnx
  from onnx import version_converter
  odir = os.path.dirname(path)
  os.makedirs(odir, exist_ok=True)
  t = time.time()
  m = onnx.load(model)
  if m.opset_import[0].version < 13:  # per-channel DequantizeLinear (axis) needs opset 13
    m = version_converter.convert_version(m, 13)
    model = os.path.join(odir, "float_opset13.onnx")
    onnx.save(m, model)
  pre = os.path.join(odir, "float_preprocessed.onnx")
  try:
    quant_pre_process(model, pre, skip_symbolic_shape=True)
  except Exception as e:  # noqa: BLE001 - quantize the float model as is
    print(f"quant_pre_process failed ({str(e).splitlines()[0][:200]}); quantizing the float model as is")
    pre = model
  files = sorted(os.path.join(calib, f) for f in os.listdir(calib) if f.endswith(".npy"))
  quantize_static(pre, path, CalibReader(files, "x"), quant_format=QuantFormat.QDQ, per_channel=True,
                  activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                  calibrate_method=getattr(CalibrationMethod, method))
  return time.time() - t


def calib_lines(name, seed, make):
  """OUT/<name>/calib: 100 .npy samples make(rng) of a generator seeded with `seed` (existing files are kept, the
  generator still advances). Returns (OUT/<name>, the calib folder)."""
  d = os.path.join(OUT, name)
  calib = os.path.join(d, "calib")
  os.makedirs(calib, exist_ok=True)
  rng = random.Random(seed)
  for i in range(100):
    x = make(rng)
    p = os.path.join(calib, f"{i:03d}.npy")
    if not os.path.exists(p):
      np.save(p, x)
  return d, calib


def run_rec(args):
  d, calib = calib_lines("rec", 1, lambda rng: rec_preprocess(render_line(random_text(rng), rng)))
  model = os.path.join(PPOCR, "ch_PP-OCRv4_rec_infer.onnx")
  work, yaml = write_yaml(d, args, model, "rec", calib, "1x3x48x320")
  secs = None if args.skip_compile or args.rec_kwm else compile_model(args.kaiwu, yaml)
  ref, q = sessions(model, args.rec_kwm or os.path.join(work, "rec.kwm"))
  table = keys()
  rng = random.Random(2)
  n_chars = err_f = err_q = exact_f = exact_q = 0
  cosines = []
  for i in range(args.lines):
    text = random_text(rng)
    x = rec_preprocess(render_line(text, rng))
    pf = ref.run(None, {"x": x})[0][0]
    pq = q.run(None, {q.input_names[0]: x})[0][0]
    a, b = pf.ravel().astype(np.float64), pq.ravel().astype(np.float64)
    cosines.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30)))
    tf, tq = ctc_decode(pf, table), ctc_decode(pq, table)
    n_chars += len(text)
    err_f += edit_distance(tf, text)
    err_q += edit_distance(tq, text)
    exact_f += tf == text
    exact_q += tq == text
  r = {"lines": args.lines, "chars": n_chars, "float_char_acc": 1 - err_f / n_chars, "int8_char_acc": 1 - err_q / n_chars,
       "float_line_acc": exact_f / args.lines, "int8_line_acc": exact_q / args.lines,
       "mean_cosine": float(np.mean(cosines)), "compile_s": secs}
  r["drop_points"] = 100 * (r["float_char_acc"] - r["int8_char_acc"])
  return r


def cls_sample(rng):
  """A rendered text line, upright (label 0) or turned by 180 degrees (label 1), preprocessed."""
  img = render_line(random_text(rng), rng)
  label = rng.random() < 0.5
  if label:
    img = img.rotate(180)
  return line_preprocess(img, 192), int(label)


def run_cls(args):
  d, calib = calib_lines("cls", 3, lambda rng: cls_sample(rng)[0])
  model = os.path.join(PPOCR, "ch_ppocr_mobile_v2.0_cls_infer.onnx")
  work, yaml = write_yaml(d, args, model, "cls", calib, "1x3x48x192")
  secs = None if args.skip_compile or args.cls_kwm else compile_model(args.kaiwu, yaml)
  ref, q = sessions(model, args.cls_kwm or os.path.join(work, "cls.kwm"))
  rng = random.Random(4)
  ok_f = ok_q = agree = 0
  cosines = []
  for i in range(args.cls_lines):
    x, label = cls_sample(rng)
    pf = ref.run(None, {"x": x})[0][0]
    pq = q.run(None, {q.input_names[0]: x})[0][0]
    a, b = pf.astype(np.float64), pq.astype(np.float64)
    cosines.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30)))
    ok_f += int(np.argmax(pf)) == label
    ok_q += int(np.argmax(pq)) == label
    agree += int(np.argmax(pf)) == int(np.argmax(pq))
  n = args.cls_lines
  r = {"lines": n, "float_acc": ok_f / n, "int8_acc": ok_q / n, "agreement": agree / n,
       "mean_cosine": float(np.mean(cosines)), "compile_s": secs}
  r["drop_points"] = 100 * (r["float_acc"] - r["int8_acc"])
  return r


def det_preprocess(path):
  img = Image.open(path).convert("RGB").resize((640, 640), Image.BILINEAR)
  x = (np.asarray(img, np.float32) / 255.0 - IMNET_MEAN) / IMNET_STD
  return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


class NoisyInput:
  """The float model fed the image plus uniform noise of +-lsb pixel steps (1/255 before the mean/std), seeded: how
  far the binarized maps move under perturbations far below what any camera or JPEG adds."""

  def __init__(self, sess, lsb):
    self.sess, self.lsb, self.rng = sess, lsb, np.random.default_rng(0)
    self.input_names = ["x"]

  def run(self, names, feed):
    x = feed["x"]
    n = self.rng.uniform(-self.lsb, self.lsb, x.shape) / 255 / IMNET_STD.reshape(1, 3, 1, 1)
    return self.sess.run(names, {"x": (x + n).astype(np.float32)})


def run_det(args):
  d = os.path.join(OUT, "det")
  calib = os.path.join(d, "calib")
  os.makedirs(calib, exist_ok=True)
  with open(os.path.join(IMAGES, "labels.tsv")) as f:
    files = [line.split("\t")[0] for line in f.read().splitlines()[1:] if line]
  cal_files, eval_files = files[0::10], [f for i, f in enumerate(files) if i % 10]
  for i, f in enumerate(cal_files):
    p = os.path.join(calib, f"{i:03d}.npy")
    if not os.path.exists(p):
      np.save(p, det_preprocess(os.path.join(IMAGES, f)))
  model = os.path.join(PPOCR, "ch_PP-OCRv4_det_infer.onnx")
  if args.det_noise:  # the float model's own stability: the same image with invisible pixel noise
    ref, _ = sessions(model, None)
    q = NoisyInput(ref, args.det_noise)
    secs = None
  elif args.det_ort:  # the peer: onnxruntime quantize_static on the same 100 inputs, run by onnxruntime
    path = ort_det_path(args.det_ort)
    secs = ort_quantize(model, calib, path, args.det_ort)
    ref, _ = sessions(model, None)
    q = sessions(path, None)[0]
    q.input_names = [q.get_inputs()[0].name]
  else:
    work, yaml = write_yaml(d, args, model, "det", calib, "1x3x640x640")
    secs = None if args.skip_compile or args.det_kwm else compile_model(args.kaiwu, yaml)
    ref, q = sessions(model, args.det_kwm or os.path.join(work, "det.kwm"))
  inter = union = 0
  per_image, cosines = [], []
  for f in eval_files[: args.det_images]:
    x = det_preprocess(os.path.join(IMAGES, f))
    mf = ref.run(None, {"x": x})[0]
    mq = q.run(None, {q.input_names[0]: x})[0]
    a, b = mf.ravel().astype(np.float64), mq.ravel().astype(np.float64)
    cosines.append(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30)))
    bf, bq = mf > 0.3, mq > 0.3
    i_, u_ = int(np.logical_and(bf, bq).sum()), int(np.logical_or(bf, bq).sum())
    inter += i_
    union += u_
    if u_ >= 100:
      per_image.append(i_ / u_)
  return {"images": len(cosines), "iou": inter / max(union, 1), "mean_iou_per_image": float(np.mean(per_image)),
          "images_with_text_pixels": len(per_image), "min_iou_per_image": float(np.min(per_image)),
          "mean_cosine": float(np.mean(cosines)), "compile_s": secs}


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--rec", action="store_true")
  ap.add_argument("--det", action="store_true")
  ap.add_argument("--cls", action="store_true", help="the angle classifier on rendered lines, half turned by 180")
  ap.add_argument("--cls-lines", type=int, default=1000)
  ap.add_argument("--cls-kwm", help="evaluate this cls deployable as 'cls_<tag>'")
  ap.add_argument("--lines", type=int, default=500)
  ap.add_argument("--det-images", type=int, default=900)
  ap.add_argument("--skip-compile", action="store_true")
  ap.add_argument("--rec-kwm", help="evaluate this rec deployable (e.g. a mixed-precision compile) as 'rec_<tag>'")
  ap.add_argument("--det-kwm", help="evaluate this det deployable (or QDQ .onnx, run by Kaiwu) as 'det_<tag>'")
  ap.add_argument("--det-ort", metavar="METHOD", help="the peer: onnxruntime quantize_static with this calibration "
                  "method (MinMax, Entropy, Percentile) on the same 100 inputs, run by onnxruntime, as 'det_ort_<method>'")
  ap.add_argument("--det-noise", type=float, metavar="LSB", help="no quantization: the float model against itself "
                  "fed the image plus uniform noise of +-LSB pixel steps, as 'det_noise_<LSB>' (the metric's floor)")
  ap.add_argument("--quant-config", help="compile with this calibration_parameters.quant_config (JSON) into "
                  "build/ppocr_eval/{rec,det}/out_<tag> and evaluate it as '<model>_<tag>'")
  ap.add_argument("--tag", default="amp")
  ap.add_argument("--kaiwu", default=os.path.join(ROOT, "build", "bin", "kaiwu"))
  ap.add_argument("--calibration-type", default="default", help="calibration_type of the compiled variants")
  ap.add_argument("--max-percentile", type=float, help="max_percentile of the compiled variants (with max)")
  ap.add_argument("--config", help="the yaml a given --rec-kwm/--det-kwm/--cls-kwm was compiled from: its quant_config and "
                  "calibration_type are recorded with the result")
  ap.add_argument("--report-only", action="store_true", help="only rewrite RESULTS_PPOCR.md from results.json")
  args = ap.parse_args()
  if args.report_only:
    write_report(json.load(open(os.path.join(OUT, "results.json"))))
    return
  if not args.rec and not args.det and not args.cls:
    args.rec = args.det = args.cls = True
  res_path = os.path.join(OUT, "results.json")
  res = json.load(open(res_path)) if os.path.exists(res_path) else {}
  for name, run, kwm in (("rec", run_rec, args.rec_kwm), ("det", run_det, args.det_kwm), ("cls", run_cls, args.cls_kwm)):
    if not getattr(args, name):
      continue
    tag = args.tag
    if name == "det" and args.det_ort:
      kwm, tag = ort_det_path(args.det_ort), "ort_" + args.det_ort.lower()
    noise = name == "det" and args.det_noise
    if noise:
      tag = f"noise_{args.det_noise:g}"
    tagged = bool(kwm or args.quant_config or noise)
    key = name + "_" + tag if tagged else name
    res[key] = run(args)
    if tagged and not noise:
      res[key]["kwm"] = os.path.relpath(kwm or os.path.join(OUT, name, "out_" + tag, name + ".kwm"), ROOT)
    if args.quant_config:
      res[key]["quant_config"] = args.quant_config
      if args.calibration_type != "default":
        res[key]["calibration_type"] = args.calibration_type + (
            f" (max_percentile {args.max_percentile:g})" if args.max_percentile is not None else "")
    if args.config and kwm:
      res[key].update(config_of(args.config))
    print(key, json.dumps(res[key]))
  res["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
  os.makedirs(OUT, exist_ok=True)
  json.dump(res, open(res_path, "w"), indent=1)
  write_report(res)


def config_of(yaml_path):
  """quant_config and calibration_type (with max_percentile) of a compile yaml, as recorded with a result."""
  c = {}  # the flat `  key: value` lines of calibration_parameters (the venv has no yaml module)
  section = None
  for line in open(yaml_path):
    if line and not line[0].isspace():
      section = line.split(":", 1)[0].strip()
    elif section == "calibration_parameters" and ":" in line:
      k, v = line.strip().split(":", 1)
      c[k.strip()] = v.strip().strip("'\"")
  r = {"config": os.path.relpath(yaml_path, ROOT)}
  if c.get("quant_config"):
    r["quant_config"] = c["quant_config"]
  if c.get("calibration_type", "default") != "default":
    r["calibration_type"] = str(c["calibration_type"]) + (
        f" (max_percentile {c['max_percentile']})" if "max_percentile" in c else "")
  return r


def write_report(res):
  lines = ["# PP-OCRv4 accuracy after int8 (issue 6, acceptances 3 and 4)", "",
           f"Regenerate: `.venv/bin/python bench/eval_ppocr.py` ({res['date']}; calibration_type default).", ""]
  if "rec" in res:
    r = res["rec"]
    lines += ["## Recognition (ch_PP-OCRv4_rec)", "",
              f"{r['lines']} text lines ({r['chars']} characters) rendered with DejaVu fonts, 100 other lines calibrate.",
              "", "| model | character accuracy | line accuracy |", "|---|---|---|",
              f"| float (onnxruntime) | {100 * r['float_char_acc']:.2f}% | {100 * r['float_line_acc']:.2f}% |",
              f"| Kaiwu int8 deployable | {100 * r['int8_char_acc']:.2f}% | {100 * r['int8_line_acc']:.2f}% |", "",
              f"Drop: {r['drop_points']:.2f} points (target <= 0.5). Mean output cosine {r['mean_cosine']:.5f}.", ""]
  for key in sorted(k for k in res if k.startswith("rec_")):
    r = res[key]
    lines += [f"### Recognition, {key[4:]} ({r.get('kwm', '')})", "",
              *([f"`quant_config: {r['quant_config']}`", ""] if r.get("quant_config") else []),
              f"character accuracy {100 * r['int8_char_acc']:.2f}% (float {100 * r['float_char_acc']:.2f}%, drop "
              f"{r['drop_points']:.2f} points), line accuracy {100 * r['int8_line_acc']:.2f}%, mean output cosine "
              f"{r['mean_cosine']:.5f}.", ""]
  if "det" in res:
    r = res["det"]
    lines += ["## Detection (ch_PP-OCRv4_det)", "",
              f"{r['images']} imagenet-sample images at 640x640 (every 10th of the 1000 calibrates), maps binarized "
              "at 0.3.", "", "| metric | value |", "|---|---|",
              f"| IoU of the binarized maps, all pixels of all images | {r['iou']:.4f} |",
              f"| mean IoU per image ({r['images_with_text_pixels']} images with >= 100 positive pixels) | "
              f"{r['mean_iou_per_image']:.4f} |", f"| worst image IoU | {r['min_iou_per_image']:.4f} |",
              f"| mean map cosine | {r['mean_cosine']:.5f} |", "", "Target: IoU >= 0.97.", ""]
  for key in sorted(k for k in res if k.startswith("det_")):
    r = res[key]
    lines += [f"### Detection, {key[4:]}" + (f" ({r['kwm']})" if r.get("kwm") else ""), "",
              *([f"Compiled from `{r['config']}`" + (f", `calibration_type: {r['calibration_type']}`"
                 if r.get("calibration_type") else "") + ".", ""] if r.get("config") else
                [f"`calibration_type: {r['calibration_type']}`", ""] if r.get("calibration_type") else []),
              *([f"`quant_config: {r['quant_config']}`", ""] if r.get("quant_config") else []),
              *([f"No quantization: the float model against itself fed the image plus uniform noise of "
                 f"+-{key[10:]} pixel steps (1/255 before mean/std; `--det-noise {key[10:]}`).", ""]
                if key.startswith("det_noise_") else []),
              *([f"The peer: onnxruntime `quantize_static` (opset 13, quant_pre_process, QDQ, per-channel int8 weights, "
                 f"int8 activations, {key[8:]} calibration on the same 100 inputs), run by onnxruntime (`--det-ort "
                 f"METHOD`).", ""] if key.startswith("det_ort_") else []),
              f"IoU of the binarized maps {r['iou']:.4f} ({r['images']} images), mean IoU per image "
              f"{r['mean_iou_per_image']:.4f}, worst image {r['min_iou_per_image']:.4f}.", ""]
  for key in sorted(k for k in res if k == "cls" or k.startswith("cls_")):
    r = res[key]
    if key == "cls":
      lines += ["## Angle classifier (ch_ppocr_mobile_v2.0_cls)", "",
                f"{r['lines']} rendered text lines, half of them turned by 180 degrees (label 1); 100 other lines "
                "calibrate.", ""]
    if key != "cls":
      lines += [f"### Angle classifier, {key[4:]} ({r.get('kwm', '')})", ""]
    lines += [f"{'int8 (default settings)' if key == 'cls' else 'Kaiwu'}: accuracy {100 * r['int8_acc']:.2f}% (float "
              f"{100 * r['float_acc']:.2f}%, drop {r['drop_points']:.2f} points), agreement with float "
              f"{100 * r['agreement']:.2f}%, mean output cosine {r['mean_cosine']:.5f}.", ""]
  with open(RESULTS_MD, "w") as f:
    f.write("\n".join(lines))
  print("\n".join(lines))


if __name__ == "__main__":
  main()
