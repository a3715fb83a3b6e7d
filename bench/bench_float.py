#!/usr/bin/env python3
"""Float batch-1 latency and peak RSS: Kaiwu against onnxruntime, in the same run, on the same inputs.

For each model and thread count, onnxruntime and kaiwu_bench each run in a fresh subprocess (so that each peak RSS,
VmHWM, is the engine's own), alternately, WARMUP untimed runs then RUNS timed runs each. Writes a Markdown report
(bench/RESULTS_FLOAT.md) and a JSON file (bench/results_float.json).

Usage (from the repository root; `make bench` runs `bash bench/run_all.sh build`):
  .venv/bin/python bench/bench_float.py --build build [--models a,b] [--threads 1,2] [--runs 50] [--warmup 20]
                                        [--rounds 1] [--quick] [--out-md F] [--out-json F]
Needs the venv (numpy, onnxruntime) and, to export the torchvision models once, Debian's /usr/bin/python3 with
torch/torchvision. Models come from ../shared/models (override with --shared or $KAIWU_SHARED_MODELS).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TV_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0"]
# name -> (where: "shared" relative path or "tv" for a torchvision export, batch-1 input shape)
MODELS = {
    "fmnist_cnn": ("fmnist/fmnist_cnn.onnx", [1, 1, 28, 28]),
    "ppocrv4_det": ("ppocr/ch_PP-OCRv4_det_infer.onnx", [1, 3, 640, 640]),
    "ppocrv4_rec": ("ppocr/ch_PP-OCRv4_rec_infer.onnx", [1, 3, 48, 320]),
    "ppocr_cls": ("ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", [1, 3, 48, 192]),
}
for _n in TV_MODELS:
    MODELS[_n] = ("tv", [1, 3, 224, 224])


def proc_status_mb(field):
    """A 'VmXXX: N kB' field of /proc/self/status in MiB (-1 if unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return -1.0


def latency_stats(times):
    """Median/mean/min/max/p90 of a list of ms values."""
    s = sorted(times)
    p90 = s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]
    return {"median_ms": statistics.median(s), "mean_ms": statistics.fmean(s), "min_ms": s[0], "max_ms": s[-1],
            "p90_ms": p90}


def ort_worker(model, input_path, threads, warmup, runs, save_dir):
    """Runs in a subprocess: times onnxruntime on one model and prints one JSON line like kaiwu_bench."""
    import numpy as np
    import onnxruntime as ort
    rss_base = proc_status_mb("VmRSS")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    load_ms = (time.perf_counter() - t0) * 1e3
    hwm_load = proc_status_mb("VmHWM")
    x = np.load(input_path)
    feed = {sess.get_inputs()[0].name: x}
    first_ms = 0.0
    for i in range(max(warmup, 1)):
        t = time.perf_counter()
        outs = sess.run(None, feed)
        if i == 0:
            first_ms = (time.perf_counter() - t) * 1e3
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        outs = sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1e3)
    hwm = proc_status_mb("VmHWM")
    if save_dir:
        for i, o in enumerate(outs):
            np.save(os.path.join(save_dir, f"{i}.npy"), o)
    r = {"engine": "onnxruntime", "model": model, "threads": threads, "warmup": warmup, "runs": runs}
    r.update({k: round(v, 4) for k, v in latency_stats(times).items()})
    r.update({"load_ms": round(load_ms, 4), "first_run_ms": round(first_ms, 4), "rss_base_mb": round(rss_base, 4),
              "peak_rss_after_load_mb": round(hwm_load, 4), "peak_rss_mb": round(hwm, 4),
              "times_ms": [round(t, 4) for t in times]})
    print(json.dumps(r), flush=True)


def run_json(cmd, timeout_s):
    """Runs a worker command; returns its last JSON line (or {'error': ...})."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s} s"}
    for line in reversed(p.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    how = f"exit code {p.returncode}"
    if p.returncode < 0:
        how = f"killed by {signal.Signals(-p.returncode).name}"
    return {"error": how + (": " + " | ".join(tail) if tail else "")}


def prepare_models(names, shared, cache):
    """Returns name -> model path, exporting missing torchvision models into `cache` with Debian's python."""
    paths, missing_tv = {}, []
    for n in names:
        where, _ = MODELS[n]
        if where == "tv":
            paths[n] = os.path.join(cache, n + ".onnx")
            if not os.path.exists(paths[n]):
                missing_tv.append(n)
        else:
            paths[n] = os.path.join(shared, where)
    if missing_tv:
        os.makedirs(cache, exist_ok=True)
        script = os.path.join(shared, "scripts", "export_tv.py")
        print(f"[bench] exporting {' '.join(missing_tv)} into {cache} (once)", flush=True)
        subprocess.run(["/usr/bin/python3", script, cache] + missing_tv, check=False)
    return paths


