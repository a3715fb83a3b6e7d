#include "compiler/remove_nodes.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "compiler/preprocess.h"
#include "frontend/onnx/onnx_tensor.h"
#include "ir/graph_edit.h"
#include "ir/qdq.h"
#include "passes/passes.h"
#include "runtime/graph_executor.h"

namespace kaiwu::compiler {
namespace {

struct ValueType {
  DType dtype = DType::kUndefined;
  bool has_shape = false;
  std::vector<ir::Dim> dims;
};


// dtype and static shape of every node output, from one run of the model on zero inputs (empty when an input has
// a dynamic dim or the run fails: the removal then derives what it can locally).
std::map<std::string, ValueType> run_types(const ir::Model& m) {
  std::map<std::string, ValueType> out;
  NamedTensors feeds;
  bool all_static = true;  // else dynamic dims run as 1 and only the dtypes are kept
  for (const auto& in : m.graph.inputs) {
    if (!in.has_shape || in.dtype == DType::kUndefined) return out;
    Shape s;
    for (const auto& d : in.dims) {
      all_static = all_static && d.is_static();
      s.push_back(d.is_static() ? d.value : 1);
    }
    feeds.emplace_back(in.name, Tensor::zeros(in.dtype, s));
  }
  std::vector<std::string> names;
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs)
      if (!o.empty()) names.push_back(o);
  SessionOptions so;
  so.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> ex;
  std::vector<Tensor> vals;
  if (!runtime::GraphExecutor::create(m, so, &ex).ok() || !ex->run(feeds, names, &vals).ok()) return out;
  for (size_t i = 0; i < names.size() && i < vals.size(); ++i) {
    ValueType t;
    t.dtype = vals[i].dtype();
    t.has_shape = all_static;
    if (all_static)
      for (int64_t d : vals[i].shape()) t.dims.push_back(ir::Dim::fixed(d));
    out[names[i]] = t;
  }
  return out;
}

bool is_const_input(const ir::Graph& g, const ir::Node& n, size_t i) {
  return i >= n.inputs.size() || n.inputs[i].empty() || g.is_initializer(n.inputs[i]);
}

// The qparams of a Quantize/Dequantize node into `r`.
void read_qparams(const ir::Graph& g, const ir::Node& n, RemovedNode* r) {
  if (n.has_input(1) && g.is_initializer(n.inputs[1])) {
    const Tensor& s = g.initializers.at(n.inputs[1]);
    for (int64_t i = 0; i < s.numel(); ++i) r->scale.push_back(static_cast<float>(s.get_f64(i)));
  }
  if (n.has_input(2) && g.is_initializer(n.inputs[2])) {
    const Tensor& z = g.initializers.at(n.inputs[2]);
    for (int64_t i = 0; i < z.numel(); ++i) r->zero_point.push_back(z.get_i64(i));
  } else {
    r->zero_point.assign(std::max<size_t>(1, r->scale.size()), 0);
  }
  r->axis = n.attr_int("axis", 1);
}

// The element type of the Quantize's output / the Dequantize's input (zero point type, uint8 by default).
DType quantized_dtype(const ir::Graph& g, const ir::Node& n) {
  if (n.has_input(2) && g.is_initializer(n.inputs[2])) return g.initializers.at(n.inputs[2]).dtype();
  return DType::kU8;
}

std::string type_text(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kI8: return "int8";
    case DType::kU8: return "uint8";
    case DType::kI16: return "int16";
    case DType::kU16: return "uint16";
    case DType::kI32: return "int32";
    case DType::kI64: return "int64";
    default: return dtype_name(t);
  }
}

