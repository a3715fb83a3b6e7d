// Opset upgrade of the default domain (for QDQ export: QuantizeLinear needs opset >= 10, per-channel >= 13).
// Rewrites the ops whose signature changed between the model's opset and the target: attributes that became inputs
// (Slice 10, Pad 11, Clip 11, Squeeze/Unsqueeze/Split/ReduceSum 13) and Upsample (replaced by Resize in 10).
// Softmax/LogSoftmax/Hardmax changed meaning in 13 (coerce-to-2D vs one axis): equal only on the last axis, so other
// axes are refused. The maths of the model is unchanged.
#include "ir/graph_edit.h"
#include "ops/graph_shapes.h"
#include "passes/passes.h"

namespace kaiwu::passes {
namespace {

std::string add_i64(ir::Graph& g, const std::string& base, const std::vector<int64_t>& v) {
  std::string name = ir::unique_value_name(g, base);
  g.initializers[name] = Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
  return name;
}

std::string add_f32(ir::Graph& g, const std::string& base, float v) {
  std::string name = ir::unique_value_name(g, base);
  g.initializers[name] = Tensor::from_vector<float>({v}, {});
  return name;
}

// Moves integer-list attribute `attr` to input slot `slot` (filling skipped optional slots with "").
void attr_to_input(ir::Graph& g, ir::Node& n, const std::string& attr, size_t slot) {
  if (!n.has_attr(attr)) return;
  std::vector<int64_t> v = n.attr_ints(attr);
  n.attrs.erase(attr);
  if (n.inputs.size() <= slot) n.inputs.resize(slot + 1);
  n.inputs[slot] = add_i64(g, n.name + "_" + attr, v);
}

}  // namespace

Status upgrade_opset(ir::Model& m, int64_t target, bool* changed, const std::map<std::string, Shape>& input_shapes) {
  *changed = false;
  const int64_t from = m.opset();
  if (from >= target) return Status::Ok();
  if (target > 17) return unsupported("opset upgrade is implemented up to opset 17, asked for " + std::to_string(target));
  if (from < 7) return unsupported("opset upgrade from opset " + std::to_string(from) + " (below 7) is not supported");
  ir::Graph& g = m.graph;
  ops::GraphShapes gs = ops::infer_graph_shapes(m, input_shapes);
  for (auto& n : g.nodes) {
    if (!n.domain.empty()) continue;
    const std::string& op = n.op_type;
    if (op == "Slice" && from < 10 && target >= 10) {
      std::vector<int64_t> starts = n.attr_ints("starts"), ends = n.attr_ints("ends"), axes = n.attr_ints("axes");
      n.attrs.clear();
      n.inputs.resize(1);
      n.inputs.push_back(add_i64(g, n.name + "_starts", starts));
      n.inputs.push_back(add_i64(g, n.name + "_ends", ends));
      if (!axes.empty()) n.inputs.push_back(add_i64(g, n.name + "_axes", axes));
    } else if (op == "Pad" && from < 11 && target >= 11) {
      std::vector<int64_t> pads = n.attr_ints("pads");
      float value = n.attr_float("value", 0.f);
      n.attrs.erase("pads");
      n.attrs.erase("value");
      n.inputs.resize(1);
      n.inputs.push_back(add_i64(g, n.name + "_pads", pads));
      n.inputs.push_back(add_f32(g, n.name + "_value", value));
    } else if (op == "Clip" && from < 11 && target >= 11) {
      bool has_min = n.has_attr("min"), has_max = n.has_attr("max");
      float lo = n.attr_float("min", 0.f), hi = n.attr_float("max", 0.f);
      n.attrs.clear();
      n.inputs.resize(1);
      n.inputs.push_back(has_min ? add_f32(g, n.name + "_min", lo) : "");
      if (has_max) n.inputs.push_back(add_f32(g, n.name + "_max", hi));
    } else if ((op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum") && from < 13 && target >= 13) {
      attr_to_input(g, n, "axes", 1);
    } else if (op == "Split" && from < 13 && target >= 13) {
      attr_to_input(g, n, "split", 1);
    } else if (op == "Upsample" && target >= 10) {
      std::string mode = n.attr_string("mode", "nearest");
      std::vector<float> scales = n.attr_floats("scales");
      std::string scales_in = n.inputs.size() > 1 ? n.inputs[1] : "";
      if (scales_in.empty()) {
        scales_in = ir::unique_value_name(g, n.name + "_scales");
        g.initializers[scales_in] = Tensor::from_vector<float>(scales, {static_cast<int64_t>(scales.size())});
      }
      n.op_type = "Resize";
      n.attrs.clear();
      n.attrs["mode"] = ir::Attribute::make_string(mode == "bilinear" ? "linear" : mode);
      n.attrs["coordinate_transformation_mode"] = ir::Attribute::make_string("asymmetric");
      n.attrs["nearest_mode"] = ir::Attribute::make_string("floor");
      n.inputs = {n.inputs[0], "", scales_in};
    } else if ((op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") && from < 13 && target >= 13) {
      auto it = gs.desc.find(n.inputs[0]);
      if (it == gs.desc.end())
        return unsupported(n.describe() + ": cannot upgrade to opset 13 without the input's rank");
      const int64_t rank = static_cast<int64_t>(it->second.shape.size());
      int64_t axis = n.attr_int("axis", 1);
      if (axis < 0) axis += rank;
      if (axis != rank - 1)
        return unsupported(n.describe() + ": opset-" + std::to_string(from) + " " + op + " over axis " +
                           std::to_string(axis) + " of a rank-" + std::to_string(rank) +
                           " tensor has no single-op opset-13 equivalent");
    } else {
      continue;
    }
    *changed = true;
  }
  m.opsets[""] = target;
  m.ir_version = std::max<int64_t>(m.ir_version, 7);
  *changed = true;
  return g.verify();
}

}  // namespace kaiwu::passes
