#!/usr/bin/env python3
"""Preprocessing cost in the deployable model (issue 4, acceptance 7): resnet50 compiled three ways from the same
100 calibration images and timed side by side:

  nv12    input_type_rt nv12 (pyramid: input_y 1x224x224x1 + input_uv 1x112x112x2 uint8), ImageNet mean/scale
  rgb     input_type_rt rgb from ddr (uint8 NHWC 1x224x224x3), ImageNet mean/scale
  float   featuremap (the normalized float32 NCHW tensor; no preprocessing in the model)

Each deployable is timed by build/bin/kaiwu_bench on a real frame (the first evaluation image), engines alternating
over --rounds rounds, medians. The preprocessing is one kaiwu.Preprocess node that writes the int8 NHWC tensor the
first convolution reads (colour conversion, mean/scale and quantization in one pass, no float image in between);
its own time is reported from `kaiwu exec perf --profile_path`.

  .venv/bin/python bench/bench_nv12.py [--model resnet50] [--threads 1,2] [--rounds 3] [--skip-compile]

Writes bench/RESULTS_NV12.md and build/nv12_bench/results.json. Run on an idle machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "build", "python"))  # test_nv12_imagenet imports kaiwu
from test_nv12_imagenet import IMAGES, image_files, load_rgb, model_path, normalized, rgb_to_nv12  # noqa: E402

OUT = os.path.join(ROOT, "build", "nv12_bench")
RESULTS_MD = os.path.join(ROOT, "bench", "RESULTS_NV12.md")
KINDS = {
    "nv12": "  input_type_rt: nv12\n  input_type_train: rgb\n",
    "rgb": "  input_type_rt: rgb\n  input_type_train: rgb\n",
    "float": "  input_type_rt: featuremap\n  input_type_train: featuremap\n",
}
NORM = "  mean_value: 123.675 116.28 103.53\n  scale_value: 0.0171248 0.0175070 0.0174292\n"


def compile_kind(kaiwu, name, kind, calib):
  work = os.path.join(OUT, kind)
  yaml = os.path.join(OUT, f"{kind}.yaml")
  with open(yaml, "w") as f:
    f.write(f"model_parameters:\n  onnx_model: '{model_path(name)}'\n  march: x86-avx512vnni\n"
            f"  working_dir: '{work}'\n  output_model_file_prefix: {name}\ninput_parameters:\n  input_name: input\n"
            + KINDS[kind] + "  input_layout_train: NCHW\n  input_shape: 1x3x224x224\n" + (NORM if kind != "float" else "")
            + f"calibration_parameters:\n  cal_data_dir: '{calib}'\n  calibration_type: max\n")
  subprocess.run([kaiwu, "compile", "-q", "-c", yaml], check=True)
  return os.path.join(work, f"{name}.kwm")


def bench(bench_bin, kwm, inputs, threads, runs, warmup):
  cmd = [bench_bin, "-m", kwm, "-t", str(threads), "-w", str(warmup), "-r", str(runs)]
  for i in inputs:
    cmd += ["-i", i]
  r = subprocess.run(cmd, capture_output=True, text=True, check=True)
  return json.loads(r.stdout.strip().splitlines()[-1])["median_ms"]


def preprocess_share(kaiwu, kwm, threads, inputs):
  prof = os.path.join(OUT, "profile_" + os.path.basename(os.path.dirname(kwm)) + ".json")
  subprocess.run([kaiwu, "exec", "perf", "--model_file", kwm, "--frame_count", "100", "--intra_threads", str(threads),
                  "--profile_path", prof], capture_output=True, check=True)
  with open(prof) as f:
    p = json.load(f)
  layers = p.get("layers", [])
  ms = sum(l.get("mean_ms", 0) for l in layers if "Preprocess" in l.get("op_type", "") or "Preprocess" in l.get("name", ""))
  return ms


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--model", default="resnet50")
  ap.add_argument("--threads", default="1,2")
  ap.add_argument("--rounds", type=int, default=3)
  ap.add_argument("--runs", type=int, default=50)
  ap.add_argument("--warmup", type=int, default=10)
  ap.add_argument("--skip-compile", action="store_true")
  ap.add_argument("--build", default=os.path.join(ROOT, "build"))
  args = ap.parse_args()
  kaiwu, bench_bin = os.path.join(args.build, "bin", "kaiwu"), os.path.join(args.build, "bin", "kaiwu_bench")
  os.makedirs(OUT, exist_ok=True)
  files = image_files()
  calib = os.path.join(OUT, "calib")
  os.makedirs(calib, exist_ok=True)
  for i, f in enumerate(files[0::10]):
    p = os.path.join(calib, f"{i:03d}.npy")
    if not os.path.exists(p):
      np.save(p, normalized(load_rgb(os.path.join(IMAGES, f)).astype(np.float64)))
  rgb = load_rgb(os.path.join(IMAGES, files[1]))
  y, uv = rgb_to_nv12(rgb)
  feeds = {"nv12": [("input_y", y[None, :, :, None]), ("input_uv", uv[None])], "rgb": [("input", rgb[None])],
           "float": [("input", normalized(rgb.astype(np.float64)))]}
  inputs = {}
  for kind, arrs in feeds.items():
    inputs[kind] = []
    for n, a in arrs:
      p = os.path.join(OUT, f"in_{kind}_{n}.npy")
      np.save(p, a)
      inputs[kind].append(f"{n}={p}")
  kwms = {k: (os.path.join(OUT, k, f"{args.model}.kwm") if args.skip_compile else compile_kind(kaiwu, args.model, k, calib))
          for k in KINDS}
  load0 = os.getloadavg()[0]
  rows = []
  for t in [int(x) for x in args.threads.split(",")]:
    times = {k: [] for k in KINDS}
    for _ in range(args.rounds):
      for k in KINDS:
        times[k].append(bench(bench_bin, kwms[k], inputs[k], t, args.runs, args.warmup))
    med = {k: statistics.median(v) for k, v in times.items()}
    pre = preprocess_share(kaiwu, kwms["nv12"], t, inputs["nv12"])
    rows.append({"threads": t, "median_ms": med, "rounds": times, "nv12_over_rgb": med["nv12"] / med["rgb"],
                 "nv12_over_float": med["nv12"] / med["float"], "nv12_preprocess_ms": pre})
    print(rows[-1], flush=True)
  res = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "model": args.model, "rows": rows,
         "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2),
         "command": " ".join([".venv/bin/python"] + sys.argv)}
  with open(os.path.join(OUT, "results.json"), "w") as f:
    json.dump(res, f, indent=1)
  L = [f"# nv12 / rgb / float input deployables of {args.model} (issue 4, acceptance 7)", "",
       f"- {res['date']}; load average before / after {res['load_before']} / {res['load_after']}",
       f"- Method: `kaiwu_bench` medians of {args.runs} runs after {args.warmup} warm-ups, the three deployables "
       f"alternating over {args.rounds} rounds, median of the round medians; a real frame (imagenet-sample image 1).",
       "- Regenerate:", "", "```", res["command"], "```", "",
       "| threads | nv12 (y+uv uint8) ms | rgb (uint8 NHWC) ms | float (featuremap) ms | nv12 / rgb | nv12 / float | Preprocess node ms (nv12, profile) |",
       "|---:|---:|---:|---:|---:|---:|---:|"]
  for r in rows:
    m = r["median_ms"]
    L.append(f"| {r['threads']} | {m['nv12']:.3f} | {m['rgb']:.3f} | {m['float']:.3f} | {r['nv12_over_rgb']:.3f} | "
             f"{r['nv12_over_float']:.3f} | {r['nv12_preprocess_ms']:.3f} |")
  L += ["", "Target: nv12 within 5% of rgb. The preprocessing is a single kaiwu.Preprocess pass writing int8 NHWC "
        "(no float image in between).", ""]
  with open(RESULTS_MD, "w") as f:
    f.write("\n".join(L))
  print("\n".join(L))


if __name__ == "__main__":
  main()
