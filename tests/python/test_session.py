"""pytest suite of the Python API (kaiwu.Session, kaiwu.compile).

Run from a build: ctest -R python_pytest, or PYTHONPATH=<build>/python python -m pytest tests/python.
KAIWU_CLI (the `kaiwu` tool) enables the bit-for-bit comparison with `kaiwu run`; without it those tests skip.
"""

import json
import os
import subprocess
import threading

import numpy as np
import pytest

import kaiwu
from yaml_util import fmnist_featuremap_yaml

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "examples", "fmnist", "fmnist_small.onnx")
SAMPLES = [os.path.join(REPO, "examples", "fmnist", "sample_%d.npy" % i) for i in range(4)]
STAGES = ["fm_original_float_model.onnx", "fm_optimized_float_model.onnx", "fm_calibrated_model.onnx",
          "fm_ptq_model.onnx", "fm_quantized_model.onnx", "fm.kwm"]


def cli():
    path = os.environ.get("KAIWU_CLI", "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("KAIWU_CLI (the kaiwu tool) not set")
    return path


def cli_run(model, npy, out_dir):
    """Runs `kaiwu run -m model -i npy -o out_dir` and returns its outputs {name: array}."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([cli(), "run", "-m", model, "-i", npy, "-o", out_dir], check=True, capture_output=True)
    return {f[:-4]: np.load(os.path.join(out_dir, f)) for f in os.listdir(out_dir) if f.endswith(".npy")}


@pytest.fixture(scope="module")
def sess():
    return kaiwu.Session(MODEL)


@pytest.fixture(scope="module")
def sample():
    return np.load(SAMPLES[0])


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """kaiwu.compile of fmnist_small with 4 random calibration samples: (result dict, working_dir)."""
    root = tmp_path_factory.mktemp("compile")
    calib = root / "calib"
    calib.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        np.save(calib / ("%d.npy" % i), rng.standard_normal((1, 1, 28, 28)).astype(np.float32))
    work = root / "out"
    yaml = root / "config.yaml"
    yaml.write_text(fmnist_featuremap_yaml(MODEL, work, calib))
    return kaiwu.compile(str(yaml)), str(work)


# --- Session on the float ONNX model -----------------------------------------------------------------------------

def test_properties(sess):
    assert sess.input_names == ["input"]
    assert sess.output_names == ["logits"]
    assert sess.input_num == 1 and sess.output_num == 1
    assert sess.input_types == [np.dtype(np.float32)]
    assert sess.output_types == [np.dtype(np.float32)]
    assert sess.input_shapes == [[-1, 1, 28, 28]]
    assert sess.input_dim_names == [["N", "", "", ""]]
    assert sess.input_layouts == ["NCHW"]
    assert isinstance(sess.desc, str) and "fmnist_small.onnx" in sess.desc
    assert sess.desc_dict == {} and sess.deploy_info == {}
    assert sess.model_path == MODEL
    assert kaiwu.HBRuntime is kaiwu.Session
    assert kaiwu.__version__.count(".") == 2


def test_layout_heuristic():
    assert kaiwu._guess_layout([1, 3, 224, 224]) == "NCHW"
    assert kaiwu._guess_layout([1, 224, 224, 3]) == "NHWC"
    assert kaiwu._guess_layout([1, 8, 8, 8]) == ""
    assert kaiwu._guess_layout([1, 3]) == ""


def test_run_matches_kaiwu_run_bit_for_bit(sess, tmp_path):
    batch = np.concatenate([np.load(p) for p in SAMPLES])  # 4 x 1 x 28 x 28, symbolic batch
    np.save(tmp_path / "batch.npy", batch)
    for npy, x in ((SAMPLES[0], np.load(SAMPLES[0])), (str(tmp_path / "batch.npy"), batch)):
        ref = cli_run(MODEL, npy, str(tmp_path / ("out_%d" % len(x))))
        (y,) = sess.run(None, {"input": x})
        assert y.dtype == ref["logits"].dtype and y.shape == ref["logits"].shape == (len(x), 10)
        assert np.array_equal(y, ref["logits"])


def test_run_output_selection_and_copies(sess, sample):
    (a,) = sess.run(None, {"input": sample})
    (b,) = sess.run([], {"input": sample})
    (c,) = sess.run(["logits"], {"input": sample})
    (d,) = sess.run("logits", {"input": sample})
    (e,) = sess.run(None, {"input": sample}, output_name=["logits"])  # deprecated HBRuntime keyword
    for other in (b, c, d, e):
        assert np.array_equal(a, other)
    assert a.dtype == np.float32 and a.shape == (1, 10) and np.all(np.isfinite(a))
    assert a.flags.c_contiguous and a.flags.writeable
    a[:] = 0  # results are copies: the next run is unaffected
    assert np.array_equal(sess.run(None, {"input": sample})[0], b)


def test_run_intermediate_value(sess, sample):
    # Any value of the graph may be requested; the input itself is the simplest one whose value is known.
    x, y = sess.run(["input", "logits"], {"input": sample})
    assert np.array_equal(x, sample)
    assert y.shape == (1, 10)


def test_input_conversions(sess, sample):
    (ref,) = sess.run(None, {"input": sample})
    # Non-contiguous, big-endian and float64 views of the same data give the same result.
    wide = np.zeros((1, 1, 28, 56), np.float32)
    wide[..., ::2] = sample
    assert np.array_equal(sess.run(None, {"input": wide[..., ::2]})[0], ref)
    assert np.array_equal(sess.run(None, {"input": sample.astype(">f4")})[0], ref)
    assert np.array_equal(sess.run(None, {"input": sample.astype(np.float64)})[0], ref)
    # uint8 data for a float input is cast, as HBRuntime does.
    img = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(1, 1, 28, 28)
    assert np.array_equal(sess.run(None, {"input": img})[0], sess.run(None, {"input": img.astype(np.float32)})[0])


def test_threads_and_gil(sess, sample):
    (ref,) = sess.run(None, {"input": sample})
    results = []

    def work():
        for _ in range(5):
            results.append(sess.run(None, {"input": sample})[0])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 15 and all(np.array_equal(r, ref) for r in results)
    one = kaiwu.Session(MODEL, num_threads=1)
    assert one.num_threads == 1
    assert np.array_equal(one.run(None, {"input": sample})[0], ref)  # bit-identical whatever the thread count
    one.num_threads = 2
    assert one.num_threads == 2


# --- errors ------------------------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    missing = str(tmp_path / "no_such_model.onnx")
    with pytest.raises((RuntimeError, ValueError), match="no_such_model.onnx"):
        kaiwu.Session(missing)


def test_not_a_model(tmp_path):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"this is not a model")
    with pytest.raises((RuntimeError, ValueError), match="garbage.onnx"):
        kaiwu.Session(str(bad))
    bad_kwm = tmp_path / "broken.kwm"
    bad_kwm.write_bytes(b"KWMODEL\0" + b"\0" * 40)
    with pytest.raises((RuntimeError, ValueError), match="broken.kwm"):
        kaiwu.Session(str(bad_kwm))


def test_wrong_input_name(sess, sample):
    with pytest.raises(ValueError, match="'image' is not an input of the model"):
        sess.run(None, {"image": sample})
    with pytest.raises(ValueError, match="'input' is missing"):
        sess.run(None, {})


def test_wrong_shape(sess):
    with pytest.raises(ValueError, match="input 'input' has shape"):
        sess.run(None, {"input": np.zeros((1, 1, 27, 28), np.float32)})
    with pytest.raises(ValueError, match="input 'input' has shape"):
        sess.run(None, {"input": np.zeros((1, 28, 28), np.float32)})


def test_wrong_output_name_and_types(sess, sample):
    with pytest.raises(ValueError, match="'nope' is not a value of the model"):
        sess.run(["nope"], {"input": sample})
    with pytest.raises(TypeError):
        sess.run(None, [sample])
    with pytest.raises(ValueError, match="expects dtype float32"):
        sess.run(None, {"input": np.zeros((1, 1, 28, 28), np.complex64)})
    with pytest.raises(TypeError):
        sess.run(None, {"input": sample}, bogus=1)


# --- compile and the stage models ----------------------------------------------------------------------------------

def test_compile_result(compiled):
    result, work = compiled
    assert os.path.samefile(result["working_dir"], work)
    assert set(result) == {"working_dir", "artifacts", "calibration_method", "output_cosine", "nodes_int8",
                           "nodes_int16", "nodes_float", "seconds"}
    for f in STAGES:
        assert f in result["artifacts"] and os.path.isfile(os.path.join(work, f)), f
    assert result["calibration_method"] == "max"
    assert result["nodes_int8"] > 0 and result["nodes_float"] == 0
    assert 0.9 < result["output_cosine"] <= 1.0 + 1e-9
    assert result["seconds"] >= 0


@pytest.mark.parametrize("stage", STAGES)
def test_session_on_every_artifact(compiled, stage, sample, sess):
    _, work = compiled
    s = kaiwu.Session(os.path.join(work, stage))
    assert s.input_names == ["input"] and s.output_names == ["logits"]
    assert s.input_types == [np.dtype(np.float32)]
    assert s.input_shapes[0][1:] == [1, 28, 28]
    (y,) = s.run(None, {"input": sample})
    assert y.shape == (1, 10) and y.dtype == np.float32 and np.all(np.isfinite(y))
    (ref,) = sess.run(None, {"input": sample})
    cos = float(np.dot(y.ravel(), ref.ravel()) / (np.linalg.norm(y) * np.linalg.norm(ref)))
    assert cos > 0.95, (stage, cos)


def test_kwm_desc_and_bit_identity(compiled, tmp_path):
    _, work = compiled
    kwm = kaiwu.Session(os.path.join(work, "fm.kwm"))
    fixed = kaiwu.Session(os.path.join(work, "fm_quantized_model.onnx"))
    desc = json.loads(kwm.desc)
    assert desc["tool"] == "kaiwu compile" and desc["calibration_method"] == "max"
    assert desc["onnx_model"] == MODEL
    assert kwm.desc_dict == desc
    assert kwm.deploy_info["tool_version"] == kaiwu.__version__ and kwm.deploy_info["description"] == kwm.desc
    assert kwm.input_layouts == ["NCHW"]
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = rng.standard_normal((1, 1, 28, 28)).astype(np.float32)
        assert np.array_equal(kwm.run(None, {"input": x})[0], fixed.run(None, {"input": x})[0])


def test_kwm_matches_kaiwu_run(compiled, tmp_path):
    _, work = compiled
    path = os.path.join(work, "fm.kwm")
    ref = cli_run(path, SAMPLES[1], str(tmp_path / "out"))
    (y,) = kaiwu.Session(path).run(None, {"input": np.load(SAMPLES[1])})
    assert np.array_equal(y, ref["logits"])


def test_compile_errors(tmp_path):
    with pytest.raises((RuntimeError, ValueError), match="missing.yaml"):
        kaiwu.compile(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_parameters:\n  onnx_model: '%s'\n" % (tmp_path / "nope.onnx"))
    with pytest.raises((RuntimeError, ValueError)):
        kaiwu.compile(str(bad))


def test_every_dtype_in_and_out(tmp_path):
    """A small ONNX model with inputs and outputs of many element types (built with the onnx package)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto as T, helper as h
    casts = [("f16", T.FLOAT16, np.float16), ("f64", T.DOUBLE, np.float64), ("i8", T.INT8, np.int8),
             ("u8", T.UINT8, np.uint8), ("i16", T.INT16, np.int16), ("i32", T.INT32, np.int32),
             ("i64", T.INT64, np.int64), ("b", T.BOOL, np.bool_)]
    nodes = [h.make_node("Cast", ["x"], ["x_" + n], to=t) for n, t, _ in casts]
    nodes += [h.make_node("Identity", ["flag"], ["flag_out"]), h.make_node("Add", ["idx", "idx"], ["idx2"]),
              h.make_node("Cast", ["half"], ["half_f32"], to=T.FLOAT)]
    inputs = [h.make_tensor_value_info("x", T.FLOAT, [2, 3]), h.make_tensor_value_info("flag", T.BOOL, [4]),
              h.make_tensor_value_info("idx", T.INT64, ["n"]), h.make_tensor_value_info("half", T.FLOAT16, [2])]
    outputs = [h.make_tensor_value_info("x_" + n, t, [2, 3]) for n, t, _ in casts]
    outputs += [h.make_tensor_value_info("flag_out", T.BOOL, [4]), h.make_tensor_value_info("idx2", T.INT64, ["n"]),
                h.make_tensor_value_info("half_f32", T.FLOAT, [2])]
    model = h.make_model(h.make_graph(nodes, "dtypes", inputs, outputs), opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 8
    path = str(tmp_path / "dtypes.onnx")
    onnx.save(model, path)

    s = kaiwu.Session(path)
    assert s.input_types == [np.dtype(t) for t in (np.float32, np.bool_, np.int64, np.float16)]
    assert s.input_shapes == [[2, 3], [4], [-1], [2]]
    assert s.input_layouts == ["", "", "", ""]
    assert s.output_types == [np.dtype(t) for _, _, t in casts] + [np.dtype(np.bool_), np.dtype(np.int64),
                                                                   np.dtype(np.float32)]
    x = np.array([[0, 1, 2.5], [7, 100, 0]], np.float32)
    flag = np.array([True, False, False, True])
    idx = np.array([1, -2, 3, 1 << 40, 5], np.int64)
    half = np.array([0.5, -1.25], np.float16)
    outs = s.run(None, {"x": x, "flag": flag, "idx": idx, "half": half})
    for (n, _, t), y in zip(casts, outs):
        assert y.dtype == np.dtype(t) and np.array_equal(y, x.astype(t)), n
    assert outs[-3].dtype == np.bool_ and np.array_equal(outs[-3], flag)
    assert outs[-2].dtype == np.int64 and np.array_equal(outs[-2], idx * 2)
    assert outs[-1].dtype == np.float32 and np.array_equal(outs[-1], half.astype(np.float32))
    with pytest.raises(ValueError, match="expects dtype int64"):
        s.run(None, {"x": x, "flag": flag, "idx": idx.astype(np.int32), "half": half})