// The type of the tensor on the far side of the removed node: the node's output (at an input) or its data input
// (at an output), from `types` when known, else derived from the node.
ValueType far_type(const ir::Graph& g, const ir::Node& n, bool at_input, const ValueType& near,
                   const std::map<std::string, ValueType>& types) {
  const std::string& far = at_input ? n.outputs[0] : n.inputs[0];
  auto it = types.find(far);
  if (it != types.end() && it->second.has_shape) return it->second;
  auto vi = g.value_info.find(far);
  if (vi != g.value_info.end() && vi->second.dtype != DType::kUndefined) {
    ValueType t;
    t.dtype = vi->second.dtype;
    t.has_shape = vi->second.has_shape;
    t.dims = vi->second.dims;
    return t;
  }
  ValueType t = near;
  if (n.op_type == "QuantizeLinear") t.dtype = at_input ? quantized_dtype(g, n) : DType::kF32;
  else if (n.op_type == "DequantizeLinear") t.dtype = at_input ? DType::kF32 : quantized_dtype(g, n);
  else if (n.op_type == "Cast") t.dtype = at_input ? frontend::dtype_from_onnx(static_cast<int32_t>(n.attr_int("to", 1)))
                                                   : DType::kUndefined;
  else if (n.op_type == "Transpose" && t.has_shape) {
    std::vector<int64_t> perm = n.attr_ints("perm");
    if (perm.empty())
      for (size_t i = t.dims.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    if (perm.size() != t.dims.size()) {
      t.has_shape = false;
    } else {
      std::vector<ir::Dim> d(t.dims.size());
      for (size_t i = 0; i < perm.size(); ++i) {
        if (at_input) d[i] = near.dims[perm[i]];
        else d[perm[i]] = near.dims[i];
      }
      t.dims = d;
    }
  } else if (n.op_type == "Reshape") {
    t.has_shape = false;
    t.dims.clear();
  }
  if (it != types.end() && it->second.dtype != DType::kUndefined) t.dtype = it->second.dtype;
  return t;
}

bool removable_at_input(const ir::Graph& g, const ir::Node& n, const std::map<std::string, std::vector<ir::Use>>& uses) {
  if (!g.find_input(n.inputs[0])) return false;
  auto it = uses.find(n.inputs[0]);
  if (it == uses.end() || it->second.size() != 1) return false;  // another node reads the input too
  return !ir::is_graph_output(g, n.outputs[0]);
}

bool removable_at_output(const ir::Graph& g, const ir::Node& n) {
  if (!ir::is_graph_output(g, n.outputs[0])) return false;
  const std::string& x = n.inputs[0];
  return !g.find_input(x) && !g.is_initializer(x) && !ir::is_graph_output(g, x);
}

// Removes node `b` (a removable boundary node); fills `r`.
void remove_one(ir::Model* m, const BoundaryNode& b, std::map<std::string, ValueType>* types, RemovedNode* r) {
  ir::Graph& g = m->graph;
  ir::Node n = g.nodes[b.node];
  r->name = n.name;
  r->op_type = n.op_type;
  r->type = b.type;
  r->at_input = b.at_input;
  r->io = b.io;
  if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") read_qparams(g, n, r);
  if (b.at_input) {
    auto vit = std::find_if(g.inputs.begin(), g.inputs.end(), [&](const ir::ValueInfo& v) { return v.name == b.io; });
    ValueType near{vit->dtype, vit->has_shape, vit->dims};
    ValueType far = far_type(g, n, true, near, *types);
    g.nodes.erase(g.nodes.begin() + static_cast<long>(b.node));
    ir::replace_uses(g, n.outputs[0], b.io);
    vit->dtype = far.dtype;
    vit->has_shape = far.has_shape;
    vit->dims = far.dims;
    g.value_info.erase(n.outputs[0]);
    r->dtype = type_text(far.dtype);
  } else {
    auto vit = std::find_if(g.outputs.begin(), g.outputs.end(), [&](const ir::ValueInfo& v) { return v.name == b.io; });
    ValueType near{vit->dtype, vit->has_shape, vit->dims};
    ValueType far = far_type(g, n, false, near, *types);
    const std::string x = n.inputs[0];
    g.nodes.erase(g.nodes.begin() + static_cast<long>(b.node));
    // The tensor behind the node takes the output's name: its producer writes it, its other readers read it.
    for (auto& node : g.nodes)
      for (auto& o : node.outputs)
        if (o == x) o = b.io;
    ir::replace_uses(g, x, b.io);
    if (types->count(x)) (*types)[b.io] = (*types)[x];
    g.value_info.erase(x);
    vit->dtype = far.dtype;
    vit->has_shape = far.has_shape;
    vit->dims = far.dims;
    r->dtype = type_text(far.dtype);
  }
  ir::remove_dead_nodes(g);
}

// Per-tensor DequantizeLinear producing `v` with constant scale (and zero point): the node, else null.
const ir::Node* dq_per_tensor(const ir::Graph& g, const std::map<std::string, size_t>& prod, const std::string& v) {
  auto it = prod.find(v);
  if (it == prod.end()) return nullptr;
  const ir::Node& d = g.nodes[it->second];
  if (!ir::is_dequantize_linear(d) || !d.has_input(1) || !g.is_initializer(d.inputs[1]) ||
      g.initializers.at(d.inputs[1]).numel() != 1)
    return nullptr;
  if (d.has_input(2) && (!g.is_initializer(d.inputs[2]) || g.initializers.at(d.inputs[2]).numel() != 1)) return nullptr;
  return &d;
}

// A graph output computed by a float Gemm on quantized operands (the usual last layer: DQ(int8 x) x DQ(int8 w)^T +
// DQ(int32 b), b's scale = x scale * w scale) becomes MatMulInteger (+ int32 Add of the bias) and an explicit
// per-channel DequantizeLinear, so that the output Dequantize can be removed and the model return the int32
// accumulators. Exact: the integer sum is what the float Gemm sums up to float rounding. Returns the outputs changed.
int expose_integer_outputs(ir::Model* m, std::vector<std::string>* log) {
  ir::Graph& g = m->graph;
  int changed = 0;
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    ir::Node& gemm = g.nodes[ni];
    if (!gemm.domain.empty() || gemm.op_type != "Gemm" || gemm.outputs.size() != 1 || gemm.inputs.size() < 2 ||
        !ir::is_graph_output(g, gemm.outputs[0]))
      continue;
    if (gemm.attr_float("alpha", 1.f) != 1.f || gemm.attr_float("beta", 1.f) != 1.f || gemm.attr_int("transA", 0) != 0)
      continue;
    const auto prod = g.producers();
    const ir::Node* dx = dq_per_tensor(g, prod, gemm.inputs[0]);
    auto wit = prod.find(gemm.inputs[1]);
    if (!dx || g.is_initializer(dx->inputs[0]) || wit == prod.end()) continue;
    const ir::Node& dw = g.nodes[wit->second];
    if (!ir::is_dequantize_linear(dw) || !g.is_initializer(dw.inputs[0]) || !dw.has_input(1) ||
        !g.is_initializer(dw.inputs[1]))
      continue;
    const Tensor& wq = g.initializers.at(dw.inputs[0]);
    const Tensor& ws = g.initializers.at(dw.inputs[1]);
    const bool trans_b = gemm.attr_int("transB", 0) != 0;
    if (wq.dtype() != DType::kI8 || wq.rank() != 2) continue;
    const int64_t N = trans_b ? wq.dim(0) : wq.dim(1), K = trans_b ? wq.dim(1) : wq.dim(0);
    if (ws.numel() != 1 && (ws.numel() != N || dw.attr_int("axis", 1) != (trans_b ? 0 : 1))) continue;
    std::vector<int8_t> wzp(N, 0);
    if (dw.has_input(2)) {
      if (!g.is_initializer(dw.inputs[2])) continue;
      const Tensor& z = g.initializers.at(dw.inputs[2]);
      for (int64_t c = 0; c < N; ++c) wzp[c] = static_cast<int8_t>(z.get_i64(z.numel() == 1 ? 0 : c));
    }
    const float xs = static_cast<float>(g.initializers.at(dx->inputs[1]).get_f64(0));
    std::vector<float> acc_scale(N);
    for (int64_t c = 0; c < N; ++c) acc_scale[c] = xs * static_cast<float>(ws.get_f64(ws.numel() == 1 ? 0 : c));
    // The bias: DQ(int32 const, zero point 0) with the accumulator's scale.
    const ir::Node* db = nullptr;
    if (gemm.has_input(2)) {
      auto bit = prod.find(gemm.inputs[2]);
      if (bit == prod.end()) continue;
      db = &g.nodes[bit->second];
      if (db->op_type != "DequantizeLinear" || !g.is_initializer(db->inputs[0]) || !db->has_input(1) ||
          !g.is_initializer(db->inputs[1]) || g.initializers.at(db->inputs[0]).dtype() != DType::kI32 ||
          g.initializers.at(db->inputs[0]).numel() != N)
        continue;
      const Tensor& bs = g.initializers.at(db->inputs[1]);
      bool ok = true;
      for (int64_t c = 0; c < N && ok; ++c) {
        const double s = bs.get_f64(bs.numel() == 1 ? 0 : c);
        ok = std::fabs(s - acc_scale[c]) <= 1e-6 * std::fabs(acc_scale[c]);
        if (db->has_input(2) && g.is_initializer(db->inputs[2])) {
          const Tensor& z = g.initializers.at(db->inputs[2]);
          ok = ok && z.get_i64(z.numel() == 1 ? 0 : c) == 0;
        }
      }
      if (!ok) continue;
    }
    // Integer operands: x (with its zero point), w as [K, N] with per-column zero points.
    const std::string base = gemm.name.empty() ? gemm.outputs[0] : gemm.name;
    Tensor wkn = Tensor::empty(DType::kI8, {K, N});
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < N; ++c)
        wkn.data<int8_t>()[k * N + c] = wq.data<int8_t>()[trans_b ? c * K + k : k * N + c];
    const std::string w_name = ir::unique_value_name(g, base + "_weight_kn");
    g.initializers[w_name] = wkn;
    const std::string wz_name = ir::unique_value_name(g, base + "_weight_zero_point");
    g.initializers[wz_name] = Tensor::from_vector<int8_t>(wzp, {N});
    std::string xz_name;
    if (dx->has_input(2)) {
      xz_name = dx->inputs[2];
    } else {
      xz_name = ir::unique_value_name(g, base + "_input_zero_point");
      g.initializers[xz_name] = Tensor::from_vector<uint8_t>({0}, {});
    }
    std::vector<ir::Node> added;
    ir::Node mm;
    mm.name = ir::unique_value_name(g, base + "_integer");
    mm.op_type = "MatMulInteger";
    mm.inputs = {dx->inputs[0], w_name, xz_name, wz_name};
    mm.outputs = {ir::unique_value_name(g, base + "_int32")};
    g.value_info[mm.outputs[0]] = ir::ValueInfo{mm.outputs[0]};
    std::string acc = mm.outputs[0];
    added.push_back(mm);
    if (db) {
      ir::Node add;
      add.name = ir::unique_value_name(g, base + "_bias_add");
      add.op_type = "Add";
      add.inputs = {acc, db->inputs[0]};
      add.outputs = {ir::unique_value_name(g, base + "_int32_biased")};
      g.value_info[add.outputs[0]] = ir::ValueInfo{add.outputs[0]};
      acc = add.outputs[0];
      added.push_back(add);
    }
    ir::Node dq;
    dq.name = ir::unique_value_name(g, base + "_dequantize");
    dq.op_type = "DequantizeLinear";
    const std::string s_name = ir::unique_value_name(g, base + "_output_scale");
    g.initializers[s_name] = Tensor::from_vector<float>(acc_scale, {N});
    const std::string z_name = ir::unique_value_name(g, base + "_output_zero_point");
    g.initializers[z_name] = Tensor::zeros(DType::kI32, {N});
    dq.inputs = {acc, s_name, z_name};
    dq.outputs = gemm.outputs;
    dq.attrs["axis"] = ir::Attribute::make_int(1);
    added.push_back(dq);
    for (const auto& a : added)
      for (const auto& o : a.outputs) g.value_info.erase(o);
    if (log)
      log->push_back("Output " + gemm.outputs[0] + ": the float " + gemm.describe() +
                     " on quantized operands becomes MatMulInteger + DequantizeLinear (int32 accumulators, scale = " +
                     "input scale x weight scale per channel) so that its Dequantize can be removed");
    gemm.op_type.clear();  // deleted by remove_dead_nodes
    gemm.outputs.clear();
    g.nodes.insert(g.nodes.begin() + static_cast<long>(ni) + 1, added.begin(), added.end());
    ir::remove_dead_nodes(g);
    ni = static_cast<size_t>(-1);  // rescan (indices moved)
    ++changed;
  }
  if (changed) (void)g.topo_sort();
  return changed;
}

