# Checks an exported QDQ model: onnx.checker (full check) passes, and onnxruntime's output on the given input
# matches Kaiwu's within `atol`. Usage: check_qdq_ort.py model.onnx input.npy kaiwu_output.npy atol
import sys

import numpy as np
import onnx
import onnxruntime as ort

model_path, input_path, ours_path, atol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
model = onnx.load(model_path)
onnx.checker.check_model(model, full_check=True)
ops = sorted({n.op_type for n in model.graph.node})
so = ort.SessionOptions()
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
x = np.load(input_path)
got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
ours = np.load(ours_path)
diff = float(np.max(np.abs(got.astype(np.float64) - ours))) if got.size else 0.0
print("ops:", ",".join(ops), "max |ort - kaiwu| =", diff, "atol =", atol)
if got.shape != ours.shape or not diff <= atol:
    print("MISMATCH", got.shape, ours.shape)
    sys.exit(1)