def make_input(name, shape, cache):
    """A seeded N(0,1) float32 input for `name`, saved once as an .npy file in cache/inputs."""
    import numpy as np
    d = os.path.join(cache, "inputs")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{name}_{'x'.join(map(str, shape))}.npy")
    if not os.path.exists(path):
        np.save(path, np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    return path


def compare_outputs(dir_ref, dir_out):
    """Max |ours - ORT| over all outputs and the same relative to max |ORT| (None if outputs are missing)."""
    import numpy as np
    worst_abs, worst_rel, i = 0.0, 0.0, 0
    while os.path.exists(os.path.join(dir_ref, f"{i}.npy")):
        p = os.path.join(dir_out, f"{i}.npy")
        if not os.path.exists(p):
            return None
        a = np.load(os.path.join(dir_ref, f"{i}.npy")).astype(np.float64)
        b = np.load(p).astype(np.float64)
        if a.shape != b.shape:
            return {"error": f"output {i} shape {list(b.shape)} != onnxruntime {list(a.shape)}"}
        d = float(np.abs(a - b).max()) if a.size else 0.0
        worst_abs = max(worst_abs, d)
        worst_rel = max(worst_rel, d / max(float(np.abs(a).max()) if a.size else 0.0, 1e-30))
        i += 1
    return {"max_abs_diff": worst_abs, "max_rel_diff": worst_rel} if i else None


def bench_one(name, model, shape, input_path, threads, args, work):
    """Alternates onnxruntime and kaiwu_bench subprocesses for `args.rounds` rounds; pools their timings."""
    kaiwu_bench = os.path.join(args.build, "bin", "kaiwu_bench")
    load_before = os.getloadavg()[0]
    got = {"onnxruntime": [], "kaiwu": []}
    for r in range(args.rounds):
        order = ["onnxruntime", "kaiwu"] if (r + threads) % 2 else ["kaiwu", "onnxruntime"]
        for eng in order:
            out_dir = os.path.join(work, f"{name}_t{threads}_{eng}")
            shutil.rmtree(out_dir, ignore_errors=True)  # never compare against a previous run's outputs
            os.makedirs(out_dir)
            if eng == "onnxruntime":
                cmd = [sys.executable, os.path.abspath(__file__), "--ort-worker", model, input_path, str(threads),
                       str(args.warmup), str(args.runs), out_dir]
            else:
                cmd = [kaiwu_bench, "-m", model, "-i", input_path, "-t", str(threads), "-w", str(args.warmup),
                       "-r", str(args.runs), "--times", "--save-outputs", out_dir]
            got[eng].append(run_json(cmd, args.timeout))
    res = {}
    for eng, js in got.items():
        errors = [j for j in js if "error" in j]
        if errors:  # report the first failure of this engine
            res[eng] = errors[0]
            continue
        j = dict(js[0])
        j["times_ms"] = [t for x in js for t in x["times_ms"]]
        for k in ("peak_rss_mb", "peak_rss_after_load_mb"):
            j[k] = max(x[k] for x in js)
        res[eng] = j
    for eng, j in res.items():
        if "error" not in j:
            j.update({k: round(v, 4) for k, v in latency_stats(j["times_ms"]).items()})
            j["timed_runs"] = len(j["times_ms"])
    row = {"model": name, "threads": threads, "input_shape": shape, "onnxruntime": res["onnxruntime"],
           "kaiwu": res["kaiwu"], "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    ok = all("error" not in j for j in res.values())
    if ok:
        row["kaiwu_over_ort"] = round(res["kaiwu"]["median_ms"] / res["onnxruntime"]["median_ms"], 4)
        row["accuracy"] = compare_outputs(os.path.join(work, f"{name}_t{threads}_onnxruntime"),
                                          os.path.join(work, f"{name}_t{threads}_kaiwu"))
    return row


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(build):
    info = {"cpu": "", "cpus": os.cpu_count(), "platform": platform.platform()}
    for line in sh(["lscpu"]).splitlines():
        k, _, v = line.partition(":")
        v = v.strip()
        if k == "Model name":
            info["cpu"] = v
        elif k in ("Core(s) per socket", "Socket(s)", "Thread(s) per core"):
            info[k.lower().replace("(s)", "s").replace(" ", "_")] = v
        elif k == "Flags":
            info["avx512_vnni"] = "avx512_vnni" in v.split()
    try:
        with open("/proc/meminfo") as f:
            info["mem_gb"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for mod in ("onnxruntime", "numpy", "onnx"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "n/a"
    versions["kaiwu"] = sh([os.path.join(build, "bin", "kaiwu"), "--version"]).strip() or "n/a"
    cxx = "c++"
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_CXX_COMPILER:"):
                    cxx = line.split("=", 1)[1].strip()
                elif line.startswith("KAIWU_TARGET:"):
                    versions["kaiwu_target"] = line.split("=", 1)[1].strip()
                elif line.startswith("CMAKE_BUILD_TYPE:"):
                    versions["build_type"] = line.split("=", 1)[1].strip() or "Release (default)"
    except OSError:
        pass
    versions["compiler"] = (sh([cxx, "--version"]).splitlines() or ["n/a"])[0]
    return info, versions


def fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


def fmt_ms(v):
    """Milliseconds with 3 decimals below 10 ms, 2 above."""
    return "n/a" if v is None else f"{v:.3f}" if v < 10 else f"{v:.2f}"


def write_markdown(path, report):
    m, v = report["machine"], report["versions"]
    L = ["# Kaiwu float benchmark: batch-1 latency and peak RSS against onnxruntime", ""]
    timed = report["settings"]["runs"] * report["settings"]["rounds"]
    if timed < 50:
        L += [f"**Short run ({timed} timed runs per engine, fewer than 50): indicative numbers only.**", ""]
    L += [f"- Date: {report['date']}",
          f"- Machine: {m['cpu']}, {m['cpus']} CPUs ({m.get('cores_per_socket', '?')} cores/socket x "
          f"{m.get('sockets', '?')} socket, {m.get('threads_per_core', '?')} thread/core), "
          f"AVX-512 VNNI: {'yes' if m.get('avx512_vnni') else 'no'}, {m.get('mem_gb', '?')} GB RAM; {m['platform']}",
          f"- Load average before / after: {report['loadavg_before']} / {report['loadavg_after']} "
          "(the machine may be shared; compare engines within a row: they ran alternately in the same run)",
          f"- Versions: kaiwu {v.get('kaiwu')} (target {v.get('kaiwu_target', '?')}, "
          f"{v.get('build_type', '?')}, {v.get('compiler')}); onnxruntime {v.get('onnxruntime')}; "
          f"numpy {v.get('numpy')}; Python {v.get('python')}",
          f"- Method: each engine in its own process, {report['settings']['warmup']} warm-up runs then "
          f"{report['settings']['runs']} timed runs x {report['settings']['rounds']} round(s), engines alternating; "
          "same seeded N(0,1) input for both. onnxruntime: CPUExecutionProvider, intra_op_num_threads = threads, "
          "inter_op_num_threads = 1, sequential execution, graph optimizations ALL. Peak RSS is the process's "
          "VmHWM after the runs (for onnxruntime it includes the Python interpreter and numpy, see rss_base_mb in "
          "the JSON).",
          "- Regenerate: `make bench` (= `bash bench/run_all.sh build`), exact command:",
          "", "```", report["command"], "```", "",
          "| model | input | threads | onnxruntime median ms | kaiwu median ms | ratio kaiwu/ORT | "
          "ORT peak RSS MB | kaiwu peak RSS MB | max abs diff | load |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for row in report["rows"]:
        o, k = row["onnxruntime"] or {}, row["kaiwu"] or {}
        cells = [row["model"], "x".join(map(str, row["input_shape"])), str(row["threads"])]
        for j in (o, k):
            if "error" in j:
                notes.append(f"- {row['model']} t{row['threads']} {j.get('engine', '')}: {j['error']}")
            cells.append(fmt_ms(j.get("median_ms")) if "error" not in j else "error")
        cells.append(fmt(row.get("kaiwu_over_ort")))
        cells += [fmt(o.get("peak_rss_mb"), 1), fmt(k.get("peak_rss_mb"), 1)]
        acc = row.get("accuracy")
        cells.append(acc["error"] if acc and "error" in acc else f"{acc['max_abs_diff']:.2e}" if acc else "n/a")
        cells.append("/".join(f"{x:.1f}" for x in row["loadavg_1min"]))
        L.append("| " + " | ".join(cells) + " |")
    if notes:
        L += ["", "Errors:", ""] + notes
    L += ["", "Ratio < 1: Kaiwu is faster. Max abs diff: largest |kaiwu - onnxruntime| over all outputs. "
          "Load: 1-minute load average before/after the row (the benchmark itself adds up to its thread count); "
          "clearly more means other processes competed for the cores and the row's numbers (2-thread ones above "
          "all) are unreliable.", "",
          "## Details", "",
          "| model | threads | engine | median | p90 | min | max | load ms | first run ms | base RSS MB | "
          "peak RSS after load MB | peak RSS MB |",
          "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        for eng in ("onnxruntime", "kaiwu"):
            j = row[eng]
            if "error" in j:
                continue
            L.append("| " + " | ".join([row["model"], str(row["threads"]), eng] +
                                       [fmt_ms(j[k]) for k in ("median_ms", "p90_ms", "min_ms", "max_ms")] +
                                       [fmt(j["load_ms"], 1), fmt_ms(j["first_run_ms"])] +
                                       [fmt(j[k], 1) for k in ("rss_base_mb", "peak_rss_after_load_mb",
                                                               "peak_rss_mb")]) + " |")
    L += ["", f"Per-run timings of every row: `{report['json_name']}`.", ""]
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="Kaiwu build dir (has bin/kaiwu_bench)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ",".join(MODELS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=50, help="timed runs per engine and round (>= 50 for the report)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds per engine (timings are pooled)")
    ap.add_argument("--quick", action="store_true", help="10 runs, 2 warm-ups; writes into BUILD/bench_quick/")
    ap.add_argument("--shared", default=os.environ.get("KAIWU_SHARED_MODELS",
                                                       os.path.join(os.path.dirname(ROOT), "shared", "models")))
    ap.add_argument("--cache", default=None, help="exported models and inputs (default BUILD/models)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds per engine process before it counts as failed")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=MODEL.onnx@1x3x224x224",
                    help="also benchmark this model with this input shape (repeatable)")
    ap.add_argument("--out-md", default=None)
    ap.add_argument("--out-json", default=None)
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-worker":
        m, x, t, w, r, d = sys.argv[2:8]
        ort_worker(m, x, int(t), int(w), int(r), d)
        return 0
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.quick:
        args.runs, args.warmup = min(args.runs, 10), min(args.warmup, 2)
    quick_dir = os.path.join(args.build, "bench_quick")
    args.out_md = args.out_md or (os.path.join(quick_dir, "RESULTS.md") if args.quick else
                                  os.path.join(ROOT, "bench", "RESULTS_FLOAT.md"))
    args.out_json = args.out_json or (os.path.join(quick_dir, "results_float.json") if args.quick else
                                      os.path.join(ROOT, "bench", "results_float.json"))
    cache = os.path.abspath(args.cache or os.path.join(args.build, "models"))
    names = [n for n in args.models.split(",") if n]
    bad = [n for n in names if n not in MODELS]
    if bad:
        ap.error(f"unknown model(s) {bad}; choose from {list(MODELS)}")
    shapes = {n: MODELS[n][1] for n in names}
    extra_paths = {}
    for e in args.extra:
        try:
            n, rest = e.split("=", 1)
            p, shp = rest.rsplit("@", 1)
            shapes[n] = [int(d) for d in shp.split("x")]
            extra_paths[n] = os.path.abspath(p)
        except ValueError:
            ap.error(f"bad --extra {e!r}: want NAME=MODEL.onnx@1x3x224x224")
    threads = [int(t) for t in args.threads.split(",") if t]
    if not os.path.exists(os.path.join(args.build, "bin", "kaiwu_bench")):
        ap.error(f"{args.build}/bin/kaiwu_bench not found: build with benchmarks on (make build)")

    argv = [os.path.relpath(a, ROOT) if os.path.isabs(a) and a.startswith(ROOT + os.sep) else a for a in sys.argv[1:]]
    command = "cd <repo> && .venv/bin/python bench/bench_float.py " + shlex.join(argv)
    paths = prepare_models(names, args.shared, cache)
    paths.update(extra_paths)
    names += list(extra_paths)
    work = os.path.join(cache, "outputs")
    loadavg_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print(f"[bench] warning: load average {loadavg_before} on {os.cpu_count()} CPUs: the machine is busy, "
              "timings will be noisy", flush=True)
    rows = []
    for n in names:
        if not os.path.exists(paths[n]):
            print(f"[bench] {n}: model {paths[n]} missing, skipped", flush=True)
            continue
        x = make_input(n, shapes[n], cache)
        for t in threads:
            row = bench_one(n, paths[n], shapes[n], x, t, args, work)
            rows.append(row)
            o, k = row["onnxruntime"] or {}, row["kaiwu"] or {}
            desc = [f"{e} " + (f"{j['median_ms']:.3f} ms" if "error" not in j else f"ERROR {j['error']}")
                    for e, j in (("onnxruntime", o), ("kaiwu", k))]
            print(f"[bench] {n:20s} t{t}: " + ", ".join(desc) +
                  (f", kaiwu/ORT {row['kaiwu_over_ort']:.2f}" if "kaiwu_over_ort" in row else ""), flush=True)
    info, versions = machine_info(args.build)
    report = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), "machine": info,
              "versions": versions, "loadavg_before": loadavg_before,
              "loadavg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()), "command": command,
              "json_name": os.path.basename(args.out_json),
              "settings": {"runs": args.runs, "warmup": args.warmup, "rounds": args.rounds, "threads": threads},
              "rows": rows}
    for p in (args.out_md, args.out_json):
        os.makedirs(os.path.dirname(os.path.abspath(p)), exist_ok=True)
    with open(args.out_json, "w") as f:
        json.dump(report, f, indent=1)
    write_markdown(args.out_md, report)
    print(f"[bench] wrote {args.out_md} and {args.out_json}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
