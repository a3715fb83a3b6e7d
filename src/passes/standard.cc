// Standard ONNX-preserving passes: constant lifting, BatchNormalization folding, identity removal.
#include <cmath>

#include "ir/graph_edit.h"
#include "passes/passes.h"

namespace kaiwu::passes {

Status lift_constants(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  for (auto& n : g.nodes) {
    if (n.op_type != "Constant" || !n.domain.empty() || n.outputs.size() != 1) continue;
    if (ir::is_graph_output(g, n.outputs[0])) continue;
    Tensor t;
    if (const ir::Attribute* a = n.attr("value"); a && a->kind == ir::Attribute::Kind::kTensor) t = a->t;
    else if ((a = n.attr("value_float"))) t = Tensor::from_vector<float>({a->f}, {});
    else if ((a = n.attr("value_floats"))) t = Tensor::from_vector<float>(a->floats, {(int64_t)a->floats.size()});
    else if ((a = n.attr("value_int"))) t = Tensor::from_vector<int64_t>({a->i}, {});
    else if ((a = n.attr("value_ints"))) t = Tensor::from_vector<int64_t>(a->ints, {(int64_t)a->ints.size()});
    else continue;
    g.initializers[n.outputs[0]] = t;
    n.op_type.clear();
    *changed = true;
  }
  if (*changed) ir::remove_dead_nodes(g);
  return Status::Ok();
}

Status fold_batchnorm_into_conv(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  auto uses = ir::uses_of(g);
  auto prod = g.producers();
  auto cst = [&](const std::string& v) -> const Tensor* {
    auto it = g.initializers.find(v);
    return it != g.initializers.end() && it->second.dtype() == DType::kF32 ? &it->second : nullptr;
  };
  for (auto& bn : g.nodes) {
    if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.size() != 5) continue;
    bool extra_outputs = false;
    for (size_t o = 1; o < bn.outputs.size(); ++o)
      if (!bn.outputs[o].empty()) extra_outputs = true;
    if (extra_outputs || bn.attr_int("training_mode", 0)) continue;
    auto pit = prod.find(bn.inputs[0]);
    if (pit == prod.end()) continue;
    ir::Node& conv = g.nodes[pit->second];
    const bool transposed = conv.op_type == "ConvTranspose";
    if ((conv.op_type != "Conv" && !transposed) || !conv.domain.empty() || uses[conv.outputs[0]].size() != 1) continue;
    if (transposed && conv.attr_int("group", 1) != 1) continue;
    if (ir::is_graph_output(g, conv.outputs[0])) continue;
    const Tensor* w = cst(conv.inputs.size() > 1 ? conv.inputs[1] : "");
    const Tensor* b = conv.has_input(2) ? cst(conv.inputs[2]) : nullptr;
    if (!w || (conv.has_input(2) && !b)) continue;
    const Tensor *gamma = cst(bn.inputs[1]), *beta = cst(bn.inputs[2]), *mean = cst(bn.inputs[3]), *var = cst(bn.inputs[4]);
    if (!gamma || !beta || !mean || !var) continue;
    // Output channels: Conv W [M, C/g, k...] axis 0; ConvTranspose W [C, M, k...] axis 1 (group 1).
    if (w->rank() < 3) continue;
    const int64_t k = transposed ? w->dim(1) : w->dim(0);
    const int64_t outer = transposed ? w->dim(0) : 1;
    if (gamma->numel() != k || beta->numel() != k || mean->numel() != k || var->numel() != k) continue;
    const double eps = bn.attr_float("epsilon", 1e-5f);
    Tensor nw = w->clone(), nb = Tensor::empty(DType::kF32, {k});
    const int64_t per = w->numel() / k / outer;
    for (int64_t c = 0; c < k; ++c) {
      double s = gamma->data<float>()[c] / std::sqrt(static_cast<double>(var->data<float>()[c]) + eps);
      for (int64_t o = 0; o < outer; ++o) {
        const int64_t base = (o * k + c) * per;
        for (int64_t i = 0; i < per; ++i) nw.data<float>()[base + i] = static_cast<float>(w->data<float>()[base + i] * s);
      }
      double bias = b ? b->data<float>()[c] : 0.0;
      nb.data<float>()[c] = static_cast<float>((bias - mean->data<float>()[c]) * s + beta->data<float>()[c]);
    }
    std::string wn = ir::unique_value_name(g, conv.inputs[1] + "_bnfolded");
    g.initializers[wn] = nw;
    std::string bnm = ir::unique_value_name(g, conv.name + "_bias_bnfolded");
    g.initializers[bnm] = nb;
    conv.inputs.resize(3);
    conv.inputs[1] = wn;
    conv.inputs[2] = bnm;
    conv.outputs[0] = bn.outputs[0];
    bn.op_type.clear();
    *changed = true;
  }
  if (*changed) ir::remove_dead_nodes(g);
  return Status::Ok();
}

