"""kaiwu.debug: the precision debugger (Horizon's ``horizon_nn.debug`` / ``hmct.quantizer.debugger`` functions).

The model is a QDQ model (``P_calibrated_model.onnx`` or ``P_ptq_model.onnx``) or a compile working_dir (then the
``P_ptq_model.onnx`` in it is used, with ``P_optimized_float_model.onnx`` for the original float weights).
``calibrated_data`` is a folder with one subfolder per model input (``calibration_data/<input>/0.npy ...``) or, for
a one-input model, the .npy / raw files themselves. Evaluations stream over the data one sample at a time.

    import kaiwu.debug as dbg
    table = dbg.get_sensitivity_of_nodes("out/P_ptq_model.onnx", metrics=["cosine-similarity", "mse"],
                                         calibrated_data="calib/", node_type="node", verbose=True)
    dbg.plot_acc_error("debug_result/", "calib/", "out/")             # all / weight-only / activation-only
    dbg.runall("out/", "calib/", save_dir="debug_result/")           # one self-contained HTML report
    dbg.auto_mixed_precision("config.yaml", target=0.999)            # node_info block for the yaml
"""

import os as _os

from . import _kaiwu

__all__ = ["get_sensitivity_of_nodes", "plot_acc_error", "accumulate_error", "plot_distribution",
           "get_channelwise_data_distribution", "runall", "auto_mixed_precision", "METRICS"]

METRICS = ["cosine-similarity", "mse", "mre", "sqnr", "chebyshev", "mae"]


def _spec(model_or_file, calibrated_data, data_num=None, output_node=None, float_model=None, threads=1):
    path = str(model_or_file)
    working_dir, model = ("", path) if not _os.path.isdir(path) else (path, "")
    outputs = [] if output_node is None else ([output_node] if isinstance(output_node, str) else list(output_node))
    return _kaiwu._debug_spec(model, str(float_model or ""), working_dir, False, str(calibrated_data or ""),
                              int(data_num or 0), outputs, int(threads))


def _metric_list(metrics):
    if isinstance(metrics, str):
        metrics = [metrics]
    return [("cosine-similarity" if m == "cosine" else m) for m in metrics]


def _save(save_dir, name, text):
    if not save_dir:
        return None
    _os.makedirs(str(save_dir), exist_ok=True)
    path = _os.path.join(str(save_dir), name)
    with open(path, "w") as f:
        f.write(text)
    return path


def get_sensitivity_of_nodes(model_or_file, metrics="cosine-similarity", calibrated_data=None, output_node=None,
                             node_type="node", data_num=None, verbose=False, interested_nodes=None, save_dir=None,
                             mode="single", float_model=None, threads=1):
    """Sensitivity of each node (node_type 'node'), weight ('weight') or activation ('activation').

    mode 'single' quantizes only that item (everything else float); 'all_but_one' quantizes everything but it.
    Returns {name: {metric: 'value as str'}} ordered worst first by the first metric (as the vendor tool does).
    verbose=True prints the table; save_dir writes sensitivity_of_<node_type>.log there.
    """
    metrics = _metric_list(metrics)
    if mode not in ("single", "all_but_one"):
        raise ValueError("mode must be 'single' or 'all_but_one', got %r" % (mode,))
    if isinstance(interested_nodes, str):
        interested_nodes = [interested_nodes]
    r = _kaiwu._debug_sensitivity(_spec(model_or_file, calibrated_data, data_num, output_node, float_model, threads),
                                  metrics, str(node_type), mode == "all_but_one", list(interested_nodes or []))
    out = {}
    for name, values in zip(r["names"], r["values"]):
        out[name] = {m: "%.6g" % v for m, v in zip(metrics, values)}
    if verbose:
        print(r["table"], end="")
    _save(save_dir, "sensitivity_of_%s.log" % node_type, r["table"])
    return out


def accumulate_error(model_or_file, calibrated_data=None, quantize_node=None, non_quantize_node=None,
                     metric="cosine-similarity", average_mode=False, data_num=None, float_model=None, threads=1):
    """Per layer (topological order), the metric of float vs partially quantized models.

    quantize_node: None -> the curves 'all', 'weight' (weights only), 'activation' (activations only); a list of
    node names -> one curve per node (only that node quantized); a nested list -> one curve per set
    (partial_qmodel_0, ...); the special sets ['weight'] / ['activation'] / ['all'] work too.
    non_quantize_node: list (or nested list) of nodes left float while everything else is quantized.
    Returns {"layers", "tensors", "labels", "values" (per curve), "table", "svg"}.
    """
    sets, labels = [], []
    if quantize_node:
        if all(isinstance(x, (list, tuple)) for x in quantize_node):
            for i, s in enumerate(quantize_node):
                sets.append([str(x) for x in s])
                labels.append(s[0] if len(s) == 1 and s[0] in ("weight", "activation", "all")
                              else "partial_qmodel_%d" % i)
        else:
            for n in quantize_node:
                sets.append([str(n)])
                labels.append(str(n))
    if non_quantize_node:
        groups = non_quantize_node if all(isinstance(x, (list, tuple)) for x in non_quantize_node) \
            else [[n] for n in non_quantize_node]
        for g in groups:
            sets.append(["!" + str(n) for n in g])
            labels.append("all but " + ",".join(str(n) for n in g))
    return _kaiwu._debug_accumulate(_spec(model_or_file, calibrated_data, data_num, None, float_model, threads),
                                    _metric_list(metric)[0], sets, labels, bool(average_mode))


