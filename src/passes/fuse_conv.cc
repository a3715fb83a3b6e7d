// Conv + elementwise tail -> kaiwu.Conv with post-ops (see passes.h).
#include <cmath>
#include <limits>

#include "ir/graph_edit.h"
#include "ops/graph_shapes.h"
#include "passes/passes.h"

namespace kaiwu::passes {
namespace {

struct Post {
  std::string kind;
  float alpha = 0.f, beta = 0.f;
};

const Tensor* constant_of(const ir::Graph& g, const ops::GraphShapes& gs, const std::string& v) {
  if (v.empty()) return nullptr;
  auto it = g.initializers.find(v);
  if (it != g.initializers.end()) return &it->second;
  auto c = gs.constants.find(v);
  return c == gs.constants.end() ? nullptr : &c->second;
}

// If `n` (sole reader of `cur`) is a fusable activation, appends it to `post` and returns true.
bool activation_of(const ir::Graph& g, const ops::GraphShapes& gs, int64_t opset, const ir::Node& n,
                   std::vector<Post>* post) {
  if (!n.domain.empty() || n.inputs.empty()) return false;
  const std::string& op = n.op_type;
  if (op == "Relu") post->push_back({"Relu", 0.f, 0.f});
  else if (op == "LeakyRelu") post->push_back({"Relu", n.attr_float("alpha", 0.01f), 0.f});
  else if (op == "Sigmoid") post->push_back({"Sigmoid"});
  else if (op == "Tanh") post->push_back({"Tanh"});
  else if (op == "HardSwish") post->push_back({"HardSwish"});
  else if (op == "HardSigmoid") {
    post->push_back({"Linear", n.attr_float("alpha", 0.2f), n.attr_float("beta", 0.5f)});
    post->push_back({"Clip", 0.f, 1.f});
  } else if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (opset < 11 || (n.inputs.size() < 2 && n.has_attr("min"))) {
      lo = n.attr_float("min", lo);
      hi = n.attr_float("max", hi);
    } else {
      for (int k = 1; k <= 2; ++k) {
        if (!n.has_input(k)) continue;
        const Tensor* t = constant_of(g, gs, n.inputs[k]);
        if (!t || t->numel() != 1 || t->dtype() != DType::kF32) return false;
        (k == 1 ? lo : hi) = t->data<float>()[0];
      }
    }
    post->push_back({"Clip", lo, hi});
  } else {
    return false;
  }
  return true;
}

}  // namespace

Status fuse_hardswish(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  auto uses = ir::uses_of(g);
  auto prod = g.producers();
  for (auto& mul : g.nodes) {
    if (mul.op_type != "Mul" || !mul.domain.empty() || mul.inputs.size() != 2) continue;
    for (int k = 0; k < 2; ++k) {
      auto it = prod.find(mul.inputs[k]);
      if (it == prod.end()) continue;
      ir::Node& hs = g.nodes[it->second];
      if (hs.op_type != "HardSigmoid" || !hs.domain.empty() || hs.inputs[0] != mul.inputs[1 - k]) continue;
      if (std::fabs(hs.attr_float("alpha", 0.2f) - 1.f / 6) > 1e-6f || hs.attr_float("beta", 0.5f) != 0.5f) continue;
      if (uses[hs.outputs[0]].size() != 1 || ir::is_graph_output(g, hs.outputs[0])) continue;
      mul.op_type = "HardSwish";
      mul.inputs = {hs.inputs[0]};
      mul.attrs.clear();
      hs.op_type.clear();
      *changed = true;
      break;
    }
  }
  if (*changed) ir::remove_dead_nodes(g);
  return Status::Ok();
}