Status fold_affine_into_conv(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  for (bool again = true; again;) {
    again = false;
    auto uses = ir::uses_of(g);
    auto prod = g.producers();
    for (auto& op : g.nodes) {
      if (!op.domain.empty() || (op.op_type != "Mul" && op.op_type != "Add") || op.inputs.size() != 2) continue;
      // One operand is the conv output, the other a float constant per output channel or scalar.
      for (int side = 0; side < 2; ++side) {
        auto pit = prod.find(op.inputs[side]);
        auto cit = g.initializers.find(op.inputs[1 - side]);
        if (pit == prod.end() || cit == g.initializers.end() || cit->second.dtype() != DType::kF32) continue;
        ir::Node& conv = g.nodes[pit->second];
        const bool transposed = conv.op_type == "ConvTranspose";
        if ((conv.op_type != "Conv" && !transposed) || !conv.domain.empty() || uses[conv.outputs[0]].size() != 1) continue;
        if (transposed && conv.attr_int("group", 1) != 1) continue;
        if (ir::is_graph_output(g, conv.outputs[0])) continue;
        auto wit = g.initializers.find(conv.inputs.size() > 1 ? conv.inputs[1] : "");
        if (wit == g.initializers.end() || wit->second.dtype() != DType::kF32 || wit->second.rank() < 3) continue;
        const Tensor& w = wit->second;
        const Tensor& c = cit->second;
        // Output channels: Conv W [M, C/g, k...] axis 0; ConvTranspose W [C, M, k...] axis 1.
        const int64_t k = transposed ? w.dim(1) : w.dim(0);
        const int64_t outer = transposed ? w.dim(0) : 1;
        // c must broadcast as [k, 1, ...] against [N, k, spatial...]: scalar, or k values on the channel axis.
        bool per_channel = c.numel() == k && k > 1;
        if (c.numel() != 1 && !per_channel) continue;
        if (per_channel) {
          const int64_t r = c.rank(), out_rank = w.rank();
          if (r > out_rank || r < out_rank - 1) continue;  // must reach the channel axis
          if (c.dim(r - (out_rank - 1)) != k) continue;
        } else if (c.rank() > w.rank()) {
          continue;
        }
        const Tensor* b = conv.has_input(2) ? &g.initializers[conv.inputs[2]] : nullptr;
        if (conv.has_input(2) && (!g.initializers.count(conv.inputs[2]) || b->dtype() != DType::kF32)) continue;
        Tensor nb = Tensor::empty(DType::kF32, {k});
        Tensor nw = op.op_type == "Mul" ? w.clone() : w;
        const int64_t per = w.numel() / k / outer;
        for (int64_t o = 0; o < k; ++o) {
          const float cv = c.data<float>()[per_channel ? o : 0];
          const float bv = b ? b->data<float>()[o] : 0.f;
          if (op.op_type == "Mul") {
            for (int64_t u = 0; u < outer; ++u)
              for (int64_t i = 0; i < per; ++i) nw.data<float>()[(u * k + o) * per + i] *= cv;
            nb.data<float>()[o] = bv * cv;
          } else {
            nb.data<float>()[o] = bv + cv;
          }
        }
        if (op.op_type == "Mul") {
          std::string wn = ir::unique_value_name(g, conv.inputs[1] + "_scaled");
          g.initializers[wn] = std::move(nw);
          conv.inputs[1] = wn;
        }
        std::string bn = ir::unique_value_name(g, conv.name + "_bias_affine");
        g.initializers[bn] = std::move(nb);
        conv.inputs.resize(3);
        conv.inputs[2] = bn;
        conv.outputs[0] = op.outputs[0];
        op.op_type.clear();
        op.inputs.clear();
        *changed = again = true;
        break;
      }
      if (again) break;
    }
    if (again) ir::remove_dead_nodes(g);
  }
  return Status::Ok();
}

