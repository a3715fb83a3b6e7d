"""Issue 4, acceptance 1 for rgb-trained ImageNet models deployed with nv12 frames (heavy: `make test-heavy`).

For resnet18 and mobilenet_v2 (torchvision architectures exported by ../shared/models/scripts/export_tv.py) compiled
with `input_type_rt: nv12`, `input_type_train: rgb`, ImageNet mean/scale in the yaml and calibration data
normalized like training (J6: the ONNX stage models keep the float input): on the 1000 images of
../shared/data/imagenet-sample (short side 256, centre crop 224) the deployable model fed the nv12 frame (`_y`, `_uv`)
agrees with P_ptq_model.onnx (onnxruntime, basic optimizations: the plain QDQ semantics) fed the same frame
converted back to RGB and normalized by the numpy reference of spec §6 below: same top-1 on >= 99% of the images and
mean output cosine >= 0.999. The numbers are printed and written to build/nv12_eval/<model>.json.
"""
import json
import os
import subprocess

import numpy as np
import pytest

import kaiwu

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
IMAGES = os.path.join(SHARED, "data", "imagenet-sample")
MODELS = os.path.join(REPO, "build", "models")
OUT = os.path.join(REPO, "build", "nv12_eval")
MEAN = np.array([0.485, 0.456, 0.406]) * 255
SCALE = 1 / (np.array([0.229, 0.224, 0.225]) * 255)


def rgb_to_nv12(rgb):
    """Spec §6, BT.601 full range: Y/U/V rounded to uint8, chroma subsampled by taking [::2, ::2]."""
    r, g, b = [rgb[..., i].astype(np.float64) for i in range(3)]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.169 * r - 0.331 * g + 0.5 * b + 128
    v = 0.5 * r - 0.419 * g - 0.081 * b + 128
    q = lambda a: np.clip(np.rint(a), 0, 255).astype(np.uint8)
    uv = np.stack([q(u)[::2, ::2], q(v)[::2, ::2]], -1)
    return q(y), uv


def nv12_to_rgb(y, uv):
    """Spec §6: NV12 -> YUV444 by 2x nearest repeat, then R = Y + 1.402 (V-128), G = Y - .344136 (U-128) -
    .714136 (V-128), B = Y + 1.772 (U-128), clipped to 0..255 (kept in float)."""
    u = uv[..., 0].repeat(2, 0).repeat(2, 1).astype(np.float64) - 128
    v = uv[..., 1].repeat(2, 0).repeat(2, 1).astype(np.float64) - 128
    y = y.astype(np.float64)
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], -1)
    return np.clip(rgb, 0, 255)


def load_rgb(path):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = 256.0 / min(w, h)
    img = img.resize((max(256, round(w * s)), max(256, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    return np.asarray(img.crop((left, top, left + 224, top + 224)), np.uint8)


def normalized(rgb):
    return ((rgb - MEAN) * SCALE).astype(np.float32).transpose(2, 0, 1)[None].copy()


def image_files():
    with open(os.path.join(IMAGES, "labels.tsv")) as f:
        return [line.split("\t")[0] for line in f.read().splitlines()[1:] if line]


def model_path(name):
    path = os.path.join(MODELS, name + ".onnx")
    if not os.path.exists(path):
        os.makedirs(MODELS, exist_ok=True)
        subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "models", "scripts", "export_tv.py"), MODELS, name],
                       check=True)
    return path


@pytest.mark.heavy
@pytest.mark.skipif(not os.path.isdir(IMAGES), reason="needs ../shared/data/imagenet-sample")
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_nv12_deployable_matches_qdq_on_reference_conversion(name, tmp_path):
    import onnxruntime as ort
    files = image_files()
    calib = tmp_path / "calib"
    calib.mkdir()
    for i, f in enumerate(files[0::10]):  # 100 calibration images, normalized like training
        np.save(calib / f"{i:03d}.npy", normalized(load_rgb(os.path.join(IMAGES, f)).astype(np.float64)))
    work = tmp_path / "out"
    yaml = tmp_path / "c.yaml"
    yaml.write_text(
        f"model_parameters:\n  onnx_model: '{model_path(name)}'\n  march: x86-avx512vnni\n  working_dir: '{work}'\n"
        f"  output_model_file_prefix: {name}\n"
        "input_parameters:\n  input_name: input\n  input_type_rt: nv12\n  input_type_train: rgb\n"
        "  input_layout_train: NCHW\n  input_shape: 1x3x224x224\n"
        "  mean_value: 123.675 116.28 103.53\n  scale_value: 0.0171248 0.0175070 0.0174292\n"
        f"calibration_parameters:\n  cal_data_dir: '{calib}'\n  calibration_type: default\n")
    kaiwu.compile(str(yaml))
    dep = kaiwu.Session(str(work / f"{name}.kwm"), 2)
    assert dep.input_names == ["input_y", "input_uv"]
    assert dep.input_shapes == [[1, 224, 224, 1], [1, 112, 112, 2]]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    qdq = ort.InferenceSession(str(work / f"{name}_ptq_model.onnx"), so, providers=["CPUExecutionProvider"])
    same, cos = 0, []
    for f in files:
        y, uv = rgb_to_nv12(load_rgb(os.path.join(IMAGES, f)))
        a = dep.run(None, {"input_y": y[None, :, :, None], "input_uv": uv[None]})[0].ravel().astype(np.float64)
        b = qdq.run(None, {"input": normalized(nv12_to_rgb(y, uv))})[0].ravel().astype(np.float64)
        same += int(a.argmax() == b.argmax())
        cos.append(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
    result = {"model": name, "images": len(files), "top1_agreement": same / len(files),
              "mean_cosine": float(np.mean(cos)), "min_cosine": float(np.min(cos))}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as fh:
        json.dump(result, fh, indent=1)
    print(result)
    assert same >= 0.99 * len(files), result
    assert np.mean(cos) >= 0.999, result
