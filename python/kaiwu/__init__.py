"""Kaiwu: run and compile (post-training quantize) ONNX vision models on x86 CPUs.

The API follows the shape of onnxruntime's InferenceSession and Horizon's HBRuntime::

    import numpy as np
    import kaiwu

    sess = kaiwu.Session("model.onnx")            # .onnx (float, QDQ or fixed-point) or deployable .kwm
    print(sess.input_names, sess.input_shapes, sess.input_types)
    x = np.random.rand(*sess.input_shapes[0]).astype(np.float32)
    (y,) = sess.run(None, {sess.input_names[0]: x})

    result = kaiwu.compile("config.yaml")         # the `kaiwu compile -c config.yaml` pipeline
    sess = kaiwu.Session(result["working_dir"] + "/model.kwm")

Errors raise ValueError (bad arguments: unknown input/output name, wrong shape or dtype...) or RuntimeError (I/O,
unsupported model, internal errors); the message is Kaiwu's own, naming the file, input or node concerned.
"""

import json as _json

import numpy as np

from . import _kaiwu

__version__ = _kaiwu.__version__

__all__ = ["Session", "HBRuntime", "compile", "debug", "eval", "__version__"]


def _guess_layout(shape):
    """HBRuntime's heuristic: 4-D with 1 or 3 channels at dim 1 -> NCHW, at dim 3 -> NHWC, else ""."""
    if len(shape) != 4:
        return ""
    if shape[1] in (1, 3):
        return "NCHW"
    if shape[3] in (1, 3):
        return "NHWC"
    return ""