std::string list_text(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string removable_type_name(const ir::Node& n) {
  if (!n.domain.empty()) return "";
  if (n.op_type == "QuantizeLinear") return "Quantize";
  if (n.op_type == "DequantizeLinear") return "Dequantize";
  if (n.op_type == "Transpose" || n.op_type == "Cast" || n.op_type == "Reshape" || n.op_type == "Softmax")
    return n.op_type;
  return "";
}

std::vector<BoundaryNode> removable_boundary_nodes(const ir::Graph& g) {
  std::vector<BoundaryNode> out;
  auto uses = ir::uses_of(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    const std::string type = removable_type_name(n);
    if (type.empty() || n.outputs.size() != 1 || n.inputs.empty() || n.inputs[0].empty()) continue;
    bool consts = true;
    for (size_t k = 1; k < n.inputs.size(); ++k) consts = consts && is_const_input(g, n, k);
    if (!consts) continue;
    BoundaryNode b{i, n.name, n.op_type, type, false, ""};
    // Quantize only after an input, Dequantize only before an output (the integer boundary of the model).
    if (type != "Dequantize" && removable_at_input(g, n, uses)) {
      b.at_input = true;
      b.io = n.inputs[0];
    } else if (type != "Quantize" && removable_at_output(g, n)) {
      b.io = n.outputs[0];
    } else {
      continue;
    }
    out.push_back(b);
  }
  return out;
}

Status remove_boundary_nodes(const std::vector<std::string>& types, const std::vector<std::string>& names,
                             ir::Model* m, std::vector<RemovedNode>* removed, std::vector<std::string>* log,
                             std::vector<std::string>* warnings) {
  if (types.empty() && names.empty()) return Status::Ok();
  std::map<std::string, ValueType> vtypes = run_types(*m);
  auto note = [&](const RemovedNode& r) {
    if (log)
      log->push_back("Remove node " + r.name + " (" + r.op_type + ") at " + (r.at_input ? "input " : "output ") + r.io +
                     ": it now " + (r.at_input ? "takes " : "returns ") + r.dtype);
    removed->push_back(r);
  };
  static const std::set<std::string> kKnown = {"Quantize", "Dequantize", "Transpose", "Cast", "Reshape", "Softmax"};
  for (const auto& t : types) {
    if (!kKnown.count(t)) {
      if (warnings)
        warnings->push_back("remove_node_type " + t + ": Kaiwu models have no such node; nothing removed (removable: " +
                            "Quantize, Dequantize, Transpose, Cast, Reshape, Softmax)");
      continue;
    }
    int count = 0;
    if (t == "Dequantize") expose_integer_outputs(m, log);
    for (;;) {
      auto nodes = removable_boundary_nodes(m->graph);
      auto it = std::find_if(nodes.begin(), nodes.end(), [&](const BoundaryNode& b) { return b.type == t; });
      if (it == nodes.end()) break;
      RemovedNode r;
      remove_one(m, *it, &vtypes, &r);
      note(r);
      ++count;
    }
    if (count == 0 && warnings) {
      std::string why;
      if (t == "Quantize") {
        for (const auto& n : m->graph.nodes)
          if (n.domain == "kaiwu" && n.op_type == "Preprocess" && n.has_attr("output_dtype"))
            why += (why.empty() ? "" : "; ") + std::string("the input quantization is folded into the preprocessing ") +
                   n.name + " (its input is already the uint8 runtime frame)";
      }
      std::vector<std::string> at;
      for (const auto& b : removable_boundary_nodes(m->graph)) at.push_back(b.name + " (" + b.type + ")");
      warnings->push_back("remove_node_type " + t + ": no " + t + " node at the model's boundary, nothing removed" +
                          (why.empty() ? "" : ": " + why) +
                          (at.empty() ? "" : " (removable now: " + list_text(at) + ")"));
    }
  }
  for (const auto& name : names) {
    bool exists = false;
    for (const auto& n : m->graph.nodes) exists = exists || n.name == name;
    if (!exists) {
      bool was = false;
      for (const auto& r : *removed) was = was || r.name == name;
      if (was) continue;  // already removed by remove_node_type
      return not_found("model_parameters.remove_node_name: no node named '" + name + "' in the quantized model");
    }
    auto nodes = removable_boundary_nodes(m->graph);
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const BoundaryNode& b) { return b.name == name; });
    if (it == nodes.end()) {
      std::vector<std::string> at;
      for (const auto& b : nodes) at.push_back(b.name + " (" + b.type + ")");
      return invalid_argument("model_parameters.remove_node_name: node '" + name +
                              "' cannot be removed: only Quantize, Dequantize, Transpose, Cast, Reshape and Softmax "
                              "nodes that alone read a graph input or produce a graph output can (removable now: " +
                              (at.empty() ? std::string("none") : list_text(at)) + ")");
    }
    RemovedNode r;
    remove_one(m, *it, &vtypes, &r);
    note(r);
  }
  if (!removed->empty()) m->metadata[kDeletedNodesKey] = deleted_nodes_json(*removed);
  return m->graph.verify();
}

