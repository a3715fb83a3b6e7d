"""Issue 4, acceptance 1 for Fashion-MNIST: the deployable model with preprocessing inside (gray uint8 frames,
mean 72.93 / scale 1/(0.353*255) in the yaml) against P_ptq_model.onnx fed the same frames normalized by numpy:
same top-1 on >= 99% of the first 1000 test images and mean output cosine >= 0.999."""
import gzip
import os
import sys

import numpy as np
import pytest

import kaiwu

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"
MODEL = os.path.normpath(os.path.join(REPO, "..", "shared", "models", "fmnist", "fmnist_cnn.onnx"))


def idx(path, nd):
    raw = gzip.open(path).read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


@pytest.mark.skipif(not os.path.exists(MODEL) or not os.path.isdir(DATA), reason="needs ../shared and the dataset")
def test_gray_frames_through_the_deployable_match_the_qdq_model(tmp_path):
    train = idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"), 3)[:100]
    calib = tmp_path / "calib"
    calib.mkdir()
    for i, p in enumerate(train):  # the float model's input: (pixel / 255 - 0.2860) / 0.3530
        x = ((p.astype(np.float32) / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)).reshape(1, 1, 28, 28)
        np.save(calib / f"{i:04d}.npy", x)
    yaml = tmp_path / "c.yaml"
    yaml.write_text(
        f"model_parameters:\n  onnx_model: '{MODEL}'\n  march: x86-avx512vnni\n  working_dir: '{tmp_path / 'out'}'\n"
        "  output_model_file_prefix: fm\n"
        "input_parameters:\n  input_name: input\n  input_type_rt: gray\n  input_type_train: gray\n"
        "  input_layout_train: NCHW\n  input_shape: 1x1x28x28\n  mean_value: 72.93\n  scale_value: 0.0111093\n"
        f"calibration_parameters:\n  cal_data_dir: '{calib}'\n  calibration_type: max\n"
        "compiler_parameters:\n  optimize_level: O2\n")
    kaiwu.compile(str(yaml))
    dep = kaiwu.Session(str(tmp_path / "out" / "fm.kwm"), 2)
    qdq = kaiwu.Session(str(tmp_path / "out" / "fm_ptq_model.onnx"), 2)
    assert dep.input_types[0] == np.uint8 and dep.input_shapes[0] == [1, 28, 28, 1]
    test = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"), 3)[:1000]
    same, cos = 0, []
    for p in test:
        a = dep.run(None, {dep.input_names[0]: p.reshape(1, 28, 28, 1)})[0].ravel().astype(np.float64)
        x = ((p.astype(np.float32) / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)).reshape(1, 1, 28, 28)
        b = qdq.run(None, {qdq.input_names[0]: x})[0].ravel().astype(np.float64)
        same += int(a.argmax() == b.argmax())
        cos.append(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
    assert same >= 990, same
    assert np.mean(cos) >= 0.999, np.mean(cos)