def plot_acc_error(save_dir, calibrated_data, model_or_file, quantize_node=None, non_quantize_node=None,
                   metric="cosine-similarity", average_mode=False, **kwargs):
    """accumulate_error() written as save_dir/accumulate_error.{svg,txt}; returns the result dict."""
    r = accumulate_error(model_or_file, calibrated_data, quantize_node, non_quantize_node, metric, average_mode,
                         **kwargs)
    _save(save_dir, "accumulate_error.svg", r["svg"])
    _save(save_dir, "accumulate_error.txt", r["table"])
    return r


def plot_distribution(save_dir, model_or_file, calibrated_data, nodes_list, bins=64, data_num=None, **kwargs):
    """Histograms of the nodes' outputs (float vs quantized, quantization range marked) and weights (float vs
    dequantized). Writes save_dir/<node>.html (inline SVG); returns one dict per node."""
    if isinstance(nodes_list, str):
        nodes_list = [nodes_list]
    ds = _kaiwu._debug_distribution(_spec(model_or_file, calibrated_data, data_num, **kwargs), list(nodes_list),
                                    int(bins))
    for d in ds:
        _save(save_dir, _safe(d["node"]) + ".html", "<html><body>%s</body></html>\n" % d["svg"])
    return ds


def get_channelwise_data_distribution(save_dir, model_or_file, calibrated_data, nodes_list, axis=None,
                                      data_num=None, **kwargs):
    """Per-channel min/max of the nodes' outputs (axis 1) and weights (output channels), as box-like SVG charts in
    save_dir/<node>_channelwise.html. Returns {node: {"min": [...], "max": [...], "weight_min", "weight_max"}}."""
    if axis not in (None, 1):
        raise ValueError("only the channel axis 1 is supported, got axis=%r" % (axis,))
    if isinstance(nodes_list, str):
        nodes_list = [nodes_list]
    ds = _kaiwu._debug_distribution(_spec(model_or_file, calibrated_data, data_num, **kwargs), list(nodes_list), 16)
    out = {}
    for d in ds:
        _save(save_dir, _safe(d["node"]) + "_channelwise.html", "<html><body>%s</body></html>\n" % d["channel_svg"])
        out[d["node"]] = {"min": d["channel_min"], "max": d["channel_max"],
                          "weight_min": d.get("weight_channel_min", []), "weight_max": d.get("weight_channel_max", [])}
    return out


def runall(model_or_file, calibrated_data=None, save_dir="./debug_result/", metrics=("cosine-similarity", "mse", "sqnr"),
           top=5, mode="single", data_num=None, float_model=None, threads=1):
    """Weight and activation (and node) sensitivity, accumulated error, the top-N nodes' distributions and channel
    ranges into save_dir ({node_sensitivity, accumulate_error, data_distribution, channelwise_distribution}/ and
    report.html, one self-contained page). Returns the report's path."""
    return _kaiwu._debug_runall(_spec(model_or_file, calibrated_data, data_num, None, float_model, threads),
                                str(save_dir), _metric_list(list(metrics)), int(top), mode == "all_but_one")


def auto_mixed_precision(config, target=0.999, metric="cosine", binarize=0.5, working_dir=None, calibrated_data=None,
                         data_num=None, max_raises=0, out_dir=None, threads=2, verbose=False):
    """Raises the most sensitive activations of a compiled model to int16, then nodes to float, until `metric` vs
    the float model reaches `target`: "cosine" (output cosine), "top1" (argmax agreement along the last axis) or
    "iou" (of the output maps binarized at `binarize`); the pruned set is checked on as many other samples
    ("validation", NaN when the data has none). Returns {"metric", "before", "after", "validation", "latency_before_ms",
    "latency_after_ms", "reached", "raised": [{"node", "qtype", "value", "latency_ms"}], "node_info_yaml",
    "yaml_path", "qdq_path", "fixed_path", "kwm_path", "report"}."""
    return _kaiwu._debug_auto_mp(str(config), str(working_dir or ""), str(calibrated_data or ""), str(metric),
                                 float(target), float(binarize), int(data_num or 0), int(max_raises),
                                 str(out_dir or ""), int(threads), bool(verbose))


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