Status remove_identities(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  for (auto& n : g.nodes) {
    bool ident = n.domain.empty() && (n.op_type == "Identity" || (n.op_type == "Dropout" && (n.outputs.size() < 2 || n.outputs[1].empty())));
    if (!ident || n.inputs.empty() || n.inputs[0].empty()) continue;
    if (ir::is_graph_output(g, n.outputs[0])) continue;
    if (n.op_type == "Dropout" && n.inputs.size() > 2 && !n.inputs[2].empty()) continue;  // training_mode input
    ir::replace_uses(g, n.outputs[0], n.inputs[0]);
    n.op_type.clear();
    *changed = true;
  }
  if (*changed) ir::remove_dead_nodes(g);
  return Status::Ok();
}

}  // namespace kaiwu::passes

namespace kaiwu::passes {

Status deconv_to_conv_depth_to_space(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  std::vector<ir::Node> extra;
  for (auto& n : g.nodes) {
    if (!n.domain.empty() || n.op_type != "ConvTranspose" || n.outputs.size() != 1) continue;
    auto wit = g.initializers.find(n.inputs.size() > 1 ? n.inputs[1] : "");
    if (wit == g.initializers.end() || wit->second.dtype() != DType::kF32 || wit->second.rank() != 4) continue;
    const Tensor& w = wit->second;  // [C, O, k, k]
    const int64_t c_in = w.dim(0), o = w.dim(1), k = w.dim(2);
    const std::vector<int64_t> ks = n.attr_ints("kernel_shape", {w.dim(2), w.dim(3)});
    bool ok = w.dim(3) == k && n.attr_int("group", 1) == 1 && ks == std::vector<int64_t>{k, k} &&
              n.attr_ints("strides", {1, 1}) == ks && n.attr_ints("dilations", {1, 1}) == std::vector<int64_t>{1, 1} &&
              !n.has_attr("output_shape") && n.attr_string("auto_pad", "NOTSET") == "NOTSET" && k > 1;
    for (int64_t v : n.attr_ints("pads", {0, 0, 0, 0})) ok = ok && v == 0;
    for (int64_t v : n.attr_ints("output_padding", {0, 0})) ok = ok && v == 0;
    const Tensor* b = nullptr;
    if (n.has_input(2)) {
      auto bit = g.initializers.find(n.inputs[2]);
      if (bit == g.initializers.end() || bit->second.dtype() != DType::kF32 || bit->second.numel() != o) ok = false;
      else b = &bit->second;
    }
    if (!ok) continue;
    const int64_t kk = k * k, mo = o * kk;
    Tensor w2 = Tensor::empty(DType::kF32, {mo, c_in, 1, 1});
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t t = 0; t < kk; ++t) w2.data<float>()[(oc * kk + t) * c_in + c] = w.data<float>()[(c * o + oc) * kk + t];
    const std::string wn = ir::unique_value_name(g, n.name + "_w1x1");
    g.initializers[wn] = std::move(w2);
    std::vector<std::string> inputs = {n.inputs[0], wn};
    if (b) {
      Tensor b2 = Tensor::empty(DType::kF32, {mo});
      for (int64_t i = 0; i < mo; ++i) b2.data<float>()[i] = b->data<float>()[i / kk];
      const std::string bn = ir::unique_value_name(g, n.name + "_b1x1");
      g.initializers[bn] = std::move(b2);
      inputs.push_back(bn);
    }
    const std::string mid = ir::unique_value_name(g, n.outputs[0] + "_conv1x1");
    ir::Node d2s;
    d2s.name = ir::unique_value_name(g, n.name + "_depth_to_space");
    d2s.op_type = "DepthToSpace";
    d2s.inputs = {mid};
    d2s.outputs = {n.outputs[0]};
    d2s.attrs["blocksize"] = ir::Attribute::make_int(k);
    d2s.attrs["mode"] = ir::Attribute::make_string("CRD");
    n.op_type = "Conv";
    n.inputs = inputs;
    n.outputs = {mid};
    n.attrs.clear();
    n.attrs["kernel_shape"] = ir::Attribute::make_ints({1, 1});
    extra.push_back(std::move(d2s));
    *changed = true;
  }
  for (auto& e : extra) g.nodes.push_back(std::move(e));
  if (*changed) KW_RETURN_IF_ERROR(g.topo_sort());
  return Status::Ok();
}

}  // namespace kaiwu::passes
