// The QDQ insertion pass: plans every node with its family rule, gives every quantized tensor its qparams
// (own range or shared with the input), then rewrites the graph with QuantizeLinear / DequantizeLinear pairs,
// quantized weights (per-channel int8) and biases (int32).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "core/qmath.h"
#include "quant/rules.h"

namespace kaiwu::quant {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kInt8: return "int8";
    case Precision::kInt16: return "int16";
    default: return "float";
  }
}

int QuantReport::count(Precision p) const {
  int c = 0;
  for (const auto& n : nodes) c += n.where == p;
  return c;
}

const NodeReport* QuantReport::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

std::string QuantReport::to_string() const {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof(line), "%-32s %-18s %-6s %-12s %s\n", "Node", "Op", "Runs", "Out scale", "Why");
  os << line;
  for (const auto& n : nodes) {
    char sc[32] = "-";
    if (n.output_scale > 0.f) std::snprintf(sc, sizeof(sc), "%.6g", n.output_scale);
    std::snprintf(line, sizeof(line), "%-32s %-18s %-6s %-12s %s\n", n.name.c_str(), n.op_type.c_str(),
                  precision_name(n.where), sc, n.why.c_str());
    os << line;
  }
  for (const auto& s : notes) os << "note: " << s << "\n";
  return os.str();
}

namespace detail {

Precision RuleContext::precision() const {
  return opt.all_int16 || opt.int16_nodes.count(node.name) ? Precision::kInt16 : Precision::kInt8;
}

bool RuleContext::is_float(const std::string& v) const {
  if (const Tensor* t = constant(v)) return t->dtype() == DType::kF32;
  auto it = shapes.desc.find(v);
  return it == shapes.desc.end() || it->second.dtype == DType::kF32;
}

const Tensor* RuleContext::constant(const std::string& v) const {
  auto it = g.initializers.find(v);
  if (it != g.initializers.end()) return &it->second;
  auto jt = shapes.constants.find(v);
  return jt != shapes.constants.end() ? &jt->second : nullptr;
}

bool RuleContext::kept_float(size_t i) const { return opt.float_nodes.count(g.nodes[i].name) != 0; }

long RuleContext::producer_of(const std::string& v) const {
  auto it = producers.find(v);
  return it == producers.end() ? -1 : static_cast<long>(it->second);
}

bool RuleContext::is_quantized_tensor(const std::string& v) const {
  const long p = producer_of(v);
  if (p < 0 || static_cast<size_t>(p) >= index) return false;
  const NodePlan& pp = plans[p];
  return pp.quantized && (pp.quantize_outputs || pp.outputs_share_input);
}

void set_quantized(const RuleContext& ctx, NodePlan* plan, const std::string& why) {
  plan->quantized = true;
  plan->precision = ctx.precision();
  plan->why = why;
}

bool keep_float(NodePlan* plan, const std::string& why) {
  *plan = NodePlan();
  plan->why = why;
  return true;
}

RuleFn find_rule(const std::string& op_type) {
  static const std::map<std::string, RuleFn> kByOp = [] {
    std::map<std::string, RuleFn> m;
    for (const char* op : {"Conv", "ConvTranspose"}) m[op] = conv_rule;
    for (const char* op : {"Gemm", "MatMul"}) m[op] = matmul_rule;
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Concat"}) m[op] = elementwise_rule;
    for (const char* op : {"MaxPool", "GlobalMaxPool", "AveragePool", "GlobalAveragePool"}) m[op] = pooling_rule;
    for (const char* op : {"Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "PRelu",
                           "Softmax", "Elu", "Selu", "Softplus", "Gelu", "Erf", "Exp", "Neg", "Abs"})
      m[op] = activation_rule;
    for (const char* op : {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Split",
                           "DepthToSpace", "SpaceToDepth", "Expand", "Tile", "Gather", "Resize"})
      m[op] = passthrough_rule;
    return m;
  }();
  auto it = kByOp.find(op_type);
  return it == kByOp.end() ? nullptr : it->second;
}

}  // namespace detail

namespace {

using detail::NodePlan;
using qmath::QParams;
using qmath::QType;

QType qtype_of(Precision p) { return p == Precision::kInt16 ? QType::kInt16 : QType::kInt8; }
DType dtype_of(QType t) { return t == QType::kInt16 ? DType::kI16 : DType::kI8; }

// Quantization state of one activation tensor.
struct TensorQ {
  std::string name;
  Precision precision = Precision::kInt8;
  std::string share_from;      // non-empty: reuse this tensor's qparams
  bool all_consumers = false;  // the producer is quantized: every consumer reads the dequantized value
  std::string needed_by;       // node description for messages
  QParams qp;
};

// Fresh value/node names (unique in the graph and among the names handed out so far) and new initializers.
class QdqWriter {
 public:
  explicit QdqWriter(ir::Graph& g) : g_(g) {}