class Session:
    """A loaded model, ready to run.

    Session(path, num_threads=0) opens any Kaiwu artifact: a float ONNX model, a QDQ model
    (P_calibrated_model.onnx / P_ptq_model.onnx), a fixed-point model (P_quantized_model.onnx) or a deployable model
    (P.kwm; its target ISA is checked against this CPU). num_threads=0 uses every core.

    Extra keyword arguments: reference_only=True runs the scalar reference kernels only (slow; for checks),
    optimize=False skips graph optimizations (same maths, ignored for .kwm which is already optimized).

    The session may be shared across Python threads; runs are serialized and release the GIL.
    """

    def __init__(self, path, num_threads=0, *, reference_only=False, optimize=True):
        path = str(path)
        self._s = _kaiwu._Session(path, int(num_threads), bool(reference_only), bool(optimize))
        self._inputs = self._s.inputs()
        self._outputs = self._s.outputs()
        self._deploy = self._s.deploy_info()

    # --- model description -------------------------------------------------------------------------------------
    @property
    def model_path(self):
        """The file this session was opened from."""
        return self._s.path

    @property
    def input_num(self):
        return len(self._inputs)

    @property
    def output_num(self):
        return len(self._outputs)

    @property
    def input_names(self):
        """Names of the graph inputs, in order."""
        return [i["name"] for i in self._inputs]

    @property
    def output_names(self):
        """Names of the graph outputs, in order."""
        return [o["name"] for o in self._outputs]

    @property
    def input_types(self):
        """numpy dtypes of the inputs (np.dtype('float32'), np.dtype('uint8'), ...)."""
        return [np.dtype(i["dtype"]) for i in self._inputs]

    @property
    def output_types(self):
        return [np.dtype(o["dtype"]) for o in self._outputs]

    @property
    def input_shapes(self):
        """Input shapes as lists; -1 marks a dimension that is not fixed (symbolic)."""
        return [list(i["shape"]) for i in self._inputs]

    @property
    def output_shapes(self):
        """Output shapes as declared by the model; -1 for dimensions only known after a run."""
        return [list(o["shape"]) for o in self._outputs]

    @property
    def input_dim_names(self):
        """Symbolic dimension names per input ("" for fixed or unnamed dimensions)."""
        return [list(i["dim_names"]) for i in self._inputs]

    @property
    def input_layouts(self):
        """"NCHW", "NHWC" or "" per input.

        Kaiwu's runtime reports the layout of image inputs itself (ONNX image tensors are NCHW); when it reports
        none, HBRuntime's heuristic is used: 4-D with 1 or 3 channels at dim 1 -> "NCHW", at dim 3 -> "NHWC",
        otherwise "".
        """
        return [i["layout"] or _guess_layout(i["shape"]) for i in self._inputs]

    @property
    def desc(self):
        """For a deployable .kwm: the compile description stored in it (a JSON string; json.loads gives a dict with
        tool, version, march, target, calibration_method, onnx_model and yaml). Otherwise a short text."""
        if self._deploy:
            return self._deploy["description"]
        kind = "ONNX model" if self.model_path.lower().endswith(".onnx") else "model"
        return "%s %s: inputs %s, outputs %s" % (kind, self.model_path, self.input_names, self.output_names)

    @property
    def desc_dict(self):
        """desc parsed as JSON for a .kwm (HBRuntime's desc is a dict); {} for other artifacts."""
        if not self._deploy or not self._deploy["description"]:
            return {}
        try:
            return _json.loads(self._deploy["description"])
        except ValueError:
            return {}

    @property
    def deploy_info(self):
        """For a .kwm: {"tool_version", "target", "description"}; {} for other artifacts."""
        return dict(self._deploy)

    @property
    def num_threads(self):
        return self._s.num_threads

    @num_threads.setter
    def num_threads(self, n):
        self._s.num_threads = int(n)

    # --- running -----------------------------------------------------------------------------------------------
    def _prepare(self, name, value):
        types = {i["name"]: i["dtype"] for i in self._inputs}
        arr = np.asarray(value)
        want = types.get(name)
        if want and arr.dtype != np.dtype(want):
            want = np.dtype(want)
            # Like HBRuntime: integer data given to a float input is cast (e.g. uint8 images). Anything else must
            # already have the model's dtype.
            if want.kind == "f" and arr.dtype.kind in "fiub":
                arr = arr.astype(want)
            else:
                raise ValueError("input '%s' expects dtype %s, got %s" % (name, want, arr.dtype))
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return np.ascontiguousarray(arr)

    def run(self, output_names, input_feed, **kwargs):
        """Runs the model and returns a list of numpy arrays (fresh copies) in output_names order.

        output_names: None or [] for all graph outputs, or names of outputs or any intermediate value.
        input_feed: {input name: array-like}. Integer data for a float input is cast to the input's dtype; other
        dtype mismatches raise ValueError. The deprecated HBRuntime keyword output_name= is accepted.
        """
        if output_names is None and "output_name" in kwargs:
            output_names = kwargs.pop("output_name")
        if kwargs:
            raise TypeError("run() got unexpected keyword arguments: %s" % ", ".join(sorted(kwargs)))
        if not isinstance(input_feed, dict):
            raise TypeError("input_feed must be a dict {input name: numpy array}")
        if isinstance(output_names, str):
            output_names = [output_names]
        names = list(output_names or [])
        feeds = []
        for name, value in input_feed.items():
            arr = self._prepare(str(name), value)
            feeds.append((str(name), arr, arr.dtype.name))
        return self._s.run(names, feeds)

    def __repr__(self):
        return "kaiwu.Session(%r)" % self.model_path


# The Horizon toolchain's name for the same API (spec §4.3).
HBRuntime = Session


def compile(yaml_path, quiet=True):
    """Runs the `kaiwu compile -c yaml_path` pipeline and returns its result as a dict.

    Keys: working_dir, artifacts (file names written into working_dir), calibration_method, output_cosine (QDQ vs
    float on the first output), nodes_int8, nodes_int16, nodes_float, seconds. quiet=False echoes the log to stdout
    (it is always written to working_dir/kaiwu_compile.log). Errors raise ValueError/RuntimeError and leave
    working_dir as it was.
    """
    return _kaiwu.compile(str(yaml_path), bool(quiet))


# Submodules: kaiwu.debug (precision debugger, automatic mixed precision) and kaiwu.eval (accuracy on numpy data).
from . import debug  # noqa: E402
from . import eval  # noqa: E402,A004
