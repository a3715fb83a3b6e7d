#!/usr/bin/env python3
"""PP-OCRv4 det latency of the precision mixes of issue 6 side by side with the float model (issue 6, acceptance 3).

  .venv/bin/python bench/det_mix_latency.py [--rounds 3] [--runs 20] [--threads 2,1] TAG=MODEL ...

Per round and thread count, onnxruntime on the float model and `kaiwu_bench` on every MODEL (a .kwm or .onnx) run
one after another in separate subprocesses on the same seeded 1x3x640x640 input; the table gives the median over
the rounds of each run's median (20 timed runs after 5 warm-ups). The VM this runs on alternates fast and slow
phases, so only numbers from one table compare. Prints a markdown table; --out appends it to a file.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_SNIPPET = r"""
import sys, time, numpy as np, onnxruntime as ort
m, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
s = ort.InferenceSession(m, o, providers=['CPUExecutionProvider'])
x = np.random.default_rng(0).standard_normal((1, 3, 640, 640)).astype(np.float32)
name = s.get_inputs()[0].name
for _ in range(5): s.run(None, {name: x})
t = []
for _ in range(runs):
    a = time.perf_counter(); s.run(None, {name: x}); t.append((time.perf_counter() - a) * 1e3)
print(float(np.median(t)))
"""


def ort_ms(model, threads, runs):
    out = subprocess.run([sys.executable, "-c", ORT_SNIPPET, model, str(threads), str(runs)], check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def kaiwu_ms(bench, model, threads, runs):
    out = subprocess.run([bench, "-m", model, "--shape", "1x3x640x640", "-t", str(threads), "-w", "5", "-r", str(runs)],
                         check=True, capture_output=True, text=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["median_ms"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="TAG=MODEL")
    ap.add_argument("--float-onnx", default=os.path.join(os.path.dirname(ROOT), "shared/models/ppocr/ch_PP-OCRv4_det_infer.onnx"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build/bin/kaiwu_bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--out", help="append the table to this file")
    a = ap.parse_args()
    tags = [m.split("=", 1) for m in a.models]
    threads = [int(t) for t in a.threads.split(",")]
    times = {(tag, t): [] for t in threads for tag in ["onnxruntime float"] + [tg for tg, _ in tags]}
    for t in threads:
        for r in range(a.rounds):
            times[("onnxruntime float", t)].append(ort_ms(a.float_onnx, t, a.runs))
            for tag, model in tags:
                times[(tag, t)].append(kaiwu_ms(a.bench, model, t, a.runs))
            print(f"threads {t} round {r + 1}: " + ", ".join(f"{k[0]} {v[-1]:.1f}" for k, v in times.items() if k[1] == t),
                  file=sys.stderr)
    lines = ["| model | " + " | ".join(f"{t} thread{'s' if t > 1 else ''} (ms)" for t in threads) + " |",
             "|---|" + "---|" * len(threads)]
    for tag in ["onnxruntime float"] + [tg for tg, _ in tags]:
        lines.append(f"| {tag} | " + " | ".join(f"{statistics.median(times[(tag, t)]):.1f}" for t in threads) + " |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        with open(a.out, "a") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
