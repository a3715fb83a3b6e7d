#!/usr/bin/env python3
"""Makes the real-input references of the end-to-end tests: preprocessed inputs and onnxruntime's outputs as .npy.

Usage: make_e2e_refs.py --shared ../shared --models BUILD/models --out BUILD/e2e [--threads N] [name ...]
For each model name (all when none is given) it writes OUT/<name>/case<k>_input.npy, case<k>_output<j>.npy and,
last, meta.txt (the completion marker the C++ tests look for):
    model <path>            the ONNX file the references were made from
    model_size <bytes>      its size (the tests remake the references when it changes)
    input <name>            the graph input fed
    outputs <n>             graph outputs per case, in graph order
    cases <k>
    source <k> <what>       image (or test case) each input was made from
Models whose meta.txt exists and names the model's current size are skipped unless --force. Runs with the venv python (numpy, pillow,
onnxruntime); several processes may run it at once (an flock on OUT/.lock serializes them).
"""
import argparse
import fcntl
import os
import sys
import tempfile

import numpy as np
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
TV_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0"]
ALL = ["fmnist"] + TV_MODELS + ["ppocr_det", "ppocr_rec", "ppocr_cls"]


def images(shared):
    d = os.path.join(shared, "data", "imagenet-sample")
    return d, sorted(f for f in os.listdir(d) if f.endswith(".jpg"))


def load_rgb(path):
    return Image.open(path).convert("RGB")


def to_nchw(arr_hwc):
    return np.ascontiguousarray(arr_hwc.transpose(2, 0, 1)[None]).astype(np.float32)


def imagenet_224(img):
    """Resize short side to 256 (bilinear), centre crop 224, ImageNet mean/std."""
    w, h = img.size
    s = 256.0 / min(w, h)
    img = img.resize((max(224, round(w * s)), max(224, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    x = np.asarray(img, np.float32) / 255.0
    return to_nchw((x - IMAGENET_MEAN) / IMAGENET_STD)


def det_640(img):
    """PP-OCR det: resize to 640x640, ImageNet mean/std on x/255."""
    x = np.asarray(img.resize((640, 640), Image.BILINEAR), np.float32) / 255.0
    return to_nchw((x - IMAGENET_MEAN) / IMAGENET_STD)


def strip(img, width, frac):
    """A horizontal strip (rows around `frac` of the height, aspect ~ width:48) resized to 48 x width,
    normalized (x/255 - 0.5)/0.5 as PP-OCR rec/cls do."""
    w, h = img.size
    sh = max(8, round(w * 48 / width))
    sh = min(sh, h)
    top = min(max(0, round(h * frac) - sh // 2), h - sh)
    x = np.asarray(img.crop((0, top, w, top + sh)).resize((width, 48), Image.BILINEAR), np.float32) / 255.0
    return to_nchw((x - 0.5) / 0.5)


def cases_for(name, args):
    """Returns (model_path, [(input_array, source_description), ...])."""
    shared = args.shared
    d, files = images(shared)
    if name == "fmnist":
        import onnx
        from onnx import numpy_helper
        tc = os.path.join(shared, "models", "fmnist", "fmnist_cnn_testcase", "test_data_set_0", "input_0.pb")
        t = onnx.TensorProto()
        with open(tc, "rb") as f:
            t.ParseFromString(f.read())
        return os.path.join(shared, "models", "fmnist", "fmnist_cnn.onnx"), [(numpy_helper.to_array(t), tc)]
    if name in TV_MODELS:
        i = TV_MODELS.index(name)
        picks = [files[(97 * (2 * i) + 11) % len(files)], files[(97 * (2 * i + 1) + 11) % len(files)]]
        return (os.path.join(args.models, name + ".onnx"),
                [(imagenet_224(load_rgb(os.path.join(d, f))), f) for f in picks])
    ocr = os.path.join(shared, "models", "ppocr")
    if name == "ppocr_det":
        picks = [files[101], files[733]]
        return (os.path.join(ocr, "ch_PP-OCRv4_det_infer.onnx"),
                [(det_640(load_rgb(os.path.join(d, f))), f) for f in picks])
    if name in ("ppocr_rec", "ppocr_cls"):
        width = 320 if name == "ppocr_rec" else 192
        model = "ch_PP-OCRv4_rec_infer.onnx" if name == "ppocr_rec" else "ch_ppocr_mobile_v2.0_cls_infer.onnx"
        picks = [(files[211], 0.3), (files[509], 0.5), (files[877], 0.7)]
        return (os.path.join(ocr, model),
                [(strip(load_rgb(os.path.join(d, f)), width, fr), f"{f} strip at {fr:.1f} of the height")
                 for f, fr in picks])
    raise SystemExit(f"make_e2e_refs.py: unknown model '{name}' (known: {', '.join(ALL)})")


def save_npy(path, arr):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        np.save(f, arr)
    os.replace(tmp, path)


def make(name, args):
    import onnxruntime as ort
    out = os.path.join(args.out, name)
    meta = os.path.join(out, "meta.txt")
    model, cases = cases_for(name, args)
    if os.path.exists(meta) and not args.force and os.path.exists(model):
        with open(meta) as f:
            if f"model_size {os.path.getsize(model)}\n" in f.read():
                return
    if not os.path.exists(model):
        raise SystemExit(f"make_e2e_refs.py: model file '{model}' is missing")
    os.makedirs(out, exist_ok=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    n_out = len(sess.get_outputs())
    lines = [f"model {os.path.abspath(model)}", f"model_size {os.path.getsize(model)}", f"input {in_name}", f"outputs {n_out}", f"cases {len(cases)}"]
    for k, (x, src) in enumerate(cases):
        x = np.ascontiguousarray(x, np.float32)
        ys = sess.run(None, {in_name: x})
        save_npy(os.path.join(out, f"case{k}_input.npy"), x)
        for j, y in enumerate(ys):
            save_npy(os.path.join(out, f"case{k}_output{j}.npy"), np.ascontiguousarray(y))
        lines.append(f"source {k} {src}")
        print(f"{name} case {k}: input {x.shape} from {src}; outputs " +
              ", ".join(f"{y.dtype}{list(y.shape)} max|y| {float(np.abs(y).max()):.4g}" for y in ys))
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--models", required=True, help="folder of the exported torchvision models")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for n in args.names or ALL:
            make(n, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
