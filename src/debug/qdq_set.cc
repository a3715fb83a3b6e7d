// Analysis of a QDQ model into quantized edges, and the partially quantized models built from an edge mask.
#include <algorithm>
#include <set>

#include "debug/debugger.h"
#include "ir/graph_edit.h"
#include "ir/qdq.h"

namespace kaiwu::debug {

namespace {

bool is_qdq_op(const ir::Node& n) {
  return ir::is_qdq_node(n);
}

}  // namespace

Status dequantize_constant(const ir::Graph& g, const ir::Node& dq, Tensor* out) {
  auto get = [&](size_t i) -> const Tensor* {
    if (!dq.has_input(i)) return nullptr;
    auto it = g.initializers.find(dq.inputs[i]);
    return it == g.initializers.end() ? nullptr : &it->second;
  };
  const Tensor* q = get(0);
  const Tensor* s = get(1);
  const Tensor* z = get(2);
  if (!q || !s) return invalid_argument(dq.describe() + ": weight or scale is not an initializer");
  const int64_t n = q->numel();
  const int64_t channels = s->numel();
  int64_t axis = dq.attr_int("axis", 1);
  if (axis < 0) axis += q->rank();
  int64_t inner = 1;
  if (channels > 1) {
    if (axis < 0 || axis >= q->rank() || q->dim(static_cast<int>(axis)) != channels)
      return invalid_argument(dq.describe() + ": scale count does not match the axis");
    for (int d = static_cast<int>(axis) + 1; d < q->rank(); ++d) inner *= q->dim(d);
  }
  *out = Tensor::empty(DType::kF32, q->shape());
  float* o = out->data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = channels > 1 ? (i / inner) % channels : 0;
    const double zp = z ? z->get_f64(z->numel() > 1 ? c : 0) : 0.0;
    o[i] = static_cast<float>((q->get_f64(i) - zp) * s->get_f64(c));
  }
  return Status::Ok();
}

namespace {

std::string strip_suffix(const std::string& s, const std::string& suf) {
  if (s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0)
    return s.substr(0, s.size() - suf.size());
  return s;
}

}  // namespace

std::vector<size_t> QdqAnalysis::edges_of(const std::string& kind, const std::string& name) const {
  std::vector<size_t> r;
  for (size_t i = 0; i < edges.size(); ++i) {
    const QdqEdge& e = edges[i];
    if (kind == "node" ? qdq.graph.nodes[e.node].name == name
                       : (e.weight == (kind == "weight") && e.item == name && kind != "node"))
      r.push_back(i);
  }
  return r;
}

const std::vector<std::string>& QdqAnalysis::items(const std::string& kind) const {
  if (kind == "weight") return weights;
  if (kind == "activation") return activations;
  return nodes;
}

Status analyze_qdq(const ir::Model& qdq, const ir::Model* float_model, QdqAnalysis* out) {
  *out = QdqAnalysis();
  out->qdq = qdq;
  ir::Graph& g = out->qdq.graph;
  KW_RETURN_IF_ERROR(g.topo_sort());
  const auto prod = g.producers();
  std::set<std::string> seen_w, seen_a, seen_n;
  std::map<std::string, std::string> float_name_of_dq;  // DQ output -> float source (cache)
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const ir::Node& n = g.nodes[ni];
    if (is_qdq_op(n)) continue;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string& v = n.inputs[k];
      if (v.empty()) continue;
      auto pit = prod.find(v);
      if (pit == prod.end()) continue;
      const ir::Node& dq = g.nodes[pit->second];
      if (!ir::is_dequantize_linear(dq) || !dq.has_input(0)) continue;
      QdqEdge e;
      e.node = ni;
      e.input = k;
      const std::string& q_in = dq.inputs[0];
      if (g.is_initializer(q_in)) {  // a weight (or a constant read as an activation): int tensor -> DQ
        e.weight = true;
        const std::string base = strip_suffix(q_in, "_quantized");
        e.item = base;
        e.float_source = base + "__kaiwu_float";
        if (!out->float_weights.count(e.float_source)) {
          const Tensor* orig = nullptr;
          if (float_model) {
            auto it = float_model->graph.initializers.find(base);
            if (it != float_model->graph.initializers.end() && it->second.dtype() == DType::kF32 &&
                it->second.shape() == g.initializers.at(q_in).shape())
              orig = &it->second;
          }
          Tensor w;
          if (orig) {
            w = orig->clone();
          } else {
            KW_RETURN_IF_ERROR(dequantize_constant(g, dq, &w));
            if (g.initializers.at(q_in).dtype() != DType::kI32)  // biases: the int32 rounding is negligible
              out->warnings.push_back("weight '" + base + "': no float original in the float model; using its "
                                      "dequantized value (its rounding error stays)");
          }
          out->float_weights[e.float_source] = std::move(w);
        }
      } else {
        auto qit = prod.find(q_in);
        if (qit == prod.end()) continue;  // an integer graph input: nothing to undo
        const ir::Node& q = g.nodes[qit->second];
        if (!ir::is_quantize_linear(q) || !q.has_input(0)) continue;
        const std::string& src = q.inputs[0];
        if (g.is_initializer(src)) {  // Q(float constant) -> DQ: a weight quantized in the graph
          e.weight = true;
          e.item = src;
        } else {
          e.item = src;
        }
        e.float_source = src;
      }
      out->edges.push_back(e);
      auto& seen = e.weight ? seen_w : seen_a;
      if (seen.insert(e.item).second) (e.weight ? out->weights : out->activations).push_back(e.item);
      if (seen_n.insert(n.name).second) {
        out->nodes.push_back(n.name);
        out->op_type[n.name] = n.op_type;
      }
    }
  }
  if (out->edges.empty())
    return invalid_argument("the model has no QuantizeLinear/DequantizeLinear pairs (give P_calibrated_model.onnx or "
                            "P_ptq_model.onnx, not a float model)");
  return Status::Ok();
}

Status build_partial(const QdqAnalysis& a, const std::vector<bool>& active, ir::Model* out) {
  if (active.size() != a.edges.size()) return invalid_argument("build_partial: mask size does not match the edges");
  *out = a.qdq;
  ir::Graph& g = out->graph;
  for (size_t i = 0; i < a.edges.size(); ++i) {
    if (active[i]) continue;
    const QdqEdge& e = a.edges[i];
    g.nodes[e.node].inputs[e.input] = e.float_source;
    if (e.weight && !g.initializers.count(e.float_source)) {
      auto it = a.float_weights.find(e.float_source);
      if (it != a.float_weights.end()) g.initializers[e.float_source] = it->second;
    }
  }
  ir::remove_dead_nodes(g);
  return g.verify();
}

std::vector<bool> mask_none(const QdqAnalysis& a) { return std::vector<bool>(a.edges.size(), false); }
std::vector<bool> mask_all(const QdqAnalysis& a) { return std::vector<bool>(a.edges.size(), true); }
std::vector<bool> mask_kind(const QdqAnalysis& a, bool weights) {
  std::vector<bool> m(a.edges.size());
  for (size_t i = 0; i < a.edges.size(); ++i) m[i] = a.edges[i].weight == weights;
  return m;
}

}  // namespace kaiwu::debug
