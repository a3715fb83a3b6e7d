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

// The value of a one-element float constant, if `v` is one.
bool scalar_of(const ir::Graph& g, const std::string& v, float* out) {
  auto it = g.initializers.find(v);
  if (it == g.initializers.end() || it->second.numel() != 1 || it->second.dtype() != DType::kF32) return false;
  *out = it->second.data<float>()[0];
  return true;
}

// If `n` (sole reader of `cur`) is a fusable activation, appends it to `post` and returns true.
bool activation_of(const ir::Graph& g, const ops::GraphShapes& gs, int64_t opset, const ir::Node& n,
                   const std::string& cur, std::vector<Post>* post) {
  if (!n.domain.empty() || n.inputs.empty()) return false;
  const std::string& op = n.op_type;
  // Affine ops with a scalar constant: y = alpha * x + beta.
  if ((op == "Mul" || op == "Add" || op == "Sub" || op == "Div") && n.inputs.size() == 2 && n.inputs[0] != n.inputs[1]) {
    const bool cur_first = n.inputs[0] == cur;
    float c;
    if (!scalar_of(g, n.inputs[cur_first ? 1 : 0], &c)) return false;
    if (op == "Mul") post->push_back({"Linear", c, 0.f});
    else if (op == "Add") post->push_back({"Linear", 1.f, c});
    else if (op == "Sub") post->push_back(cur_first ? Post{"Linear", 1.f, -c} : Post{"Linear", -1.f, c});
    else if (cur_first && c != 0.f) post->push_back({"Linear", 1.f / c, 0.f});
    else return false;
    return true;
  }
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

namespace {

bool near(float a, float b) { return std::fabs(a - b) <= 1e-6f * std::fmax(1.f, std::fabs(b)); }

// If `v` is Clip(Add(x, 3), 0, 6) (each intermediate read once), returns the Clip and Add nodes and x.
bool relu6_of_x_plus_3(ir::Graph& g, const std::map<std::string, size_t>& prod,
                       const std::map<std::string, std::vector<ir::Use>>& uses, const std::string& v, ir::Node** clip,
                       ir::Node** add, std::string* x) {
  auto single = [&](const std::string& name) {
    auto u = uses.find(name);
    return u != uses.end() && u->second.size() == 1 && !ir::is_graph_output(g, name);
  };
  auto pc = prod.find(v);
  if (pc == prod.end() || !single(v)) return false;
  ir::Node& c = g.nodes[pc->second];
  if (c.op_type != "Clip" || !c.domain.empty()) return false;
  float lo, hi;
  if (c.inputs.size() == 1) {  // opset < 11: the bounds are attributes
    if (!c.has_attr("min") || !c.has_attr("max")) return false;
    lo = c.attr_float("min", 0.f);
    hi = c.attr_float("max", 0.f);
  } else if (c.inputs.size() != 3 || !scalar_of(g, c.inputs[1], &lo) || !scalar_of(g, c.inputs[2], &hi)) {
    return false;
  }
  if (lo != 0.f || hi != 6.f) return false;
  auto pa = prod.find(c.inputs[0]);
  if (pa == prod.end() || !single(c.inputs[0])) return false;
  ir::Node& a = g.nodes[pa->second];
  if (a.op_type != "Add" || !a.domain.empty() || a.inputs.size() != 2) return false;
  float three;
  int k = scalar_of(g, a.inputs[1], &three) ? 0 : (scalar_of(g, a.inputs[0], &three) ? 1 : -1);
  if (k < 0 || three != 3.f) return false;
  *clip = &c;
  *add = &a;
  *x = a.inputs[k];
  return true;
}

// Division by 6 or multiplication by 1/6 with a scalar constant: the other operand, or "".
std::string divided_by_6(const ir::Graph& g, const ir::Node& n) {
  if (!n.domain.empty() || n.inputs.size() != 2) return "";
  float c;
  if (n.op_type == "Div" && scalar_of(g, n.inputs[1], &c) && c == 6.f) return n.inputs[0];
  if (n.op_type == "Mul") {
    if (scalar_of(g, n.inputs[1], &c) && near(c, 1.f / 6)) return n.inputs[0];
    if (scalar_of(g, n.inputs[0], &c) && near(c, 1.f / 6)) return n.inputs[1];
  }
  return "";
}

}  // namespace

// Decomposed forms exported by paddle2onnx and others:
//   Div(Clip(Add(x, 3), 0, 6), 6)            -> HardSigmoid(x; 1/6, 0.5)
//   Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)    -> HardSwish(x)
Status fuse_decomposed_hard_activations(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  auto uses = ir::uses_of(g);
  auto prod = g.producers();
  for (auto& d : g.nodes) {
    std::string inner = divided_by_6(g, d);
    if (inner.empty()) continue;
    ir::Node *clip = nullptr, *add = nullptr;
    std::string x;
    if (relu6_of_x_plus_3(g, prod, uses, inner, &clip, &add, &x)) {
      d.op_type = "HardSigmoid";
      d.inputs = {x};
      d.attrs.clear();
      d.attrs["alpha"] = ir::Attribute::make_float(1.f / 6);
      d.attrs["beta"] = ir::Attribute::make_float(0.5f);
      clip->op_type.clear();
      add->op_type.clear();
      *changed = true;
      continue;
    }
    auto pm = prod.find(inner);
    if (pm == prod.end() || uses[inner].size() != 1 || ir::is_graph_output(g, inner)) continue;
    ir::Node& mul = g.nodes[pm->second];
    if (mul.op_type != "Mul" || !mul.domain.empty() || mul.inputs.size() != 2) continue;
    for (int k = 0; k < 2; ++k) {
      if (!relu6_of_x_plus_3(g, prod, uses, mul.inputs[k], &clip, &add, &x) || x != mul.inputs[1 - k]) continue;
      d.op_type = "HardSwish";
      d.inputs = {x};
      d.attrs.clear();
      mul.op_type.clear();
      clip->op_type.clear();
      add->op_type.clear();
      *changed = true;
      break;
    }
  }
  if (*changed) ir::remove_dead_nodes(g);
  return Status::Ok();
}

Status fuse_hardswish(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  bool decomposed = false;
  KW_RETURN_IF_ERROR(fuse_decomposed_hard_activations(m, &decomposed));
  *changed = decomposed;
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
        if (activation_of(g, gs, m.opset(), n, cur, &post)) {
          // Consecutive affine post-ops compose into one: a2 * (a1 * x + b1) + b2.
          if (post.size() >= 2 && post.size() == before + 1 && post[before].kind == "Linear" &&
              post[before - 1].kind == "Linear") {
            Post& p1 = post[before - 1];
            const Post p2 = post[before];
            p1.beta = p2.alpha * p1.beta + p2.beta;
            p1.alpha = p2.alpha * p1.alpha;
            post.pop_back();
          }
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
