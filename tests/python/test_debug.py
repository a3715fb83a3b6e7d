"""pytest suite of kaiwu.debug (precision debugger, automatic mixed precision) and kaiwu.eval, on the small
Fashion-MNIST example model compiled with its 4 example samples plus a few noisy copies."""

import os

import numpy as np
import pytest

import kaiwu
import kaiwu.debug as dbg
from yaml_util import fmnist_featuremap_yaml

REPO = os.environ.get("KAIWU_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "examples", "fmnist", "fmnist_small.onnx")
SAMPLES = [os.path.join(REPO, "examples", "fmnist", "sample_%d.npy" % i) for i in range(4)]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """(working_dir, calibration folder, yaml path) of a compiled fmnist_small."""
    root = tmp_path_factory.mktemp("debug")
    calib = root / "calib" / "input"
    calib.mkdir(parents=True)
    rng = np.random.default_rng(0)
    k = 0
    for s in SAMPLES:
        x = np.load(s).astype(np.float32)
        for _ in range(3):
            np.save(calib / ("%03d.npy" % k), (x + 0.05 * rng.standard_normal(x.shape)).astype(np.float32))
            k += 1
    wd = root / "out"
    yaml = root / "config.yaml"
    yaml.write_text(fmnist_featuremap_yaml(
        MODEL, wd, calib, '{"model_config": {"weight": {"calibration_type": "max", "bias_correction": false}}}'))
    kaiwu.compile(str(yaml))
    return str(wd), str(root / "calib"), str(yaml)


def test_sensitivity_of_nodes(work, capsys, tmp_path):
    wd, calib, _ = work
    r = dbg.get_sensitivity_of_nodes(os.path.join(wd, "fm_ptq_model.onnx"), metrics=["cosine-similarity", "mse"],
                                     calibrated_data=calib, node_type="node", verbose=True, save_dir=str(tmp_path))
    assert len(r) >= 3
    cos = [float(v["cosine-similarity"]) for v in r.values()]
    assert cos == sorted(cos), "worst (lowest cosine) first"
    assert all(0.5 < c <= 1.0 + 1e-9 for c in cos)
    assert all(float(v["mse"]) >= 0 for v in r.values())
    out = capsys.readouterr().out
    assert "==========================node==========================" in out and "cosine-similarity" in out
    assert (tmp_path / "sensitivity_of_node.log").exists()
    # A working_dir works as the model too, and weights / activations have their own items.
    w = dbg.get_sensitivity_of_nodes(wd, calibrated_data=calib, node_type="weight", data_num=4)
    a = dbg.get_sensitivity_of_nodes(wd, calibrated_data=calib, node_type="activation", data_num=4)
    assert w and a and set(w).isdisjoint(set(r))


def test_sensitivity_errors(work):
    wd, calib, _ = work
    with pytest.raises(ValueError, match="psnr"):
        dbg.get_sensitivity_of_nodes(wd, metrics="psnr", calibrated_data=calib)
    with pytest.raises((ValueError, RuntimeError), match="no_such_node"):
        dbg.get_sensitivity_of_nodes(wd, calibrated_data=calib, interested_nodes=["no_such_node"])
    with pytest.raises((ValueError, RuntimeError), match="QuantizeLinear"):
        dbg.get_sensitivity_of_nodes(MODEL, calibrated_data=calib)
    with pytest.raises((ValueError, RuntimeError), match="missing_dir"):
        dbg.get_sensitivity_of_nodes(wd, calibrated_data="/tmp/missing_dir")


def test_acc_error_distribution_runall(work, tmp_path):
    wd, calib, _ = work
    r = dbg.plot_acc_error(str(tmp_path / "acc"), calib, wd, data_num=6)
    assert r["labels"] == ["all", "weight", "activation"]
    assert len(r["values"][0]) == len(r["layers"]) > 3
    assert (tmp_path / "acc" / "accumulate_error.svg").exists()
    node = dbg.get_sensitivity_of_nodes(wd, calibrated_data=calib, data_num=4)
    first = next(iter(node))
    r2 = dbg.plot_acc_error(str(tmp_path / "acc2"), calib, wd, quantize_node=[[first], ["weight"]], average_mode=True)
    assert r2["labels"] == ["partial_qmodel_0", "weight"]
    ds = dbg.plot_distribution(str(tmp_path / "dist"), wd, calib, [first])
    assert ds[0]["node"] == first and sum(ds[0]["float_hist"]) == sum(ds[0]["quant_hist"]) > 0
    ch = dbg.get_channelwise_data_distribution(str(tmp_path / "ch"), wd, calib, [first])
    assert len(ch[first]["min"]) == len(ch[first]["max"]) > 0
    html = dbg.runall(wd, calib, save_dir=str(tmp_path / "all"), top=2, data_num=4)
    text = open(html).read()
    assert "<svg" in text and "<script" not in text
    assert (tmp_path / "all" / "node_sensitivity" / "sensitivity_of_weight.log").exists()


def test_auto_mixed_precision(work, tmp_path):
    wd, calib, yaml = work
    r = dbg.auto_mixed_precision(yaml, target=0.9999, out_dir=str(tmp_path / "amp"), data_num=6, max_raises=4)
    assert r["metric"] == "cosine" and r["after"] >= r["before"]
    if r["before"] < 0.9999:
        assert r["reached"] and r["raised"]
        assert "node_info" in r["node_info_yaml"]
    assert os.path.exists(r["qdq_path"]) and os.path.exists(r["fixed_path"]) and os.path.exists(r["yaml_path"])
    sess = kaiwu.Session(r["qdq_path"])
    (y,) = sess.run(None, {"input": np.load(SAMPLES[0])})
    assert y.shape[-1] == 10


def test_eval_classify_and_compare(work):
    wd, _, _ = work
    stages = kaiwu.eval.stage_models(wd)
    assert len(stages) == 6
    x = np.stack([np.load(s)[0] for s in SAMPLES])
    ref = kaiwu.Session(stages[0])
    labels = [int(np.argmax(ref.run(None, {"input": s[None]})[0])) for s in x]
    rows = kaiwu.eval.classify(stages, x, labels)
    assert rows[0]["top1"] == 100.0 and rows[0]["samples"] == 4
    assert rows[4]["top1"] == rows[5]["top1"], "fixed-point and deployable agree"
    c = kaiwu.eval.compare(stages[0], stages[3], x)
    assert 0.9 < c["cosine"] <= 1.0 + 1e-9 and c["samples"] == 4
