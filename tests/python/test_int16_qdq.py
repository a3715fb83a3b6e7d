"""int16 activations in the stage models: fmnist_cnn (opset 13) compiled with every node int16 (quant_config
all_node_type) and with a few nodes int16 (node_info). Below opset 21 the 16-bit QuantizeLinear/DequantizeLinear are
written in the com.microsoft domain (onnxruntime contrib ops, as onnxruntime's quantizer does), int8 ones stay
standard: P_calibrated_model.onnx and P_ptq_model.onnx pass onnx.checker and run in onnxruntime with the same result as
kaiwu.Session, and Kaiwu still reads them (Session, debugger)."""

import os

import numpy as np
import pytest

import kaiwu
from yaml_util import fmnist_featuremap_yaml

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("KAIWU_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
MODEL = os.path.join(SHARED, "models", "fmnist", "fmnist_cnn.onnx")
SAMPLES = [os.path.join(REPO, "examples", "fmnist", "sample_%d.npy" % i) for i in range(4)]
STAGES = ["fm_calibrated_model.onnx", "fm_ptq_model.onnx"]
# Nodes of the optimized fmnist_cnn raised to int16 in the mixed model (node_info).
MIXED_INT16 = ["/pw/pw.0/Conv", "/Add"]
WEIGHT_CFG = '"weight": {"calibration_type": "max", "bias_correction": false}'


def _compile(root, name, quant_config, node_info=""):
    """kaiwu.compile of fmnist_cnn into root/name with 4 calibration samples; returns the working_dir."""
    calib = root / "calib" / "input"
    if not calib.exists():
        calib.mkdir(parents=True)
        rng = np.random.default_rng(0)
        for i, s in enumerate(SAMPLES):
            x = np.load(s).astype(np.float32)
            np.save(calib / ("%03d.npy" % i), (x + 0.05 * rng.standard_normal(x.shape)).astype(np.float32))
    wd = root / name
    yaml = root / (name + ".yaml")
    yaml.write_text(fmnist_featuremap_yaml(MODEL, wd, calib, quant_config, node_info))
    kaiwu.compile(str(yaml))
    return str(wd)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{"all": working_dir with every node int16, "mixed": working_dir with MIXED_INT16 int16, "calib": data}."""
    if not os.path.exists(MODEL):
        pytest.skip(MODEL + " is missing")
    root = tmp_path_factory.mktemp("int16")
    all16 = _compile(root, "all", '{"model_config": {"all_node_type": "int16", %s}}' % WEIGHT_CFG)
    info = "  node_info: {%s}\n" % ", ".join(
        "'%s': {'ON': 'BPU', 'InputType': 'int16', 'OutputType': 'int16'}" % n for n in MIXED_INT16)
    mixed = _compile(root, "mixed", '{"model_config": {%s}}' % WEIGHT_CFG, info)
    return {"all": all16, "mixed": mixed, "calib": str(root / "calib"), "mixed_yaml": str(root / "mixed.yaml")}


def _qdq_nodes(model):
    """(node, zero-point element type) of every QuantizeLinear/DequantizeLinear."""
    types = {t.name: t.data_type for t in model.graph.initializer}
    return [(n, types.get(n.input[2]) if len(n.input) > 2 else None) for n in model.graph.node
            if n.op_type in ("QuantizeLinear", "DequantizeLinear")]


def _inputs():
    rng = np.random.default_rng(1)
    xs = [np.load(s).astype(np.float32) for s in SAMPLES]
    return xs + [(xs[0] + 0.1 * rng.standard_normal(xs[0].shape)).astype(np.float32)]


@pytest.mark.parametrize("variant", ["all", "mixed"])
@pytest.mark.parametrize("stage", STAGES)
def test_stage_model_is_valid_onnx_with_contrib_int16(built, variant, stage):
    path = os.path.join(built[variant], stage)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    assert m.opset_import and {o.domain: o.version for o in m.opset_import}.get("com.microsoft") == 1
    assert {o.domain: o.version for o in m.opset_import}.get("", 0) < 21
    nodes = _qdq_nodes(m)
    i16 = onnx.TensorProto.INT16
    wide = [n for n, t in nodes if t == i16]
    assert wide, "no int16 Q/DQ in " + path
    for n, t in nodes:  # exactly the 16-bit ones are contrib ops, with no attribute but axis
        assert (n.domain == "com.microsoft") == (t == i16), (n.name, n.domain, t)
        if n.domain == "com.microsoft":
            assert {a.name for a in n.attribute} <= {"axis"}, n.name
    if variant == "mixed":  # int8 Q/DQ remain standard ONNX
        assert any(t == onnx.TensorProto.INT8 and n.domain == "" for n, t in nodes)


@pytest.mark.parametrize("variant", ["all", "mixed"])
@pytest.mark.parametrize("stage", STAGES)
def test_stage_model_runs_in_onnxruntime_like_kaiwu(built, variant, stage):
    path = os.path.join(built[variant], stage)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    ref = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    ours = kaiwu.Session(path)
    name = ref.get_inputs()[0].name
    assert ours.input_names == [name]
    ys_ort, ys_kw = [], []
    for x in _inputs():
        ys_ort.append(ref.run(None, {name: x})[0])
        ys_kw.append(ours.run(None, {name: x})[0])
    a, b = np.concatenate(ys_ort), np.concatenate(ys_kw)
    assert a.shape == b.shape
    span = float(a.max() - a.min())
    diff = float(np.max(np.abs(a.astype(np.float64) - b)))
    assert span > 1.0
    assert diff <= 2e-3 * span, "max |ort - kaiwu| = %g, output range %g" % (diff, span)
    # With its default optimizations onnxruntime also loads the model; on the ptq model it agrees too. (On the
    # calibrated model its basic-level transformers quantize the float weights to int8 themselves, int8 models alike,
    # so only the unoptimized run has the model's own semantics.)
    full = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    if stage != "fm_ptq_model.onnx":
        return
    c = np.concatenate([full.run(None, {name: x})[0] for x in _inputs()])
    assert float(np.max(np.abs(c.astype(np.float64) - b))) <= 2e-3 * span


def test_int16_stays_close_to_float(built):
    """The all-int16 ptq model run by onnxruntime tracks the float model closely (a wrong contrib mapping would not)."""
    flt = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    q = ort.InferenceSession(os.path.join(built["all"], "fm_ptq_model.onnx"), providers=["CPUExecutionProvider"])
    for x in _inputs():
        a = flt.run(None, {"input": x})[0].ravel()
        b = q.run(None, {q.get_inputs()[0].name: x})[0].ravel()
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        assert cos > 0.999, cos


def test_debugger_reads_contrib_qdq(built):
    """The precision debugger finds the com.microsoft Q/DQ pairs of the mixed ptq model."""
    import kaiwu.debug as dbg
    wd = built["mixed"]
    r = dbg.get_sensitivity_of_nodes(os.path.join(wd, "fm_ptq_model.onnx"), metrics=["cosine-similarity"],
                                     calibrated_data=built["calib"], node_type="activation", data_num=2)
    assert r


def test_auto_mixed_precision_model_is_valid_onnx(built, tmp_path):
    """The *_ptq_model.onnx written by automatic mixed precision (re-quantized with int16 nodes) passes the checker
    and runs in onnxruntime like in Kaiwu."""
    import kaiwu.debug as dbg
    r = dbg.auto_mixed_precision(built["mixed_yaml"], target=0.9999, calibrated_data=built["calib"],
                                 data_num=4, max_raises=2, out_dir=str(tmp_path / "amp"), threads=1)
    assert r["raised"]  # re-quantized with raises (int16 or float) on top of the yaml's int16 node_info
    m = onnx.load(r["qdq_path"])
    onnx.checker.check_model(m, full_check=True)
    nodes = _qdq_nodes(m)
    assert any(t == onnx.TensorProto.INT16 for _, t in nodes)
    for n, t in nodes:
        assert (n.domain == "com.microsoft") == (t == onnx.TensorProto.INT16), n.name
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    ref = ort.InferenceSession(r["qdq_path"], so, providers=["CPUExecutionProvider"])
    ours = kaiwu.Session(r["qdq_path"])
    a = np.concatenate([ref.run(None, {"input": x})[0] for x in _inputs()])
    b = np.concatenate([ours.run(None, {"input": x})[0] for x in _inputs()])
    assert float(np.max(np.abs(a - b))) <= 2e-3 * float(a.max() - a.min())


def test_session_runs_contrib_qdq_from_other_tools(tmp_path):
    """A model with com.microsoft int16/uint16 QuantizeLinear/DequantizeLinear (per tensor and per axis), as
    onnxruntime's quantizer writes them, runs in kaiwu.Session exactly like in onnxruntime."""
    from onnx import TensorProto as T, helper as h, numpy_helper as nh
    inits = [nh.from_array(np.array(0.01, np.float32), "s"), nh.from_array(np.array(3, np.int16), "z"),
             nh.from_array(np.array([0.01, 0.02, 0.03], np.float32), "s3"),
             nh.from_array(np.array([0, 1000, 30000], np.uint16), "z3")]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], domain="com.microsoft"),
             h.make_node("DequantizeLinear", ["q", "s", "z"], ["d"], domain="com.microsoft"),
             h.make_node("Relu", ["d"], ["r"]),
             h.make_node("QuantizeLinear", ["r", "s3", "z3"], ["q3"], domain="com.microsoft", axis=1),
             h.make_node("DequantizeLinear", ["q3", "s3", "z3"], ["y"], domain="com.microsoft", axis=1)]
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 4, 4])],
                     [h.make_tensor_value_info("y", T.FLOAT, [2, 3, 4, 4])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    path = str(tmp_path / "contrib.onnx")
    onnx.save(m, path)
    x = (np.random.default_rng(2).standard_normal((2, 3, 4, 4)) * 400).astype(np.float32)
    a = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    b = kaiwu.Session(path).run(None, {"x": x})[0]
    np.testing.assert_array_equal(a, b)
    assert float(np.abs(a).max()) > 300  # values saturate at the int16 / uint16 limits in both
