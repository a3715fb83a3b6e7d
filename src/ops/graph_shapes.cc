#include "ops/graph_shapes.h"

namespace kaiwu::ops {

GraphShapes infer_graph_shapes(const ir::Model& model, const std::map<std::string, Shape>& inputs, int64_t batch_value,
                               int64_t symbol_value) {
  GraphShapes gs;
  const ir::Graph& g = model.graph;
  for (const auto& [name, t] : g.initializers) {
    gs.desc[name] = {t.dtype(), t.shape()};
    gs.constants[name] = t;
  }
  for (const auto& v : g.inputs) {
    auto it = inputs.find(v.name);
    Shape s;
    if (it != inputs.end()) {
      s = it->second;
    } else {
      if (!v.has_shape) return gs;
      for (size_t d = 0; d < v.dims.size(); ++d)
        s.push_back(v.dims[d].is_static() ? v.dims[d].value : (d == 0 ? batch_value : symbol_value));
    }
    gs.desc[v.name] = {v.dtype, s};
  }
  for (const auto& n : g.nodes) {
    const OpDef* def = find_op(n.domain, n.op_type);
    if (!def) return gs;
    std::vector<TensorDesc> in;
    std::vector<const Tensor*> vals;
    bool all_const = true;
    for (const auto& i : n.inputs) {
      if (i.empty()) {
        in.emplace_back();
        vals.push_back(nullptr);
        continue;
      }
      auto it = gs.desc.find(i);
      if (it == gs.desc.end()) return gs;
      in.push_back(it->second);
      auto c = gs.constants.find(i);
      vals.push_back(c == gs.constants.end() ? nullptr : &c->second);
      if (c == gs.constants.end()) all_const = false;
    }
    // Shape-only ops (Shape) fold as soon as their input's shape is known.
    std::vector<Tensor> stubs;
    if (def->shape_only && !all_const) {
      stand_in_shape_values(in, &stubs, &vals);
      all_const = true;
    }
    InferContext ctx(n, model.opset(), in, vals);
    if (!def->infer(ctx).ok()) return gs;
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (!n.outputs[o].empty()) gs.desc[n.outputs[o]] = ctx.outputs[o];
    // Fold small constant subgraphs (shape arithmetic) so that later shapes can be inferred.
    int64_t out_elems = 0;
    for (const auto& d : ctx.outputs) out_elems += shape_numel(d.shape);
    if (all_const && out_elems <= (1 << 20)) {
      KernelInit init{n, model.opset(), in, ctx.outputs, vals, 1, true};
      std::unique_ptr<Kernel> k;
      if (!def->create(init, &k).ok()) continue;
      std::vector<Tensor> outs;
      std::vector<Tensor*> out_ptrs;
      for (const auto& d : ctx.outputs) outs.push_back(Tensor::zeros(d.dtype == DType::kUndefined ? DType::kU8 : d.dtype, d.shape));
      for (auto& t : outs) out_ptrs.push_back(&t);
      if (!k->run(vals, out_ptrs).ok()) continue;
      for (size_t o = 0; o < n.outputs.size(); ++o)
        if (!n.outputs[o].empty()) gs.constants[n.outputs[o]] = outs[o];
    }
  }
  gs.complete = true;
  return gs;
}

}  // namespace kaiwu::ops
