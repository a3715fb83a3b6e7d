#include "compiler/preprocess.h"

#include <algorithm>
#include <sstream>

#include "ir/graph_edit.h"
#include "ir/qdq.h"
#include "kernels/ref/preprocess.h"

namespace kaiwu::compiler {
namespace {

std::string list(const std::vector<double>& v) {
  std::ostringstream o;
  for (size_t i = 0; i < v.size(); ++i) o << (i ? " " : "") << v[i];
  return o.str();
}

ir::ValueInfo u8_input(const std::string& name, const ir::Dim& n, std::vector<int64_t> rest) {
  ir::ValueInfo v;
  v.name = name;
  v.dtype = DType::kU8;
  v.has_shape = true;
  v.dims.push_back(n);
  for (int64_t d : rest) v.dims.push_back(ir::Dim::fixed(d));
  return v;
}

std::vector<float> to_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// Folds the only reader of `value` into `pre` when it is a per-tensor QuantizeLinear with constant qparams:
// returns the name of the QuantizeLinear's output (now produced by `pre`) or "".
std::string fold_quantize(ir::Graph& g, const std::string& value, ir::Node* pre, std::string* how) {
  if (ir::is_graph_output(g, value)) return "";
  auto uses = ir::uses_of(g);
  auto it = uses.find(value);
  if (it == uses.end() || it->second.size() != 1 || it->second[0].input != 0) return "";
  ir::Node& q = g.nodes[it->second[0].node];
  if (!ir::is_quantize_linear(q) || q.outputs.size() != 1) return "";
  if (!q.has_input(1) || !g.is_initializer(q.inputs[1])) return "";
  const Tensor& s = g.initializers.at(q.inputs[1]);
  if (s.dtype() != DType::kF32 || s.numel() != 1) return "";
  DType zt = DType::kU8;
  int32_t zp = 0;
  if (q.has_input(2)) {
    if (!g.is_initializer(q.inputs[2])) return "";
    const Tensor& z = g.initializers.at(q.inputs[2]);
    if (z.numel() != 1) return "";
    zt = z.dtype();
    if (zt == DType::kI8) zp = z.data<int8_t>()[0];
    else if (zt == DType::kU8) zp = z.data<uint8_t>()[0];
    else return "";
  }
  if (q.has_attr("output_dtype") || q.has_attr("saturate")) return "";  // opset 21 forms: keep the node
  const float scale = s.data<float>()[0];
  pre->attrs["output_scale"] = ir::Attribute::make_float(scale);
  pre->attrs["output_zero_point"] = ir::Attribute::make_int(zp);
  pre->attrs["output_dtype"] = ir::Attribute::make_string(zt == DType::kI8 ? "int8" : "uint8");
  std::string out = q.outputs[0];
  *how = "folded " + q.describe() + " (scale " + std::to_string(scale) + ", zero point " + std::to_string(zp) + ", " +
         (zt == DType::kI8 ? "int8" : "uint8") + " output)";
  q.op_type.clear();  // marked deleted
  return out;
}

Status insert_one(const config::InputParameters& in, const std::string& name, ir::Model* model, std::string* log) {
  ir::Graph& g = model->graph;
  const std::string who = "input '" + name + "': ";
  size_t idx = 0;
  while (idx < g.inputs.size() && g.inputs[idx].name != name) ++idx;
  if (idx == g.inputs.size()) return invalid_argument(who + "not an input of the fixed-point model");
  const ir::ValueInfo old = g.inputs[idx];
  const bool has_norm = !in.mean.empty() || !in.scale.empty() || !in.std.empty();
  if (in.type_rt == "featuremap" || in.type_train == "featuremap") {
    if (in.type_rt != in.type_train)
      return invalid_argument(who + "illegal type pair: input_type_rt " + in.type_rt + " cannot feed input_type_train " +
                              in.type_train);
    if (has_norm) return invalid_argument(who + "mean_value/scale_value/std_value are not allowed on a featuremap input");
    if (log) *log += "preprocess " + who + "featuremap, left unchanged\n";
    return Status::Ok();
  }
  const std::string source =
      !in.source.empty() ? in.source : (in.type_rt == "nv12" || in.type_rt == "gray") ? "pyramid" : "ddr";
  const bool resizer = source == "resizer";
  if (resizer && in.type_rt != "nv12" && in.type_rt != "gray")
    return invalid_argument(who + "input_source resizer only supports input_type_rt nv12 or gray (the resizer crops " +
                            "and scales camera frames), not " + in.type_rt + "; use ddr");
  if (old.dtype != DType::kF32) return invalid_argument(who + "expected a float32 model input");
  kernels::ref::PreprocessParams cp;
  std::string why = kernels::ref::preprocess_colour(in.type_rt, in.type_train, in.space_and_range, &cp);
  if (!why.empty()) return invalid_argument(who + why);
  // The shape in input_layout_train: the config's (bound to the model) or the model's.
  std::vector<int64_t> shape = in.shape;
  if (shape.empty()) {
    if (!old.has_shape) return invalid_argument(who + "the input has no shape; set input_shape");
    for (const auto& d : old.dims) shape.push_back(d.is_static() ? d.value : -1);
  }
  if (shape.size() != 4) return invalid_argument(who + "an image input needs a 4-D shape");
  const bool nchw = in.layout_train != "NHWC";
  const int64_t C = nchw ? shape[1] : shape[3], H = nchw ? shape[2] : shape[1], W = nchw ? shape[3] : shape[2];
  if (C != cp.out_channels)
    return invalid_argument(who + "input_type_train " + in.type_train + " needs " + std::to_string(cp.out_channels) +
                            " channels, the shape has " + std::to_string(C) + " (input_layout_train " +
                            (nchw ? "NCHW" : "NHWC") + ")");
  if (H <= 0 || W <= 0) return invalid_argument(who + "height and width must be static; set input_shape");
  if (cp.nv12 && (H % 2 || W % 2))
    return invalid_argument(who + "nv12 type does not support odd size (" + std::to_string(H) + "x" + std::to_string(W) + ")");
  const ir::Dim n = shape[0] > 0 ? ir::Dim::fixed(shape[0]) : (old.has_shape ? old.dims[0] : ir::Dim::symbol("N"));

  // The float tensor gets a new name; the runtime input(s) take over the graph-input slot.
  if (ir::is_graph_output(g, name)) return unsupported(who + "a model input that is also an output cannot be preprocessed");
  const std::string fval = ir::unique_value_name(g, name + "_preprocessed");
  ir::replace_uses(g, name, fval);
  g.value_info.erase(name);
  std::vector<ir::ValueInfo> rt_inputs;
  std::string rt_desc;
  if (resizer) {
    // Frames of any even size (dynamic H, W) plus the ROI; kaiwu.RoiResize makes the H x W image Preprocess reads.
    const ir::Dim fh = ir::Dim::symbol(name + "_frame_height"), fw = ir::Dim::symbol(name + "_frame_width");
    rt_inputs = {u8_input(name + "_y", n, {})};
    rt_inputs[0].dims.insert(rt_inputs[0].dims.end(), {fh, fw, ir::Dim::fixed(1)});
    if (cp.nv12) {
      rt_inputs.push_back(u8_input(name + "_uv", n, {}));
      rt_inputs[1].dims.insert(rt_inputs[1].dims.end(), {ir::Dim::symbol(name + "_frame_height/2"),
                                                         ir::Dim::symbol(name + "_frame_width/2"), ir::Dim::fixed(2)});
    }
    rt_inputs.push_back(u8_input(name + "_roi", n, {4}));
    rt_inputs.back().dtype = DType::kI32;
  } else if (cp.nv12 && source != "ddr") {
    rt_inputs = {u8_input(name + "_y", n, {H, W, 1}), u8_input(name + "_uv", n, {H / 2, W / 2, 2})};
  } else if (cp.nv12) {
    rt_inputs = {u8_input(name, n, {H * 3 / 2, W, 1})};
  } else if (in.type_rt == "gray" && source == "pyramid") {
    rt_inputs = {u8_input(name + "_y", n, {H, W, 1})};
  } else {
    rt_inputs = {u8_input(name, n, {H, W, cp.in_channels})};
  }
  for (const auto& v : rt_inputs) {
    if (v.name != name && (g.find_input(v.name) || g.is_initializer(v.name) || g.producers().count(v.name)))
      return invalid_argument(who + "the runtime input name '" + v.name + "' is already used in the model");
    rt_desc += (rt_desc.empty() ? "" : " + ") + v.name + " " + v.shape_string();
  }
  g.inputs.erase(g.inputs.begin() + idx);
  g.inputs.insert(g.inputs.begin() + idx, rt_inputs.begin(), rt_inputs.end());

  ir::Node pre;
  pre.name = ir::unique_value_name(g, name + "_preprocess");
  pre.op_type = "Preprocess";
  pre.domain = "kaiwu";
  if (resizer) {
    ir::Node rr;
    rr.name = ir::unique_value_name(g, name + "_roi_resize");
    rr.op_type = "RoiResize";
    rr.domain = "kaiwu";
    for (const auto& v : rt_inputs) rr.inputs.push_back(v.name);
    rr.outputs.push_back(ir::unique_value_name(g, name + "_resized_y"));
    if (cp.nv12) rr.outputs.push_back(ir::unique_value_name(g, name + "_resized_uv"));
    rr.attrs["height"] = ir::Attribute::make_int(H);
    rr.attrs["width"] = ir::Attribute::make_int(W);
    rr.attrs["mode"] = ir::Attribute::make_string(cp.nv12 ? "nv12" : "gray");
    pre.inputs = rr.outputs;
    g.nodes.insert(g.nodes.begin(), rr);
  } else {
    for (const auto& v : rt_inputs) pre.inputs.push_back(v.name);
  }
  pre.attrs["input_type_rt"] = ir::Attribute::make_string(in.type_rt);
  pre.attrs["input_type_train"] = ir::Attribute::make_string(in.type_train);
  pre.attrs["input_space_and_range"] = ir::Attribute::make_string(in.space_and_range);
  pre.attrs["output_layout"] = ir::Attribute::make_string(nchw ? "NCHW" : "NHWC");
  if (!in.mean.empty()) pre.attrs["mean"] = ir::Attribute::make_floats(to_floats(in.mean));
  if (!in.scale.empty()) pre.attrs["scale"] = ir::Attribute::make_floats(to_floats(in.scale));
  if (!in.std.empty()) pre.attrs["std"] = ir::Attribute::make_floats(to_floats(in.std));
  std::string how;
  std::string out = fold_quantize(g, fval, &pre, &how);
  pre.outputs = {out.empty() ? fval : out};
  g.nodes.insert(g.nodes.begin(), pre);
  ir::remove_dead_nodes(g);
  if (!model->opsets.count("kaiwu")) model->opsets["kaiwu"] = 1;
  if (log) {
    *log += "preprocess " + who + in.type_rt + " (" + source + ": " + rt_desc +
            (resizer ? ", bilinear ROI crop-and-resize to " + std::to_string(H) + "x" + std::to_string(W) : "") + ") -> " +
            in.type_train +
            (cp.nv12 ? std::string(", BT.601 ") + (in.space_and_range == "bt601_video" ? "video range" : "full range") : "") +
            (in.mean.empty() ? "" : ", mean " + list(in.mean)) + (in.scale.empty() ? "" : ", scale " + list(in.scale)) +
            (in.std.empty() ? "" : ", std " + list(in.std)) + ", " + (nchw ? "NCHW" : "NHWC") + " output; " +
            (how.empty() ? "float output" : how) + "\n";
  }
  return Status::Ok();
}

}  // namespace

Status insert_preprocessing(const config::CompileConfig& cfg, ir::Model* model, std::string* log) {
  for (const auto& in : cfg.inputs) {
    std::string name = in.name;
    if (name.empty()) {
      if (cfg.inputs.size() != 1 || model->graph.inputs.size() != 1)
        return invalid_argument("insert_preprocessing: an unnamed config input needs a single-input model");
      name = model->graph.inputs[0].name;
    }
    KW_RETURN_IF_ERROR(insert_one(in, name, model, log));
  }
  KW_RETURN_IF_ERROR(model->graph.topo_sort());
  return model->graph.verify().with_context("after inserting the preprocessing");
}

int fold_preprocess_layout(ir::Model* deployable) {
  ir::Graph& g = deployable->graph;
  auto uses = ir::uses_of(g);
  int folded = 0;
  for (auto& pre : g.nodes) {
    if (pre.domain != "kaiwu" || pre.op_type != "Preprocess" || pre.outputs.size() != 1) continue;
    if (pre.attr_string("output_layout", "NHWC") != "NCHW" || ir::is_graph_output(g, pre.outputs[0])) continue;
    auto it = uses.find(pre.outputs[0]);
    if (it == uses.end() || it->second.size() != 1) continue;
    ir::Node& t = g.nodes[it->second[0].node];
    if (!t.domain.empty() || t.op_type != "Transpose" || t.outputs.size() != 1 ||
        t.attr_ints("perm") != std::vector<int64_t>{0, 2, 3, 1})
      continue;
    g.value_info.erase(pre.outputs[0]);
    pre.attrs["output_layout"] = ir::Attribute::make_string("NHWC");
    pre.outputs[0] = t.outputs[0];
    t.op_type.clear();
    ++folded;
  }
  if (folded) ir::remove_dead_nodes(g);
  return folded;
}

}  // namespace kaiwu::compiler