Status fuse_conv_post_ops(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  if (!ops::find_op("kaiwu", "Conv")) return Status::Ok();
  ops::GraphShapes gs = ops::infer_graph_shapes(m);
  auto prod = g.producers();
  for (size_t ci = 0; ci < g.nodes.size(); ++ci) {
    ir::Node& conv = g.nodes[ci];
    if (conv.op_type != "Conv" || !conv.domain.empty() || conv.inputs.size() < 2) continue;
    auto wit = g.initializers.find(conv.inputs[1]);
    if (wit == g.initializers.end() || wit->second.dtype() != DType::kF32 || wit->second.rank() != 4) continue;
    auto uses = ir::uses_of(g);
    std::vector<Post> post;
    std::string cur = conv.outputs[0], sum_input;
    std::vector<size_t> absorbed;
    for (;;) {
      if (ir::is_graph_output(g, cur)) break;
      const auto& us = uses[cur];
      if (us.size() == 1) {
        const ir::Node& n = g.nodes[us[0].node];
        if (n.op_type.empty()) break;
        size_t before = post.size();
        if (activation_of(g, gs, m.opset(), n, &post)) {
          absorbed.push_back(us[0].node);
          cur = n.outputs[0];
          continue;
        }
        post.resize(before);
        // Residual add of an equally shaped, non-constant tensor computed before this conv.
        if (n.op_type == "Add" && n.domain.empty() && sum_input.empty() && n.inputs.size() == 2 &&
            n.inputs[0] != n.inputs[1]) {
          const std::string& other = n.inputs[us[0].input == 0 ? 1 : 0];
          auto a = gs.desc.find(cur), b = gs.desc.find(other);
          if (a != gs.desc.end() && b != gs.desc.end() && a->second.shape == b->second.shape &&
              a->second.dtype == DType::kF32 && b->second.dtype == DType::kF32 && !constant_of(g, gs, other)) {
            auto op = prod.find(other);
            bool before_conv = op == prod.end() || op->second < ci;
            if (before_conv) {
              sum_input = other;
              post.push_back({"Sum", 1.f, 0.f});
              absorbed.push_back(us[0].node);
              cur = n.outputs[0];
              continue;
            }
          }
        }
        break;
      }
      if (us.size() == 2) {  // x * sigmoid(x)
        const ir::Node* sig = nullptr;
        const ir::Node* mul = nullptr;
        size_t sig_i = 0, mul_i = 0;
        for (const auto& u : us) {
          const ir::Node& n = g.nodes[u.node];
          if (n.op_type == "Sigmoid" && n.domain.empty()) { sig = &n; sig_i = u.node; }
          else if (n.op_type == "Mul" && n.domain.empty()) { mul = &n; mul_i = u.node; }
        }
        if (sig && mul && uses[sig->outputs[0]].size() == 1 && uses[sig->outputs[0]][0].node == mul_i &&
            !ir::is_graph_output(g, sig->outputs[0])) {
          post.push_back({"Swish", 1.f, 0.f});
          absorbed.push_back(sig_i);
          absorbed.push_back(mul_i);
          cur = mul->outputs[0];
          continue;
        }
      }
      break;
    }
    ir::Node fused = conv;
    fused.domain = "kaiwu";
    fused.inputs.resize(3);
    if (!sum_input.empty()) fused.inputs.push_back(sum_input);
    fused.outputs = {cur};
    std::vector<std::string> kinds;
    std::vector<float> alphas, betas;
    for (const auto& p : post) {
      kinds.push_back(p.kind);
      alphas.push_back(p.alpha);
      betas.push_back(p.beta);
    }
    fused.attrs["post_ops"] = ir::Attribute::make_strings(kinds);
    fused.attrs["post_alpha"] = ir::Attribute::make_floats(alphas);
    fused.attrs["post_beta"] = ir::Attribute::make_floats(betas);
    for (size_t a : absorbed) g.nodes[a].op_type.clear();
    g.nodes[ci] = std::move(fused);
    *changed = true;
  }
  if (*changed) {
    ir::remove_dead_nodes(g);
    KW_RETURN_IF_ERROR(g.topo_sort());
  }
  return Status::Ok();
}

}  // namespace kaiwu::passes
