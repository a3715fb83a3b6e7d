// Transpose optimization (see passes.h). A Transpose with perm p computes out[i] = in[p[i]] (dims).
// Pushing T_p below an elementwise node c: c(T_p(a), b) == T_p(c(a, T_inv(b))), valid with broadcasting when every
// tensor operand has the full rank (constants are unsqueezed and permuted at compile time).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "ir/graph_edit.h"
#include "ir/qdq.h"
#include "ops/graph_shapes.h"
#include "passes/passes.h"

namespace kaiwu::passes {
namespace {

using Perm = std::vector<int64_t>;

bool is_identity(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}
Perm inverse(const Perm& p) {
  Perm q(p.size());
  for (size_t i = 0; i < p.size(); ++i) q[p[i]] = static_cast<int64_t>(i);
  return q;
}
// T_second(T_first(x)) == T_r(x) with r[i] = first[second[i]].
Perm compose(const Perm& first, const Perm& second) {
  Perm r(second.size());
  for (size_t i = 0; i < second.size(); ++i) r[i] = first[second[i]];
  return r;
}

const std::set<std::string>& unary_ops() {
  static const std::set<std::string> s = {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf",
                                          "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Clip", "Cast", "Identity"};
  return s;
}
const std::set<std::string>& broadcast_ops() {
  static const std::set<std::string> s = {"Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Greater", "Less",
                                          "Where", "PRelu"};
  return s;
}

// Elementwise integer ops of the fixed-point model (kaiwu domain) and their tensor operands; the other inputs are
// scalar scales and zero points.
const std::map<std::string, std::vector<size_t>>& kaiwu_elementwise() {
  static const std::map<std::string, std::vector<size_t>> s = {
      {"QAdd", {0, 3}}, {"QMul", {0, 3}}, {"QLut", {0}}, {"Requantize", {0}}};
  return s;
}

bool is_quant_op(const ir::Node& n) {
  return ir::is_qdq_node(n);
}

// Tensor operands of `n` that follow the layout (the others are scalars such as Clip's min/max).
std::vector<size_t> layout_operands(const ir::Node& n) {
  std::vector<size_t> v;
  if (n.domain == "kaiwu") return kaiwu_elementwise().at(n.op_type);
  if (is_quant_op(n)) return {0};
  if (unary_ops().count(n.op_type)) v.push_back(0);
  else
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (!n.inputs[i].empty()) v.push_back(i);
  return v;
}

bool pushable(const ir::Node& n) {
  if (n.outputs.size() != 1) return false;
  if (n.domain == "kaiwu") return kaiwu_elementwise().count(n.op_type) != 0;
  if (!n.domain.empty()) return false;
  if (is_quant_op(n)) return !n.has_attr("block_size");  // per-tensor checked in accepts()
  return unary_ops().count(n.op_type) || broadcast_ops().count(n.op_type) || n.op_type == "Concat" ||
         n.op_type == "Transpose";
}

// Permutes a constant for use under T_inv: unsqueeze to `rank`, then transpose by `q`.
Tensor permute_constant(const Tensor& c, size_t rank, const Perm& q) {
  Shape s(rank - c.rank(), 1);
  s.insert(s.end(), c.shape().begin(), c.shape().end());
  Shape os(rank);
  for (size_t i = 0; i < rank; ++i) os[i] = s[q[i]];
  Tensor out = Tensor::empty(c.dtype(), os);
  std::vector<int64_t> in_strides(rank, 1), idx(rank, 0);
  for (int i = static_cast<int>(rank) - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * s[i + 1];
  const size_t es = dtype_size(c.dtype());
  for (int64_t o = 0; o < out.numel(); ++o) {
    int64_t src = 0;
    for (size_t i = 0; i < rank; ++i) src += idx[i] * in_strides[q[i]];
    std::memcpy(static_cast<uint8_t*>(out.raw()) + o * es, static_cast<const uint8_t*>(c.raw()) + src * es, es);
    for (int i = static_cast<int>(rank) - 1; i >= 0; --i) {
      if (++idx[i] < os[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

struct Rewriter {
  ir::Model& m;
  ir::Graph& g;
  ops::GraphShapes gs;
  ops::GraphShapes gs_alt;  // shapes with other sizes for symbolic dims (see to_reshape)

  std::string fresh(const std::string& base) { return ir::unique_value_name(g, base); }
  int64_t rank_of(const std::string& v) {
    auto it = gs.desc.find(v);
    return it == gs.desc.end() ? -1 : static_cast<int64_t>(it->second.shape.size());
  }

  // Merges Transpose(Transpose(x)) pairs; identity transposes are bypassed.
  bool merge_pairs() {
    bool changed = false;
    auto prod = g.producers();
    for (auto& n : g.nodes) {
      if (n.op_type != "Transpose" || !n.domain.empty()) continue;
      auto it = prod.find(n.inputs[0]);
      if (it == prod.end()) continue;
      const ir::Node& first = g.nodes[it->second];
      if (first.op_type != "Transpose" || !first.domain.empty() || &first == &n) continue;
      Perm r = compose(first.attr_ints("perm"), n.attr_ints("perm"));
      n.inputs[0] = first.inputs[0];
      n.attrs["perm"] = ir::Attribute::make_ints(r);
      changed = true;
    }
    for (auto& n : g.nodes) {
      if (n.op_type != "Transpose" || !n.domain.empty() || !is_identity(n.attr_ints("perm"))) continue;
      if (ir::is_graph_output(g, n.outputs[0])) {
        n.op_type = "Identity";
        n.attrs.clear();
      } else {
        ir::replace_uses(g, n.outputs[0], n.inputs[0]);
        n.op_type.clear();
      }
      changed = true;
    }
    if (changed) ir::remove_dead_nodes(g);
    return changed;
  }

  // Tries to push Transpose node `ti` below all its readers. Returns true if it did.
  bool push(size_t ti) {
    const ir::Node t = g.nodes[ti];
    const Perm p = t.attr_ints("perm");
    const int64_t rank = static_cast<int64_t>(p.size());
    if (rank == 0 || ir::is_graph_output(g, t.outputs[0])) return false;
    auto uses = ir::uses_of(g);
    const auto& us = uses[t.outputs[0]];
    if (us.empty()) return false;
    std::set<size_t> readers;
    for (const auto& u : us) readers.insert(u.node);
    auto prod = g.producers();
    // Readers that can take it without new non-constant transposes; the Transpose stays for the others.
    auto accepts = [&](const ir::Node& c) {
      if (!pushable(c)) return false;
      if (is_quant_op(c)) {  // per-tensor only: scale and zero point are scalars
        for (size_t k = 1; k < c.inputs.size(); ++k) {
          if (c.inputs[k].empty()) continue;
          auto ci = gs.constants.find(c.inputs[k]);
          if (ci == gs.constants.end() || ci->second.numel() != 1) return false;
        }
      }
      if (c.op_type == "Transpose") return true;
      if (c.op_type == "Concat") {
        for (const auto& in : c.inputs) {
          auto it = prod.find(in);
          if (in != t.outputs[0] && (it == prod.end() || g.nodes[it->second].op_type != "Transpose" ||
                                     g.nodes[it->second].attr_ints("perm") != p))
            return false;
        }
        return true;
      }
      for (size_t k : layout_operands(c)) {
        const std::string& in = c.inputs[k];
        if (in == t.outputs[0]) continue;
        auto it = prod.find(in);
        if (it != prod.end() && g.nodes[it->second].op_type == "Transpose" && g.nodes[it->second].domain.empty() &&
            g.nodes[it->second].attr_ints("perm") == p)
          continue;
        auto ci = gs.constants.find(in);
        if (ci != gs.constants.end() && ci->second.rank() <= rank) continue;
        return false;
      }
      return rank_of(c.outputs[0]) == rank;  // no broadcast to a higher rank
    };
    std::set<size_t> taking;
    for (size_t r : readers)
      if (accepts(g.nodes[r])) taking.insert(r);
    if (taking.empty()) return false;
    readers = taking;
    const Perm q = inverse(p);
    for (size_t r : readers) {
      ir::Node& c = g.nodes[r];
      if (c.op_type == "Transpose") {
        for (auto& in : c.inputs)
          if (in == t.outputs[0]) in = t.inputs[0];
        c.attrs["perm"] = ir::Attribute::make_ints(compose(p, c.attr_ints("perm")));
        continue;
      }
      if (c.op_type == "Concat") {
        for (auto& in : c.inputs) {
          if (in == t.outputs[0]) { in = t.inputs[0]; continue; }
          in = g.nodes[prod.at(in)].inputs[0];
        }
        int64_t axis = c.attr_int("axis", 0);
        if (axis < 0) axis += rank;
        c.attrs["axis"] = ir::Attribute::make_int(p[axis]);
      } else {
        for (size_t k : layout_operands(c)) {
          std::string& in = c.inputs[k];
          if (in == t.outputs[0]) { in = t.inputs[0]; continue; }
          auto it = prod.find(in);
          if (it != prod.end() && g.nodes[it->second].op_type == "Transpose" && g.nodes[it->second].domain.empty() &&
              g.nodes[it->second].attr_ints("perm") == p) {
            in = g.nodes[it->second].inputs[0];
            continue;
          }
          const Tensor& cst = gs.constants.at(in);
          if (cst.numel() == 1 && cst.rank() <= 1) continue;  // scalars broadcast in any layout
          std::string name = fresh(in + "_perm");
          g.initializers[name] = permute_constant(cst, rank, q);
          gs.constants[name] = g.initializers[name];
          in = name;
        }
      }
      // Output: c now produces the un-permuted value; a new Transpose restores the old name.
      std::string old_out = c.outputs[0];
      std::string inner = fresh(old_out + "_t");
      c.outputs[0] = inner;
      ir::Node nt;
      nt.name = fresh(c.name + "_tp");
      nt.op_type = "Transpose";
      nt.inputs = {inner};
      nt.outputs = {old_out};
      nt.attrs["perm"] = ir::Attribute::make_ints(p);
      // Shapes for later decisions.
      auto od = gs.desc.find(old_out);
      if (od != gs.desc.end()) {
        Shape s(rank);
        for (int64_t i = 0; i < rank; ++i) s[p[i]] = od->second.shape[i];
        gs.desc[inner] = {od->second.dtype, s};
      }
      g.nodes.push_back(nt);
    }
    ir::remove_dead_nodes(g);
    (void)g.topo_sort();
    return true;
  }

  // Transposes that move only size-1 dims are Reshapes (a copy-free view once aliasing exists).
  bool to_reshape() {
    bool changed = false;
    for (auto& n : g.nodes) {
      if (n.op_type != "Transpose" || !n.domain.empty()) continue;
      auto it = gs.desc.find(n.inputs[0]);
      if (it == gs.desc.end()) continue;
      const Shape& s = it->second.shape;
      Perm p = n.attr_ints("perm");
      if (p.size() != s.size()) continue;
      auto alt = gs_alt.desc.find(n.inputs[0]);
      if (alt == gs_alt.desc.end() || alt->second.shape.size() != s.size()) continue;
      bool static_dims = true;
      for (size_t d = 1; d < s.size(); ++d)
        if (alt->second.shape[d] != s[d]) static_dims = false;
      if (!static_dims) continue;
      std::vector<int64_t> order;
      for (int64_t d : p)
        if (s[d] != 1) order.push_back(d);
      if (!std::is_sorted(order.begin(), order.end())) continue;
      // Output dims: dim 0 stays whatever it is at run time (0 = copy), the others are static.
      std::vector<int64_t> shape(p.size());
      for (size_t i = 0; i < p.size(); ++i) shape[i] = s[p[i]];
      if (p[0] == 0) shape[0] = 0;  // batch stays whatever it is at run time
      else continue;
      std::string sn = fresh(n.name + "_shape");
      g.initializers[sn] = Tensor::from_vector<int64_t>(shape, {static_cast<int64_t>(shape.size())});
      n.op_type = "Reshape";
      n.attrs.clear();
      n.inputs = {n.inputs[0], sn};
      changed = true;
    }
    return changed;
  }
};

}  // namespace

Status optimize_transposes(ir::Model& m, bool* changed) {
  *changed = false;
  Rewriter rw{m, m.graph, ops::infer_graph_shapes(m)};
  for (int iter = 0; iter < 10000; ++iter) {
    bool any = rw.merge_pairs();
    for (size_t i = 0; i < m.graph.nodes.size(); ++i) {
      const ir::Node& n = m.graph.nodes[i];
      if (n.op_type == "Transpose" && n.domain.empty() && rw.push(i)) {
        any = true;
        break;
      }
    }
    if (!any) break;
    *changed = true;
  }
  // Two probes with different sizes for symbolic dims: only dims equal in both are static.
  rw.gs = ops::infer_graph_shapes(m);
  rw.gs_alt = ops::infer_graph_shapes(m, {}, 2, 352);
  if (rw.to_reshape()) *changed = true;
  return m.graph.topo_sort();
}

}  // namespace kaiwu::passes
