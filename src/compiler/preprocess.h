// Preprocessing inside the fixed-point / deployable model (issue 4, spec horizon_ptq_spec.md §1.2, §6): each image
// input of the float-input model is replaced by its runtime uint8 input(s) followed by one kaiwu.Preprocess node
// (colour conversion, (x - mean) * scale, NCHW/NHWC layout) that produces the tensor the old input fed.
#pragma once
#include <string>

#include "config/compile_config.h"
#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::compiler {

// For every configured input whose input_type_rt is not featuremap: the model input `<name>` (float32, 4-D in
// input_layout_train) becomes a uint8 NHWC runtime input — `<name>` [N,H,W,C] for rgb/bgr/yuv444 and gray from
// ddr, `<name>_y` [N,H,W,1] for gray from pyramid, `<name>_y` [N,H,W,1] + `<name>_uv` [N,H/2,W/2,2] for nv12 from
// pyramid, `<name>` [N,H*3/2,W,1] (packed Y then UV planes) for nv12 from ddr — followed by kaiwu.Preprocess. For
// input_source resizer (nv12 or gray only; other types are refused) the inputs are a frame of any size (even for nv12),
// `<name>_y` [N,Hf,Wf,1] (+ `<name>_uv` [N,Hf/2,Wf/2,2] for nv12; Hf, Wf symbolic) and `<name>_roi` int32 [N,4]
// (left, top, right, bottom, inclusive), read by a kaiwu.RoiResize node (bilinear crop-and-resize of the ROI to
// H x W, see src/ops/kw_roi_resize.cc) whose output feeds kaiwu.Preprocess as a pyramid frame would. When
// the float tensor's only reader is a per-tensor QuantizeLinear with constant qparams, that quantization is folded
// into the Preprocess node (int8/uint8 output) and the QuantizeLinear is removed. Featuremap inputs are left
// alone (mean/scale/std on them are refused). One line per input
// is appended to `log` (may be null). The model stays valid (ir::Graph::verify).
Status insert_preprocessing(const config::CompileConfig& cfg, ir::Model* fixed_point_model, std::string* log);

// For the deployable model after the NHWC layout pass: every Transpose(perm [0,2,3,1]) that is the only reader of a
// kaiwu.Preprocess's NCHW output is folded into the Preprocess (output_layout NHWC), so the frame is written once,
// directly in the layout the first NHWC layer reads. Returns the number of Transposes removed.
int fold_preprocess_layout(ir::Model* deployable);

}  // namespace kaiwu::compiler
