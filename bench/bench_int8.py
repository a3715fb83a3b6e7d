#!/usr/bin/env python3
"""int8 batch-1 latency: Kaiwu's deployable model (P.kwm) against onnxruntime running the same model's QDQ
P_ptq_model.onnx, in the same run, alternating engines, 1 and 2 threads, medians.

The compiled models come from the PTQ sweep (bench/ptq_models.py writes build/ptq_sweep/<model>/out_<calibration>/).
Writes bench/RESULTS_INT8.md and bench/results_int8.json.

Usage (repository root, idle machine):
  .venv/bin/python bench/bench_int8.py [--models resnet50,mobilenet_v2] [--calibration default] [--threads 1,2]
                                       [--runs 50] [--warmup 20] [--rounds 1]
"""
import argparse
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_float as bf  # noqa: E402

ROOT = bf.ROOT
SWEEP = os.path.join(ROOT, "build", "ptq_sweep")
SHAPES = {"ppocr_det": [1, 3, 640, 640], "ppocr_rec": [1, 3, 48, 320], "ppocr_cls": [1, 3, 48, 192],
          "fmnist": [1, 1, 28, 28]}


def bench_pair(name, ptq, kwm, shape, input_path, threads, args, work):
    """Like bench_float.bench_one, but onnxruntime runs the QDQ model and Kaiwu the deployable one."""
    kaiwu_bench = os.path.join(args.build, "bin", "kaiwu_bench")
    got = {"onnxruntime": [], "kaiwu": []}
    load_before = os.getloadavg()[0]
    for r in range(args.rounds):
        order = ["onnxruntime", "kaiwu"] if (r + threads) % 2 else ["kaiwu", "onnxruntime"]
        for eng in order:
            out_dir = os.path.join(work, f"{name}_t{threads}_{eng}")
            os.makedirs(out_dir, exist_ok=True)
            for f in os.listdir(out_dir):
                os.remove(os.path.join(out_dir, f))
            if eng == "onnxruntime":
                cmd = [sys.executable, os.path.join(ROOT, "bench", "bench_float.py"), "--ort-worker", ptq, input_path,
                       str(threads), str(args.warmup), str(args.runs), out_dir]
            else:
                cmd = [kaiwu_bench, "-m", kwm, "-i", input_path, "-t", str(threads), "-w", str(args.warmup),
                       "-r", str(args.runs), "--times", "--save-outputs", out_dir]
            got[eng].append(bf.run_json(cmd, args.timeout))
    res = {}
    for eng, js in got.items():
        errors = [j for j in js if "error" in j]
        if errors:
            res[eng] = errors[0]
            continue
        j = dict(js[0])
        j["times_ms"] = [t for x in js for t in x["times_ms"]]
        j.update({k: round(v, 4) for k, v in bf.latency_stats(j["times_ms"]).items()})
        res[eng] = j
    row = {"model": name, "threads": threads, "input_shape": shape, "onnxruntime": res["onnxruntime"],
           "kaiwu": res["kaiwu"], "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    if all("error" not in j for j in res.values()):
        row["kaiwu_over_ort"] = round(res["kaiwu"]["median_ms"] / res["onnxruntime"]["median_ms"], 4)
        row["agreement"] = agreement(os.path.join(work, f"{name}_t{threads}_onnxruntime"),
                                     os.path.join(work, f"{name}_t{threads}_kaiwu"))
    return row


def agreement(dir_ref, dir_out):
    """Cosine between the two engines' first outputs."""
    import numpy as np
    a, b = os.path.join(dir_ref, "0.npy"), os.path.join(dir_out, "0.npy")
    if not (os.path.exists(a) and os.path.exists(b)):
        return None
    a = np.load(a).astype(np.float64).ravel()
    b = np.load(b).astype(np.float64).ravel()
    if a.shape != b.shape:
        return None
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default="resnet50,mobilenet_v2,resnet18,mobilenet_v3_small,efficientnet_b0")
    ap.add_argument("--calibration", default="default")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--out-md", default=os.path.join(ROOT, "bench", "RESULTS_INT8.md"))
    ap.add_argument("--out-json", default=os.path.join(ROOT, "bench", "results_int8.json"))
    args = ap.parse_args()
    work = os.path.join(args.build, "bench_int8")
    os.makedirs(work, exist_ok=True)
    rows = []
    load0 = os.getloadavg()[0]
    for name in args.models.split(","):
        d = os.path.join(SWEEP, name, f"out_{args.calibration}")
        ptq, kwm = os.path.join(d, f"{name}_ptq_model.onnx"), os.path.join(d, f"{name}.kwm")
        if not (os.path.exists(ptq) and os.path.exists(kwm)):
            print(f"[bench_int8] {name}: missing {ptq} or {kwm} (run bench/ptq_models.py first)", flush=True)
            continue
        shape = SHAPES.get(name, [1, 3, 224, 224])
        # A real (preprocessed) image, so that the output agreement is meaningful (det's output on noise is not).
        real = sorted(os.listdir(os.path.join(SWEEP, name, "calib"))) if os.path.isdir(os.path.join(SWEEP, name, "calib")) else []
        inp = os.path.join(SWEEP, name, "calib", real[0]) if real else bf.make_input(name, shape, work)
        for t in [int(x) for x in args.threads.split(",")]:
            row = bench_pair(name, ptq, kwm, shape, inp, t, args, work)
            rows.append(row)
            o, k = row["onnxruntime"], row["kaiwu"]
            print(f"[bench_int8] {name} t{t}: ORT {o.get('median_ms', o.get('error'))} ms, "
                  f"kaiwu {k.get('median_ms', k.get('error'))} ms, ratio {row.get('kaiwu_over_ort')}", flush=True)
    info, versions = bf.machine_info(args.build)
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "machine": info,
              "versions": versions, "rows": rows, "command": " ".join([".venv/bin/python"] + sys.argv),
              "loadavg_before": round(load0, 2), "loadavg_after": round(os.getloadavg()[0], 2),
              "settings": {"runs": args.runs, "warmup": args.warmup, "rounds": args.rounds}}
    with open(args.out_json, "w") as f:
        json.dump(report, f, indent=1)
    m = info
    L = ["# Kaiwu int8 benchmark: deployable model (P.kwm) vs onnxruntime on the QDQ model (P_ptq_model.onnx)", "",
         f"- Date: {report['date']}; machine: {m['cpu']}, {m['cpus']} CPUs; onnxruntime {versions.get('onnxruntime')}",
         f"- Load average before / after: {report['loadavg_before']} / {report['loadavg_after']}",
         f"- Method: batch 1, the first calibration image of the sweep as input, each engine in its own process, {args.warmup} warm-up then "
         f"{args.runs} timed runs x {args.rounds} round(s), engines alternating; medians. onnxruntime: "
         "CPUExecutionProvider, all graph optimizations (its QDQ fusion to QLinearConv / MLAS int8 kernels), "
         "intra_op_num_threads = threads. Models compiled by `kaiwu compile` (bench/ptq_models.py, calibration "
         f"`{args.calibration}`, 100 ImageNet-sample images).",
         "- Regenerate:", "", "```", report["command"], "```", "",
         "| model | threads | onnxruntime QDQ median ms | kaiwu P.kwm median ms | ratio kaiwu/ORT | output cosine kaiwu vs ORT |",
         "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        o, k = row["onnxruntime"], row["kaiwu"]
        cells = [row["model"], str(row["threads"]),
                 bf.fmt_ms(o.get("median_ms")) if "error" not in o else "error: " + o["error"][:80],
                 bf.fmt_ms(k.get("median_ms")) if "error" not in k else "error: " + k["error"][:80],
                 bf.fmt(row.get("kaiwu_over_ort")),
                 f"{row['agreement']:.5f}" if row.get("agreement") is not None else "n/a"]
        L.append("| " + " | ".join(cells) + " |")
    L += ["", "Ratio < 1: Kaiwu is faster.", ""]
    with open(args.out_md, "w") as f:
        f.write("\n".join(L))
    print(f"[bench_int8] wrote {args.out_md}")


if __name__ == "__main__":
    main()
