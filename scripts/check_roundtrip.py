#!/usr/bin/env python3
"""Checks a model that Kaiwu imported and exported again against the original ONNX file.

Usage: check_roundtrip.py ORIGINAL.onnx EXPORTED.onnx INPUT.npy [INPUT_NAME]
1. onnx.checker.check_model(EXPORTED, full_check=True) (also strict shape inference) must pass;
2. the exported graph keeps the original's graph input and output names, dtypes and ranks, the same multiset of
   node op types, and every initializer (same name, dtype, shape and values);
3. onnxruntime (1 thread, so that its own results are reproducible) gives bit-identical outputs
   (np.array_equal, same dtype and shape) on INPUT for the original and the exported model.
Prints one line per check; exits 0 when all pass, 1 otherwise. Run with the venv python (onnx, onnxruntime).
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def io_sig(vs):
    out = []
    for v in vs:
        tt = v.type.tensor_type
        out.append((v.name, tt.elem_type, len(tt.shape.dim) if tt.HasField("shape") else None))
    return out


def run(path, feed):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return [o.name for o in s.get_outputs()], s.run(None, feed)


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    orig, exported, inp = argv[1], argv[2], argv[3]
    failures = []
    try:
        onnx.checker.check_model(exported, full_check=True)
        print(f"checker: '{exported}' passes onnx.checker.check_model(full_check=True)")
    except Exception as e:  # the checker raises several exception types
        failures.append(f"checker: '{exported}' fails onnx.checker (full_check): {type(e).__name__}: {e}")
    mo, me = onnx.load(orig), onnx.load(exported)
    init_o = {i.name for i in mo.graph.initializer}
    in_o = [v for v in io_sig(mo.graph.input) if v[0] not in init_o]
    in_e = [v for v in io_sig(me.graph.input) if v[0] not in {i.name for i in me.graph.initializer}]
    if in_o != in_e:
        failures.append(f"inputs differ: original {in_o} vs exported {in_e}")
    if io_sig(mo.graph.output) != io_sig(me.graph.output):
        failures.append(f"outputs differ: original {io_sig(mo.graph.output)} vs exported {io_sig(me.graph.output)}")
    from collections import Counter
    from onnx import numpy_helper
    ops_o = Counter((n.domain or "", n.op_type) for n in mo.graph.node)
    ops_e = Counter((n.domain or "", n.op_type) for n in me.graph.node)
    if ops_o != ops_e:
        failures.append(f"node op types differ: only in original {dict(ops_o - ops_e)}, "
                        f"only in exported {dict(ops_e - ops_o)}")
    inits_e = {i.name: i for i in me.graph.initializer}
    for i in mo.graph.initializer:
        a = numpy_helper.to_array(i)
        if i.name not in inits_e:
            failures.append(f"initializer '{i.name}' is missing from the exported model")
            continue
        b = numpy_helper.to_array(inits_e[i.name])
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b):
            failures.append(f"initializer '{i.name}' differs: {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
    print(f"graph: original {len(mo.graph.node)} nodes / {len(mo.graph.initializer)} initializers, "
          f"exported {len(me.graph.node)} nodes / {len(me.graph.initializer)} initializers")
    x = np.load(inp)
    name = argv[4] if len(argv) > 4 else in_o[0][0]
    try:
        names_o, ys_o = run(orig, {name: x})
        names_e, ys_e = run(exported, {name: x})
    except Exception as e:
        failures.append(f"onnxruntime failed: {type(e).__name__}: {e}")
    else:
        if names_o != names_e:
            failures.append(f"onnxruntime output names differ: {names_o} vs {names_e}")
        for n, a, b in zip(names_o, ys_o, ys_e):
            if a.dtype != b.dtype or a.shape != b.shape:
                failures.append(f"output '{n}': {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
            elif not np.array_equal(a, b):
                d = np.abs(a.astype(np.float64) - b.astype(np.float64))
                failures.append(f"output '{n}': onnxruntime results differ in {int((a != b).sum())} of {a.size} "
                                f"elements (max abs diff {d.max():.3g})")
            else:
                print(f"onnxruntime: output '{n}' {a.dtype}{list(a.shape)} bit-identical")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
