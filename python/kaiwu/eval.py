"""kaiwu.eval: accuracy of Kaiwu artifacts on numpy data (the Python side of `kaiwu eval`).

    import kaiwu.eval
    r = kaiwu.eval.classify(["out/P_ptq_model.onnx", "out/P.kwm"], images, labels)   # images: [N, ...] array
    r = kaiwu.eval.classify_idx(kaiwu.eval.stage_models("out/"), "t10k-images-idx3-ubyte.gz",
                                "t10k-labels-idx1-ubyte.gz", mean=0.2860, std=0.3530)
    c = kaiwu.eval.compare("float.onnx", "out/P.kwm", images)
"""

import gzip as _gzip
import os as _os
import struct as _struct

import numpy as np

__all__ = ["classify", "classify_idx", "compare", "stage_models", "read_idx"]

_STAGES = ["_original_float_model.onnx", "_optimized_float_model.onnx", "_calibrated_model.onnx", "_ptq_model.onnx",
           "_quantized_model.onnx", ".kwm"]


def stage_models(working_dir):
    """The stage models of a compile working_dir that exist, in pipeline order."""
    prefix = None
    for f in sorted(_os.listdir(working_dir)):
        if f.endswith("_original_float_model.onnx"):
            prefix = f[: -len("_original_float_model.onnx")]
    if prefix is None:
        raise ValueError("no *_original_float_model.onnx in %r" % (working_dir,))
    return [p for p in (_os.path.join(working_dir, prefix + s) for s in _STAGES) if _os.path.exists(p)]


def read_idx(path):
    """An IDX file (.gz or raw) as a numpy array (uint8 images [N, H, W] or labels [N])."""
    opener = _gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = _struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _session(model, num_threads):
    from . import Session
    return model if hasattr(model, "run") else Session(str(model), num_threads)


def _feed(sess, x):
    x = np.asarray(x)
    want = sess.input_shapes[0]
    if len(want) == x.ndim + 1:
        x = x[None]
    return {sess.input_names[0]: x}


def classify(models, inputs, labels, num_threads=0):
    """Top-1 / top-5 accuracy of each model (path or Session) on inputs[i] (one sample each, batch 1 added when
    the model expects it) with integer labels. Returns a list of {"model", "top1", "top5", "agree", "samples"}
    (agree: top-1 agreement with the first model), in percent."""
    if isinstance(models, (str, bytes)) or hasattr(models, "run"):
        models = [models]
    sessions = [_session(m, num_threads) for m in models]
    labels = np.asarray(labels).reshape(-1)
    n = len(labels)
    if len(inputs) != n:
        raise ValueError("%d inputs but %d labels" % (len(inputs), n))
    hit1, hit5, agree = (np.zeros(len(sessions)) for _ in range(3))
    for i in range(n):
        first = None
        for k, s in enumerate(sessions):
            out = np.asarray(s.run(None, _feed(s, inputs[i]))[0]).reshape(-1)
            order = np.argsort(-out, kind="stable")
            hit1[k] += order[0] == labels[i]
            hit5[k] += labels[i] in order[:5]
            if k == 0:
                first = order[0]
            agree[k] += order[0] == first
    return [{"model": getattr(s, "model_path", str(m)), "top1": 100.0 * hit1[k] / max(n, 1),
             "top5": 100.0 * hit5[k] / max(n, 1), "agree": 100.0 * agree[k] / max(n, 1), "samples": n}
            for k, (s, m) in enumerate(zip(sessions, models))]


def classify_idx(models, images, labels, mean=0.0, std=1.0, count=None, num_threads=0):
    """classify() on IDX files (e.g. Fashion-MNIST), images normalized as (x / 255 - mean) / std, [1, 1, H, W]."""
    x = read_idx(images)
    y = read_idx(labels)
    if count:
        x, y = x[:count], y[:count]
    x = ((x.astype(np.float32) / np.float32(255.0) - np.float32(mean)) / np.float32(std))[:, None]
    return classify(models, x, y, num_threads)


def compare(model_a, model_b, inputs, num_threads=0):
    """Outputs of two models over the same inputs: cosine (of the concatenated first outputs), mse, max abs error
    and top-1 agreement (percent)."""
    a, b = _session(model_a, num_threads), _session(model_b, num_threads)
    dot = na = nb = se = 0.0
    mx, elems, same = 0.0, 0, 0
    for x in inputs:
        u = np.asarray(a.run(None, _feed(a, x))[0], dtype=np.float64).reshape(-1)
        v = np.asarray(b.run(None, _feed(b, x))[0], dtype=np.float64).reshape(-1)
        if u.size != v.size:
            raise ValueError("the models' first outputs differ in size (%d vs %d)" % (u.size, v.size))
        dot += float(u @ v)
        na += float(u @ u)
        nb += float(v @ v)
        se += float(((u - v) ** 2).sum())
        mx = max(mx, float(np.abs(u - v).max()) if u.size else 0.0)
        elems += u.size
        same += int(np.argmax(u) == np.argmax(v))
    n = len(inputs)
    return {"cosine": dot / np.sqrt(na * nb) if na > 0 and nb > 0 else float(na == nb),
            "mse": se / max(elems, 1), "max_abs_error": mx, "top1_agreement": 100.0 * same / max(n, 1),
            "samples": n}
