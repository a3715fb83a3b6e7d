#!/usr/bin/env python3
"""Issue 5 checks on this machine: `kaiwu exec perf` against the bench harness (`kaiwu_bench`), and the static
estimate (`kaiwu perf`) against the measured profile, per model, float ONNX and int8 deployable.

For each model and thread count: kaiwu_bench median (warm-up 10, 200 runs), `kaiwu exec perf` average and p50
(200 frames, the same threads across one frame), and `kaiwu perf --compare` of the estimate with the exec profile
(total error and median per-layer error over the layers above 2% of the measured time). Writes bench/RESULTS_PERF.md.

Usage (idle machine, after bench/ptq_models.py produced the .kwm files):
  .venv/bin/python bench/perf_check.py [--threads 1,2] [--frames 200]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KAIWU = os.path.join(ROOT, "build", "bin", "kaiwu")
BENCH = os.path.join(ROOT, "build", "bin", "kaiwu_bench")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
SWEEP = os.path.join(ROOT, "build", "ptq_sweep")

MODELS = [  # name, float model, input name, shape
    ("resnet50", os.path.join(ROOT, "build", "models", "resnet50.onnx"), None, "1x3x224x224"),
    ("mobilenet_v2", os.path.join(ROOT, "build", "models", "mobilenet_v2.onnx"), None, "1x3x224x224"),
    ("efficientnet_b0", os.path.join(ROOT, "build", "models", "efficientnet_b0.onnx"), None, "1x3x224x224"),
    ("ppocr_det", os.path.join(SHARED, "ppocr", "ch_PP-OCRv4_det_infer.onnx"), "x", "1x3x640x640"),
    ("ppocr_rec", os.path.join(SHARED, "ppocr", "ch_PP-OCRv4_rec_infer.onnx"), "x", "1x3x48x320"),
    ("fmnist", os.path.join(SHARED, "fmnist", "fmnist_cnn.onnx"), None, "1x1x28x28"),
]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return p.returncode, p.stdout + p.stderr


def measure(label, model, inp, shape, threads, frames, work):
    row = {"model": label, "threads": threads}
    shape_arg = (inp + "=" if inp else "") + shape
    rc, out = run([BENCH, "-m", model, "--shape", shape_arg, "-t", str(threads), "-w", "10", "-r", str(frames)])
    js = [l for l in out.splitlines() if l.startswith("{")]
    row["bench_median_ms"] = json.loads(js[-1])["median_ms"] if js else None
    prof = os.path.join(work, f"{label}_t{threads}.json")
    cmd = [KAIWU, "exec", "perf", "--model_file", model, "--frame_count", str(frames), "--warmup", "10",
           "--intra_threads", str(threads), "--progress_every", "0", "--profile_path", prof]
    if inp:
        cmd += ["--input_shape", f"{inp}:{shape}"]
    rc, out = run(cmd)
    m = re.search(r"Average\s+latency\s+is:\s+([\d.]+)", out)
    m50 = re.search(r"P50\s+latency\s+is:\s+([\d.]+)", out)
    row["exec_avg_ms"] = float(m.group(1)) if m else None
    row["exec_p50_ms"] = float(m50.group(1)) if m50 else None
    if rc != 0:
        row["error"] = out.strip().splitlines()[-1] if out.strip() else f"exit {rc}"
        return row
    cmd = [KAIWU, "perf", model, "-t", str(threads), "-o", work, "--compare", prof]
    if inp:
        cmd += ["--shape", f"{inp}={shape}"]
    rc, out = run(cmd)
    m = re.search(r"total: estimated ([\d.]+) ms, measured ([\d.]+) ms", out)
    e = re.search(r"median \|error\| over the (\d+) layers above 2% of the measured time: ([\d.]+)%", out)
    if m:
        row["estimate_ms"] = float(m.group(1))
        row["estimate_error_pct"] = 100.0 * (float(m.group(1)) - float(m.group(2))) / float(m.group(2))
    if e:
        row["layer_median_error_pct"] = float(e.group(2))
        row["layers_compared"] = int(e.group(1))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--out-md", default=os.path.join(ROOT, "bench", "RESULTS_PERF.md"))
    args = ap.parse_args()
    work = os.path.join(ROOT, "build", "perf_check")
    os.makedirs(work, exist_ok=True)
    rows = []
    load0 = os.getloadavg()[0]
    for name, fmodel, inp, shape in MODELS:
        variants = [(name + " float", fmodel)]
        kwm = os.path.join(SWEEP, name, "out_default", name + ".kwm")
        if os.path.exists(kwm):
            variants.append((name + " int8 .kwm", kwm))
        for label, model in variants:
            if not os.path.exists(model):
                continue
            for t in [int(x) for x in args.threads.split(",")]:
                r = measure(label, model, inp, shape, t, args.frames, work)
                rows.append(r)
                print(json.dumps(r), flush=True)
    L = ["# `kaiwu exec perf` vs the bench harness, and the static estimate vs measurement", "",
         f"- Date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; 2-core AMD EPYC; "
         f"load average before / after: {load0:.2f} / {os.getloadavg()[0]:.2f}",
         "- bench: `kaiwu_bench` median of the runs; exec: `kaiwu exec perf` average and p50 over the same number of "
         "frames (one frame across `threads` threads); estimate: `kaiwu perf` total with the built-in x86-avx512vnni "
         "factors (no `--calibrate` yet) against the exec profile; layer error: median |estimate - measured| / "
         "measured over the layers above 2% of the measured time.",
         "- Regenerate: `.venv/bin/python bench/perf_check.py` (after `bench/ptq_models.py`).", "",
         "| model | threads | bench median ms | exec avg ms | exec p50 ms | exec avg vs bench | estimate ms | "
         "estimate error | median layer error (layers) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b, a = r.get("bench_median_ms"), r.get("exec_avg_ms")
        rel = f"{100 * (a - b) / b:+.1f}%" if a and b else "n/a"
        est = f"{r['estimate_ms']:.3f}" if "estimate_ms" in r else "n/a"
        ee = f"{r['estimate_error_pct']:+.1f}%" if "estimate_error_pct" in r else "n/a"
        le = (f"{r['layer_median_error_pct']:.1f}% ({r['layers_compared']})" if "layer_median_error_pct" in r
              else "n/a")
        L.append(f"| {r['model']} | {r['threads']} | {b if b is not None else 'n/a'} | {a if a is not None else 'n/a'} | "
                 f"{r.get('exec_p50_ms', 'n/a')} | {rel} | {est} | {ee} | {le} |")
    with open(args.out_md, "w") as f:
        f.write("\n".join(L) + "\n")
    print("wrote", args.out_md)


if __name__ == "__main__":
    main()