Status make_removed_models(const config::ModelParameters& model, const ir::Model& fixed, ir::Model* removed,
                           ir::Model* removed_deployable, bool* any, std::vector<std::string>* log,
                           std::vector<std::string>* warnings) {
  *any = false;
  if (model.remove_node_type.empty() && model.remove_node_name.empty()) return Status::Ok();
  ir::Model r = fixed;
  std::vector<RemovedNode> done;
  KW_RETURN_IF_ERROR(remove_boundary_nodes(model.remove_node_type, model.remove_node_name, &r, &done, log, warnings));
  if (done.empty()) {
    if (warnings) warnings->push_back("remove_node_type / remove_node_name removed nothing: no removed model written");
    return Status::Ok();
  }
  if (log) {  // the table hb_compile prints (spec §3)
    size_t w = 9;
    for (const auto& x : done) w = std::max(w, x.name.size());
    log->push_back("Successfully remove node, the removed node info is:");
    log->push_back("Node Name" + std::string(w - 9, ' ') + " | Type");
    for (const auto& x : done) log->push_back(x.name + std::string(w - x.name.size(), ' ') + " | " + x.op_type);
  }
  ir::Model d = r;
  KW_RETURN_IF_ERROR(passes::optimize_for_cpu(d).with_context("optimizing the removed deployable model"));
  fold_preprocess_layout(&d);
  *removed = std::move(r);
  *removed_deployable = std::move(d);
  *any = true;
  return Status::Ok();
}