  std::string fresh(const std::string& base) {
    std::string n = ir::unique_value_name(g_, base);
    while (reserved_.count(n)) n = ir::unique_value_name(g_, base + "_" + std::to_string(counter_++));
    reserved_.insert(n);
    return n;
  }
  std::string add_init(const std::string& base, Tensor t) {
    std::string n = fresh(base);
    g_.initializers[n] = std::move(t);
    return n;
  }
  ir::Node make(const std::string& op, std::vector<std::string> in, const std::string& out) {
    ir::Node n;
    n.name = fresh(out + "_node");
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {out};
    return n;
  }

  ir::Graph& g_;
  std::set<std::string> reserved_;
  int counter_ = 0;
};

Tensor scalar_zp(QType t, int32_t zp) {
  if (t == QType::kInt16) return Tensor::from_vector<int16_t>({static_cast<int16_t>(zp)});
  return Tensor::from_vector<int8_t>({static_cast<int8_t>(zp)});
}

}  // namespace

Status insert_qdq(ir::Model& m, const std::map<std::string, TensorRange>& ranges, const QuantOptions& opt,
                  QuantReport* report) {
  ir::Graph& g = m.graph;
  const int64_t opset = m.opset();
  if (opset < 10)
    return invalid_argument("quantization needs ai.onnx opset >= 10 (QuantizeLinear), the model has opset " +
                            std::to_string(opset));
  KW_RETURN_IF_ERROR(g.topo_sort());
  const ops::GraphShapes shapes = ops::infer_graph_shapes(m);
  const auto uses = ir::uses_of(g);
  const auto producers = g.producers();

  // 1. Plan every node.
  std::vector<NodePlan> plans(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    NodePlan& plan = plans[i];
    detail::RuleContext ctx{g, n, i, opset, uses, producers, plans, opt, shapes};
    if (opt.float_nodes.count(n.name)) {
      plan.why = "kept float by configuration (run_on_cpu / node_info ON: CPU)";
      continue;
    }
    if (!n.domain.empty() && n.domain != "ai.onnx") {
      plan.why = "no int8 rule for op " + n.domain + "." + n.op_type;
      continue;
    }
    detail::RuleFn rule = detail::find_rule(n.op_type);
    if (!rule || !rule(ctx, &plan)) {
      plan = NodePlan();
      plan.why = "no int8 rule for op " + n.op_type;
    }
  }

  // 2. Which activation tensors get a Q/DQ pair, with which precision.
  std::vector<TensorQ> tensors;
  std::map<std::string, size_t> tindex;
  auto is_const = [&](const std::string& v) {
    return g.is_initializer(v) || shapes.constants.count(v) != 0;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    const NodePlan& p = plans[i];
    if (!p.quantized) continue;
    for (int s : p.act_inputs) {
      const std::string& v = n.inputs[s];
      if (is_const(v)) continue;
      auto it = tindex.find(v);
      if (it != tindex.end()) {
        if (p.precision == Precision::kInt16) tensors[it->second].precision = Precision::kInt16;
        continue;
      }
      TensorQ t;
      t.name = v;
      t.precision = p.precision;
      t.needed_by = n.describe();
      tindex[v] = tensors.size();
      tensors.push_back(t);
    }
    if (!p.quantize_outputs && !p.outputs_share_input) continue;
    for (const std::string& o : n.outputs) {
      // A value only read as a graph output keeps its float value: no Q/DQ, no range needed.
      auto u = uses.find(o);
      if (o.empty() || tindex.count(o) || u == uses.end() || u->second.empty()) continue;
      TensorQ t;
      t.name = o;
      t.precision = p.precision;
      t.all_consumers = true;
      t.needed_by = n.describe();
      if (p.outputs_share_input && tindex.count(n.inputs[0])) t.share_from = n.inputs[0];
      tindex[o] = tensors.size();
      tensors.push_back(t);
    }
  }
  for (auto& t : tensors)
    if (opt.int16_tensors.count(t.name)) t.precision = Precision::kInt16;
  // Shared tensors carry the same type: promote both ends to int16 when either is int16.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& t : tensors) {
      if (t.share_from.empty()) continue;
      TensorQ& src = tensors[tindex[t.share_from]];
      if (src.precision != t.precision) {
        src.precision = t.precision = Precision::kInt16;
        changed = true;
      }
    }
  }
  // 3. Qparams, in creation order (a shared tensor's source is always created before it).
  const qmath::QScheme scheme = opt.asymmetric_activations ? qmath::QScheme::kAsymmetric : qmath::QScheme::kSymmetric;
  for (auto& t : tensors) {
    if (!t.share_from.empty()) {
      t.qp = tensors[tindex[t.share_from]].qp;
      continue;
    }
    auto fx = opt.fixed_qparams.find(t.name);
    if (fx != opt.fixed_qparams.end() && fx->second.int16 == (t.precision == Precision::kInt16)) {
      t.qp.scale = fx->second.scale;
      t.qp.zero_point = fx->second.zero_point;
      Status st = qmath::validate_qparams(t.qp, qtype_of(t.precision));
      if (!st.ok()) return st.with_context("given qparams of tensor '" + t.name + "'");
      continue;
    }
    auto it = ranges.find(t.name);
    if (it == ranges.end())
      return not_found("no activation range for tensor '" + t.name + "' (needed by " + t.needed_by + ")");
    // A tensor that is never negative (Relu/Clip(0, x)/Sigmoid outputs) uses the whole int8 grid on [0, max]
    // (zero point -128) instead of wasting half of a symmetric one. It also keeps Clip(0, x) -> QuantizeLinear
    // exact under onnxruntime's ClipQuantRewrite, which drops the Clip when the quantized range lies inside it.
    qmath::QScheme s = scheme;
    float lo = it->second.min, hi = it->second.max;
    if (t.precision == Precision::kInt16 && std::isfinite(it->second.observed_min) &&
        std::isfinite(it->second.observed_max)) {
      lo = std::min(lo, it->second.observed_min);
      hi = std::max(hi, it->second.observed_max);
    }
    if (lo >= 0.f && t.precision == Precision::kInt8) s = qmath::QScheme::kAsymmetric;
    Status st = qmath::choose_qparams(std::max(0.f, lo) == 0.f && s != scheme ? 0.f : lo, hi, qtype_of(t.precision),
                                      s, &t.qp);
    if (!st.ok()) return st.with_context("tensor '" + t.name + "' (needed by " + t.needed_by + ")");
  }

  if (report) {
    report->nodes.clear();
    report->notes.clear();
    report->tensors.clear();
    for (const auto& t : tensors)
      report->tensors.push_back(TensorQuant{t.name, t.precision, t.qp.scale, t.qp.zero_point, t.share_from});
    if (!shapes.complete)
      report->notes.push_back("shape inference stopped early: tensors of unknown type were assumed float");
    bool any16 = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      NodeReport r;
      r.name = g.nodes[i].name;
      r.op_type = g.nodes[i].op_type;
      r.where = plans[i].quantized ? plans[i].precision : Precision::kFloat;
      r.why = plans[i].why;
      any16 |= r.where == Precision::kInt16;
      if (plans[i].quantized && plans[i].fused_activation >= 0) {
        r.fused_with = g.nodes[plans[i].fused_activation].name;
        // A fused producer reports the activation's output quantization.
        const auto& act = g.nodes[plans[i].fused_activation];
        auto jt = tindex.find(act.outputs[0]);
        if (jt != tindex.end()) {
          r.output_scale = tensors[jt->second].qp.scale;
          r.output_zero_point = tensors[jt->second].qp.zero_point;
          r.output_threshold = r.output_scale *
              static_cast<float>(qmath::qrange(qtype_of(tensors[jt->second].precision)).qmax - r.output_zero_point);
        }
      }
      for (size_t k = 0; k < i && r.fused_with.empty(); ++k)
        if (plans[k].quantized && plans[k].fused_activation == static_cast<int>(i)) r.fused_with = g.nodes[k].name;
      auto it = g.nodes[i].outputs.empty() ? tindex.end() : tindex.find(g.nodes[i].outputs[0]);
      if (it != tindex.end()) {
        const TensorQ& t = tensors[it->second];
        r.output_quantized = true;
        r.output_scale = t.qp.scale;
        r.output_zero_point = t.qp.zero_point;
        r.output_threshold = t.qp.scale * static_cast<float>(qmath::qrange(qtype_of(t.precision)).qmax - t.qp.zero_point);
      }
      report->nodes.push_back(r);
    }
    if (any16 && opset < 21)
      report->notes.push_back("int16 QuantizeLinear/DequantizeLinear are standard ONNX from opset 21; the model has "
                              "opset " + std::to_string(opset) + ", so the stage models write them in the "
                              "com.microsoft domain (onnxruntime contrib ops), as onnxruntime's quantizer does");
    if (opt.per_channel_weights && opset < 13)
      report->notes.push_back("per-tensor weights: per-axis DequantizeLinear needs opset 13, the model has opset " +
                              std::to_string(opset));
  }

  // 4. Rewrite.
  QdqWriter w(g);
  std::vector<ir::Node> added;
  std::map<std::string, std::string> dq_of;  // tensor -> its dequantized value name
  for (const auto& t : tensors) {
    const QType qt = qtype_of(t.precision);
    std::string scale = w.add_init(t.name + "_scale", Tensor::from_vector<float>({t.qp.scale}));
    std::string zp = w.add_init(t.name + "_zero_point", scalar_zp(qt, t.qp.zero_point));
    std::string q = w.fresh(t.name + "_quantized");
    std::string dq = w.fresh(t.name + "_dequantized");
    added.push_back(w.make("QuantizeLinear", {t.name, scale, zp}, q));
    added.push_back(w.make("DequantizeLinear", {q, scale, zp}, dq));
    dq_of[t.name] = dq;
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    const NodePlan& p = plans[i];
    const std::string orig_in = p.act_inputs.empty() ? std::string() : n.inputs[p.act_inputs[0]];
    // Reads of tensors whose producer is quantized: every consumer.
    for (size_t s = 0; s < n.inputs.size(); ++s) {
      auto it = tindex.find(n.inputs[s]);
      if (it != tindex.end() && tensors[it->second].all_consumers && dq_of.count(n.inputs[s]))
        n.inputs[s] = dq_of[n.inputs[s]];
    }
    if (!p.quantized) continue;
    const std::string base = n.name.empty() ? n.op_type : n.name;
    for (int s : p.act_inputs) {
      std::string& v = n.inputs[s];
      if (dq_of.count(v)) {
        v = dq_of[v];
        continue;
      }
      const Tensor* c = g.is_initializer(v) ? &g.initializers.at(v) : nullptr;
      if (!c) {
        auto jt = shapes.constants.find(v);
        if (jt != shapes.constants.end()) c = &jt->second;
      }
      if (!c) continue;  // already rewritten (a quantized producer's output) or an empty slot
      if (!opt.quantize_weights) continue;  // activations-only model: constants stay float
      // A float constant read as an activation: per-tensor symmetric at the node's precision.
      const QType qt = qtype_of(p.precision);
      float lo = 0.f, hi = 0.f;
      const float* x = c->data<float>();
      for (int64_t k = 0; k < c->numel(); ++k) {
        if (!std::isfinite(x[k])) return invalid_argument(n.describe() + ": constant '" + v + "' is not finite");
        lo = std::min(lo, x[k]);
        hi = std::max(hi, x[k]);
      }
      QParams qp;
      KW_RETURN_IF_ERROR(qmath::choose_qparams(lo, hi, qt, qmath::QScheme::kSymmetric, &qp));
      Tensor qv = Tensor::empty(dtype_of(qt), c->shape());
      if (qt == QType::kInt16)
        qmath::quantize_array<int16_t>(x, qv.data<int16_t>(), c->numel(), qp.scale, qp.zero_point);
      else
        qmath::quantize_array<int8_t>(x, qv.data<int8_t>(), c->numel(), qp.scale, qp.zero_point);
      std::string qn = w.add_init(v + "_quantized", std::move(qv));
      std::string sn = w.add_init(v + "_scale", Tensor::from_vector<float>({qp.scale}));
      std::string zn = w.add_init(v + "_zero_point", scalar_zp(qt, qp.zero_point));
      std::string dq = w.fresh(v + "_dequantized");
      added.push_back(w.make("DequantizeLinear", {qn, sn, zn}, dq));
      v = dq;
    }
    if (p.weight_input < 0 || !opt.quantize_weights) continue;
    // Weight: per-channel int8 symmetric (per tensor before opset 13 or when asked).
    const std::string wname = n.inputs[p.weight_input];
    const Tensor* wt = g.is_initializer(wname) ? &g.initializers.at(wname) : &shapes.constants.at(wname);
    const int axis = (opt.per_channel_weights && opset >= 13) ? p.weight_axis : -1;
    QuantizedWeight qw;
    auto given = opt.given_weights.find(n.name);
    if (given != opt.given_weights.end() && given->second.axis == axis && given->second.q.shape() == wt->shape() &&
        given->second.q.dtype() == DType::kI8) {
      qw = given->second;
    } else {
      Status st = quantize_weight(*wt, axis, opt.weight_range, &qw);
      if (!st.ok()) return st.with_context(n.describe() + " weight '" + wname + "'");
    }
    const int64_t ch = static_cast<int64_t>(qw.scales.size());
    const bool per_axis = axis >= 0;
    Tensor wscale = per_axis ? Tensor::from_vector<float>(qw.scales, {ch}) : Tensor::from_vector<float>(qw.scales);
    Tensor wzp = per_axis ? Tensor::zeros(DType::kI8, {ch}) : scalar_zp(QType::kInt8, 0);
    std::string qn = w.add_init(wname + "_quantized", std::move(qw.q));
    std::string sn = w.add_init(wname + "_scale", std::move(wscale));
    std::string zn = w.add_init(wname + "_zero_point", std::move(wzp));
    std::string dq = w.fresh(wname + "_dequantized");
    ir::Node wdq = w.make("DequantizeLinear", {qn, sn, zn}, dq);
    if (per_axis) wdq.attrs["axis"] = ir::Attribute::make_int(axis);
    added.push_back(wdq);
    n.inputs[p.weight_input] = dq;
    if (p.bias_input < 0) continue;
    // Bias: int32, scale = input scale * weight scale[c], zero point 0.
    const std::string bname = n.inputs[p.bias_input];
    const Tensor* bt = g.is_initializer(bname) ? &g.initializers.at(bname) : &shapes.constants.at(bname);
    if (!tindex.count(orig_in) || (per_axis && bt->numel() != ch)) continue;  // bias stays float
    const float sin = tensors[tindex[orig_in]].qp.scale;
    std::vector<float> bscale(ch);
    for (int64_t c = 0; c < ch; ++c) bscale[c] = sin * qw.scales[c];
    for (int64_t k = 0; k < bt->numel(); ++k)
      if (!std::isfinite(bt->data<float>()[k]))
        return invalid_argument(n.describe() + ": bias '" + bname + "' is not finite");
    std::vector<float> bias(bt->data<float>(), bt->data<float>() + bt->numel());
    auto delta = opt.bias_delta.find(n.name);  // bias correction
    if (delta != opt.bias_delta.end() && delta->second.size() == bias.size())
      for (size_t k = 0; k < bias.size(); ++k) bias[k] += delta->second[k];
    Tensor bq = Tensor::empty(DType::kI32, bt->shape());
    if (per_axis)
      qmath::quantize_per_axis<int32_t>(bias.data(), bq.data<int32_t>(), 1, ch, 1, bscale.data(), nullptr);
    else
      qmath::quantize_array<int32_t>(bias.data(), bq.data<int32_t>(), bt->numel(), bscale[0], 0);
    std::string bqn = w.add_init(bname + "_quantized", std::move(bq));
    std::string bsn = w.add_init(bname + "_scale", per_axis ? Tensor::from_vector<float>(bscale, {ch})
                                                            : Tensor::from_vector<float>(bscale));
    std::string bzn = w.add_init(bname + "_zero_point", per_axis ? Tensor::zeros(DType::kI32, {ch})
                                                                 : Tensor::from_vector<int32_t>({0}));
    std::string bdq = w.fresh(bname + "_dequantized");
    ir::Node bdqn = w.make("DequantizeLinear", {bqn, bsn, bzn}, bdq);
    if (per_axis) bdqn.attrs["axis"] = ir::Attribute::make_int(0);
    added.push_back(bdqn);
    n.inputs[p.bias_input] = bdq;
  }
  for (auto& a : added) g.nodes.push_back(std::move(a));
  // Initializers no node reads any more (the float weights) are dropped.
  {
    std::set<std::string> read;
    for (const auto& n : g.nodes)
      for (const auto& v : n.inputs) read.insert(v);
    for (const auto& o : g.outputs) read.insert(o.name);
    for (auto it = g.initializers.begin(); it != g.initializers.end();)
      it = read.count(it->first) ? std::next(it) : g.initializers.erase(it);
  }
  KW_RETURN_IF_ERROR(g.topo_sort());
  KW_RETURN_IF_ERROR(g.verify());

  return Status::Ok();
}

}  // namespace kaiwu::quant
