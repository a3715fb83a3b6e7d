// NHWC conversion: 2-D kaiwu.Conv and pooling read and write channels-last activations; Transposes are inserted
// around them and optimize_transposes() cancels the pairs between consecutive NHWC ops.
#include <set>

#include "ir/graph_edit.h"
#include "ops/graph_shapes.h"
#include "passes/passes.h"

namespace kaiwu::passes {
namespace {

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

ir::Node transpose_node(const std::string& name, const std::string& in, const std::string& out,
                        const std::vector<int64_t>& perm) {
  ir::Node t;
  t.name = name;
  t.op_type = "Transpose";
  t.inputs = {in};
  t.outputs = {out};
  t.attrs["perm"] = ir::Attribute::make_ints(perm);
  return t;
}

bool is_nhwc_candidate(const ir::Node& n, const ops::GraphShapes& gs) {
  if (n.inputs.empty() || n.has_attr("layout") || !ops::find_op("kaiwu", n.op_type)) return false;
  auto it = gs.desc.find(n.inputs[0]);
  if (it == gs.desc.end() || it->second.shape.size() != 4) return false;
  const DType t = it->second.dtype;
  const bool q8 = t == DType::kI8 || t == DType::kU8;
  // Integer ops of the fixed-point model: int8 / int16 convolution and average pooling.
  if ((q8 || t == DType::kI16) && n.domain.empty() && n.op_type == "QLinearConv") return true;
  if ((q8 || t == DType::kI16) && n.domain == "kaiwu" && (n.op_type == "QGlobalAveragePool" || n.op_type == "QAveragePool"))
    return true;
  // int8 max pooling (after the first int8 convolution of ResNets) stays in the NHWC chain of its neighbours.
  if (q8 && n.domain.empty() && n.op_type == "MaxPool") return n.outputs.size() < 2 || n.outputs[1].empty();
  if (t != DType::kF32) return false;
  if (n.domain == "kaiwu" && n.op_type == "Conv") return true;
  if (!n.domain.empty()) return false;
  if (n.op_type == "MaxPool") return n.outputs.size() < 2 || n.outputs[1].empty();
  return n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool" || n.op_type == "GlobalMaxPool";
}

}  // namespace

Status convert_to_nhwc(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  ops::GraphShapes gs = ops::infer_graph_shapes(m);
  std::vector<ir::Node> out;
  std::set<std::string> taken;
  for (const auto& n : g.nodes) {
    taken.insert(n.name);
    for (const auto& o : n.outputs) taken.insert(o);
  }
  auto fresh = [&](const std::string& base) {
    std::string c = ir::unique_value_name(g, base);
    for (int i = 1; taken.count(c); ++i) c = ir::unique_value_name(g, base + "_" + std::to_string(i));
    taken.insert(c);
    return c;
  };
  for (auto& n : g.nodes) {
    if (!is_nhwc_candidate(n, gs)) {
      out.push_back(std::move(n));
      continue;
    }
    *changed = true;
    // Activation inputs: X (0) and, for a conv with a fused residual, the summand (3).
    std::vector<size_t> act_inputs = {0};
    if (n.domain == "kaiwu" && n.op_type == "Conv" && n.inputs.size() > 3 && !n.inputs[3].empty())
      act_inputs.push_back(3);
    for (size_t i : act_inputs) {
      std::string t = fresh(n.inputs[i] + "_nhwc");
      out.push_back(transpose_node(fresh(n.name + "_to_nhwc"), n.inputs[i], t, kToNhwc));
      n.inputs[i] = t;
    }
    std::string y = n.outputs[0];
    std::string y_nhwc = fresh(y + "_nhwc");
    n.outputs[0] = y_nhwc;
    n.domain = "kaiwu";
    n.attrs["layout"] = ir::Attribute::make_string("NHWC");
    std::string name = n.name;
    out.push_back(std::move(n));
    out.push_back(transpose_node(fresh(name + "_to_nchw"), y_nhwc, y, kToNchw));
  }
  g.nodes = std::move(out);
  return Status::Ok();
}

}  // namespace kaiwu::passes