std::string deleted_nodes_json(const std::vector<RemovedNode>& removed) {
  auto q = [](const std::string& v) {
    std::string r;
    for (char c : v) {
      if (c == '"' || c == '\\') r += '\\';
      r += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
    return r;
  };
  std::ostringstream o;
  o.precision(9);
  o << "[";
  for (size_t i = 0; i < removed.size(); ++i) {
    const RemovedNode& r = removed[i];
    o << (i ? ", " : "") << "{\"name\": \"" << q(r.name) << "\", \"type\": \"" << r.type << "\", \"op_type\": \""
      << r.op_type << "\", \"" << (r.at_input ? "input" : "output") << "\": \"" << q(r.io) << "\", \"dtype\": \""
      << r.dtype << "\"";
    if (!r.scale.empty()) {
      o << ", \"scale\": [";
      for (size_t k = 0; k < r.scale.size(); ++k) o << (k ? ", " : "") << r.scale[k];
      o << "], \"zero_point\": [";
      for (size_t k = 0; k < r.zero_point.size(); ++k) o << (k ? ", " : "") << r.zero_point[k];
      o << "]";
      if (r.scale.size() > 1) o << ", \"axis\": " << r.axis;
    }
    o << "}";
  }
  o << "]";
  return o.str();
}

}  // namespace kaiwu::compiler
