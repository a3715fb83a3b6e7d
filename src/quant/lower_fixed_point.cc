// QDQ -> fixed-point lowering (see quant/fixed_point.h).
//
// int16 nodes (QuantOptions.int16_nodes / all_int16: int16 activations, int8 weights, int32 bias) lower to the same
// integer ops on int16 tensors: QLinearConv with an int16 input and / or output (exact int64 accumulation, double
// requantization, ops/qconv_kernel.h), QAdd / QMul (an int8 operand meeting an int16 one is first requantized to
// int16 with its own scale, exactly), QLut with a 65536-entry table, Q[Global]AveragePool, Requantize, and data
// movement / max pooling when the runtime has an int16 kernel for the op (probed through the op registry). The
// report's `how` ends with "(int16)" for them.
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "core/qmath.h"
#include "ir/graph_edit.h"
#include "ir/qdq.h"
#include "ops/graph_shapes.h"
#include "ops/op_def.h"
#include "quant/fixed_point.h"

namespace kaiwu::quant {

int LowerReport::integer_count() const {
  int n = 0;
  for (const auto& r : nodes) n += r.integer;
  return n;
}
int LowerReport::float_count() const { return static_cast<int>(nodes.size()) - integer_count(); }

namespace {
using namespace kaiwu::qmath;

// A quantized tensor: its integer value and per-tensor qparams (initializer names and values).
struct QTensor {
  std::string q, scale, zp;
  float s = 1.f;
  int32_t z = 0;
  DType t = DType::kUndefined;
  bool same_params(const QTensor& o) const { return s == o.s && z == o.z && t == o.t; }
};

bool is_int_type(DType t) { return t == DType::kI8 || t == DType::kU8 || t == DType::kI16; }
bool is_q8(DType t) { return t == DType::kI8 || t == DType::kU8; }

QRange range_of(DType t) {
  return qrange(t == DType::kI8 ? QType::kInt8 : (t == DType::kU8 ? QType::kUInt8 : QType::kInt16));
}

const std::set<std::string>& lut_ops() {
  static const std::set<std::string> s = {"Relu", "Clip",  "Sigmoid", "Tanh",     "HardSigmoid", "HardSwish",
                                          "LeakyRelu", "Elu", "Selu", "Softplus", "Gelu",        "Erf",
                                          "Exp",  "Neg",  "Abs",     "Sqrt",     "Reciprocal",  "Log", "PRelu"};
  return s;
}
const std::set<std::string>& movement_ops() {
  static const std::set<std::string> s = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice",
                                          "Split", "DepthToSpace", "SpaceToDepth", "Expand", "Tile", "Gather",
                                          "Resize", "MaxPool", "GlobalMaxPool", "Identity"};
  return s;
}

class Lowerer {
 public:
  explicit Lowerer(const ir::Model& m) : src_(m), g_(m.graph) {
    producers_ = g_.producers();
    uses_ = ir::uses_of(g_);
  }

  Status run(ir::Model* out, LowerReport* report) {
    out_ = src_;
    ir::Graph& og = out_.graph;
    og.nodes.clear();
    std::vector<bool> dropped(g_.nodes.size(), false);
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (dropped[i]) continue;
      const ir::Node& n = g_.nodes[i];
      if (ir::is_qdq_node(n)) {
        og.nodes.push_back(n);
        continue;
      }
      LoweredNode r{n.name, n.op_type, false, ""};
      std::vector<ir::Node> made;
      std::vector<size_t> consumed;  // Q nodes (and fused activations) that the integer op replaces
      const size_t renames_before = renames_.size();
      wide_ = false;
      std::string why = lower(n, &made, &consumed);
      if (!why.empty()) renames_.resize(renames_before);  // a failed attempt leaves no trace
      if (why.empty()) {
        r.integer = true;
        const ir::Node* main = &made.back();  // the op named after the node (not a helper Reshape / Requantize)
        for (const auto& mn : made)
          if (mn.name == n.name) {
            main = &mn;
            break;
          }
        r.how = main->domain.empty() ? main->op_type : main->domain + "." + main->op_type;
        if (wide_) r.how += " (int16)";
        for (size_t c : consumed) dropped[c] = true;
        for (auto& mn : made) og.nodes.push_back(std::move(mn));
      } else {
        r.how = why;
        og.nodes.push_back(n);
      }
      if (report) report->nodes.push_back(r);
    }
    for (const auto& [from, to] : renames_) ir::replace_uses(og, from, to);
    for (auto& [name, t] : new_inits_) og.initializers[name] = std::move(t);
    ir::remove_dead_nodes(og);  // the Dequantize nodes the integer ops replaced
    compose_tables(og);
    ir::remove_dead_nodes(og);
    // Initializers nobody reads any more (float weights of lowered convs, dropped Q scales).
    std::set<std::string> used;
    for (const auto& n : og.nodes)
      for (const auto& v : n.inputs) used.insert(v);
    for (const auto& o : og.outputs) used.insert(o.name);
    for (auto it = og.initializers.begin(); it != og.initializers.end();)
      it = used.count(it->first) ? std::next(it) : og.initializers.erase(it);
    out_.opsets["kaiwu"] = 1;
    KW_RETURN_IF_ERROR(og.topo_sort());
    KW_RETURN_IF_ERROR(og.verify());
    *out = std::move(out_);
    return Status::Ok();
  }

 private:
  const ir::Model& src_;
  const ir::Graph& g_;
  ir::Model out_;
  std::map<std::string, size_t> producers_;
  std::map<std::string, std::vector<ir::Use>> uses_;
  std::vector<std::pair<std::string, std::string>> renames_;
  std::map<std::string, Tensor> new_inits_;
  std::set<std::string> taken_;
  mutable bool wide_ = false;  // the node being lowered reads or writes an int16 tensor
  ops::GraphShapes shapes_;     // of the QDQ model (for the int16 kernel probes), computed on first use
  bool have_shapes_ = false;

  const Tensor* init(const std::string& v) const {
    auto it = g_.initializers.find(v);
    return it == g_.initializers.end() ? nullptr : &it->second;
  }
  const ir::Node* producer(const std::string& v) const {
    auto it = producers_.find(v);
    return it == producers_.end() ? nullptr : &g_.nodes[it->second];
  }
  std::string fresh(const std::string& base) {
    std::string c = ir::unique_value_name(g_, base);
    for (int i = 1; taken_.count(c) || new_inits_.count(c); ++i) c = ir::unique_value_name(g_, base + "_" + std::to_string(i));
    taken_.insert(c);
    return c;
  }
  std::string add_scalar(const std::string& base, Tensor t) {
    std::string name = fresh(base);
    new_inits_[name] = std::move(t);
    return name;
  }

  // QLut(QLut(x, T1), T2) with an intermediate read only there becomes QLut(x, T2 o T1): the same integers (each
  // table is exact per value), one pass over the tensor instead of two. T1 maps x's type (256 or 65536 entries) to
  // the intermediate type, which T2's entries (256 or 65536) index.
  static void compose_tables(ir::Graph& g) {
    auto table_of = [&](const ir::Node& n) -> const Tensor* {
      if (n.domain != "kaiwu" || n.op_type != "QLut" || n.inputs.size() != 2) return nullptr;
      auto it = g.initializers.find(n.inputs[1]);
      if (it == g.initializers.end() || !is_int_type(it->second.dtype())) return nullptr;
      const int64_t e = it->second.numel();
      return e == 256 || e == 65536 ? &it->second : nullptr;
    };
    auto entries_for = [](DType t) { return t == DType::kI16 ? int64_t{65536} : int64_t{256}; };
    auto index_of = [](const Tensor& t, int64_t i) -> int64_t {  // entry i's value as an index into the next table
      switch (t.dtype()) {
        case DType::kI8: return t.data<int8_t>()[i] + 128;
        case DType::kU8: return t.data<uint8_t>()[i];
        default: return t.data<int16_t>()[i] + 32768;
      }
    };
    for (bool again = true; again;) {
      again = false;
      auto uses = ir::uses_of(g);
      auto prod = g.producers();
      for (auto& second : g.nodes) {
        const Tensor* t2 = table_of(second);
        if (!t2) continue;
        auto pit = prod.find(second.inputs[0]);
        if (pit == prod.end()) continue;
        const ir::Node& first = g.nodes[pit->second];
        const Tensor* t1 = table_of(first);
        if (!t1 || uses[first.outputs[0]].size() != 1 || ir::is_graph_output(g, first.outputs[0])) continue;
        if (t2->numel() != entries_for(t1->dtype())) continue;
        const int64_t n = t1->numel();
        Tensor t = Tensor::empty(t2->dtype(), {n});
        const size_t es = dtype_size(t2->dtype());
        const uint8_t* src = static_cast<const uint8_t*>(t2->raw());
        uint8_t* dst = static_cast<uint8_t*>(t.raw());
        for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * es, src + index_of(*t1, i) * es, es);
        const std::string name = ir::unique_value_name(g, second.inputs[1] + "_composed");
        g.initializers[name] = std::move(t);
        second.inputs = {first.inputs[0], name};
        again = true;
        break;
      }
      if (again) ir::remove_dead_nodes(g);
    }
  }

  // Per-tensor qparams from (scale, zero point) initializer inputs 1 and 2 of a Q/DQ node.
  bool read_params(const ir::Node& qd, DType int_type, QTensor* q) const {
    if (!qd.has_input(1)) return false;
    const Tensor* s = init(qd.inputs[1]);
    if (!s || s->numel() != 1 || s->dtype() != DType::kF32) return false;
    q->scale = qd.inputs[1];
    q->s = s->data<float>()[0];
    if (!(q->s > 0.f) || !std::isfinite(q->s)) return false;
    if (!qd.has_input(2)) return false;  // the lowering needs an explicit zero point (its type is the int type)
    const Tensor* z = init(qd.inputs[2]);
    if (!z || z->numel() != 1) return false;
    q->zp = qd.inputs[2];
    q->z = static_cast<int32_t>(z->get_i64(0));
    q->t = z->dtype();
    if (q->t == DType::kI16) wide_ = true;
    return int_type == DType::kUndefined || q->t == int_type;
  }

  // Input 1 of `n` = DequantizeLinear(constant weight, ...): the node, the weight and its scale and zero point when
  // they are constants (else null).
  bool quantized_weight(const ir::Node& n, const ir::Node** wd, const Tensor** w, const Tensor** ws,
                        const Tensor** wz) const {
    *wd = n.has_input(1) ? producer(n.inputs[1]) : nullptr;
    if (!*wd || !ir::is_dequantize_linear(**wd) || !init((*wd)->inputs[0])) return false;
    *w = init((*wd)->inputs[0]);
    *ws = (*wd)->has_input(1) ? init((*wd)->inputs[1]) : nullptr;
    *wz = (*wd)->has_input(2) ? init((*wd)->inputs[2]) : nullptr;
    return true;
  }

  // v = DequantizeLinear(q) per tensor: the integer tensor and its qparams.
  bool dequantized(const std::string& v, QTensor* q) const {
    const ir::Node* p = producer(v);
    if (!p || !ir::is_dequantize_linear(*p)) return false;
    if (!read_params(*p, DType::kUndefined, q) || !is_int_type(q->t)) return false;
    q->q = p->inputs[0];
    return true;
  }

  // Every reader of v is a per-tensor QuantizeLinear with the same qparams: the first one's output and params;
  // the other Q outputs are renamed to it. `consumed` gets the Q node indices.
  bool requantized(const std::string& v, QTensor* q, std::vector<size_t>* consumed) {
    if (ir::is_graph_output(g_, v)) return false;
    auto it = uses_.find(v);
    if (it == uses_.end() || it->second.empty()) return false;
    std::vector<size_t> qs;
    for (const auto& u : it->second) {
      const ir::Node& c = g_.nodes[u.node];
      if (!ir::is_quantize_linear(c) || u.input != 0) return false;
      QTensor p;
      if (!read_params(c, DType::kUndefined, &p) || !is_int_type(p.t)) return false;
      if (qs.empty()) *q = p;
      else if (!q->same_params(p)) return false;
      qs.push_back(u.node);
    }
    q->q = g_.nodes[qs[0]].outputs[0];
    for (size_t k = 1; k < qs.size(); ++k) renames_.emplace_back(g_.nodes[qs[k]].outputs[0], q->q);
    consumed->insert(consumed->end(), qs.begin(), qs.end());
    return true;
  }

  ir::Node make(const ir::Node& like, const std::string& domain, const std::string& op,
                std::vector<std::string> inputs, std::vector<std::string> outputs) {
    ir::Node n;
    n.name = like.name;
    n.domain = domain;
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    return n;
  }

  // Returns "" and fills `made` when the node lowers; else the reason it stays float.
  std::string lower(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    if (!n.domain.empty()) return "not an ONNX op";
    if (n.op_type == "Conv" || n.op_type == "ConvTranspose") return lower_conv(n, made, consumed);
    if (n.op_type == "Gemm") return lower_gemm(n, made, consumed);
    if (n.op_type == "Add" || n.op_type == "Mul") return lower_binary(n, made, consumed);
    if (n.op_type == "Div") return lower_div(n, made, consumed);
    if (n.op_type == "Concat") return lower_concat(n, made, consumed);
    if (n.op_type == "GlobalAveragePool" || n.op_type == "AveragePool") return lower_avg_pool(n, made, consumed);
    if (lut_ops().count(n.op_type)) return lower_lut(n, made, consumed);
    if (movement_ops().count(n.op_type)) return lower_movement(n, made, consumed);
    return "no integer kernel for " + n.op_type + " (float between Dequantize and Quantize)";
  }

  std::string lower_conv(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor x, y;
    if (!n.has_input(0) || !dequantized(n.inputs[0], &x)) return "input is not a dequantized activation";
    const ir::Node* wd = nullptr;
    const Tensor *w = nullptr, *ws = nullptr, *wz = nullptr;
    if (!quantized_weight(n, &wd, &w, &ws, &wz)) return "weight is not a quantized constant";
    if (!ws || !wz || !is_q8(w->dtype()) || w->rank() != 4) return "weight is not a 4-D int8 constant";
    // ConvTranspose with kernel == stride (no overlap; PP-OCR det's upsampling head) is a 1x1 convolution to
    // O*k*k channels followed by DepthToSpace (CRD): out[o, y*k+i, x*k+j] = sum_c x[c, y, x] * W[c, o, i, j].
    const bool deconv = n.op_type == "ConvTranspose";
    int64_t k = 1;
    if (deconv) {
      const std::vector<int64_t> ks = n.attr_ints("kernel_shape", {w->dim(2), w->dim(3)});
      const std::vector<int64_t> st = n.attr_ints("strides", {1, 1});
      const std::vector<int64_t> pads = n.attr_ints("pads", {0, 0, 0, 0});
      const std::vector<int64_t> dil = n.attr_ints("dilations", {1, 1});
      const std::vector<int64_t> op = n.attr_ints("output_padding", {0, 0});
      bool ok = n.attr_int("group", 1) == 1 && ks.size() == 2 && ks[0] == ks[1] && st == ks && ks[0] == w->dim(2) &&
                ks[1] == w->dim(3) && dil == std::vector<int64_t>{1, 1} && !n.has_attr("output_shape") &&
                n.attr_string("auto_pad", "NOTSET") == "NOTSET";
      for (int64_t v : pads) ok = ok && v == 0;
      for (int64_t v : op) ok = ok && v == 0;
      if (!ok) return "ConvTranspose other than kernel == stride without padding runs in float";
      k = ks[0];
    }
    const int64_t m = deconv ? w->dim(1) : w->dim(0);
    if (ws->numel() != 1 && !(ws->rank() == 1 && ws->numel() == m && wd->attr_int("axis", 1) == (deconv ? 1 : 0)))
      return "weight scales are neither per tensor nor per output channel";
    std::string bias;
    if (n.has_input(2)) {
      const ir::Node* bd = producer(n.inputs[2]);
      const Tensor* b = bd && ir::is_dequantize_linear(*bd) ? init(bd->inputs[0]) : nullptr;
      const Tensor* bs = b && bd->has_input(1) ? init(bd->inputs[1]) : nullptr;
      if (!b || b->dtype() != DType::kI32 || b->numel() != m || !bs) return "bias is not an int32 constant";
      if (bd->has_input(2) && init(bd->inputs[2]) && init(bd->inputs[2])->get_i64(0) != 0) return "bias zero point != 0";
      for (int64_t c = 0; c < m; ++c) {  // bias scale must be x_scale * w_scale[c]
        const double want = static_cast<double>(x.s) * ws->get_f64(ws->numel() == 1 ? 0 : c);
        const double got = bs->get_f64(bs->numel() == 1 ? 0 : c);
        if (std::fabs(got - want) > 1e-5 * want) return "bias scale differs from input scale x weight scale";
      }
      bias = bd->inputs[0];
    }
    // The output: quantized directly, or through one Relu/Clip whose bounds the output range's saturation enforces.
    std::string out = n.outputs[0];
    std::optional<ir::Node> clamp_after;
    std::vector<size_t> fused;
    auto it = uses_.find(out);
    if (it != uses_.end() && it->second.size() == 1 && !ir::is_graph_output(g_, out)) {
      const ir::Node& a = g_.nodes[it->second[0].node];
      if (a.domain.empty() && (a.op_type == "Relu" || a.op_type == "Clip")) {
        float lo = 0.f, hi = INFINITY;
        if (a.op_type == "Clip") {
          lo = -INFINITY;
          const Tensor* l = a.has_input(1) ? init(a.inputs[1]) : nullptr;
          const Tensor* h = a.has_input(2) ? init(a.inputs[2]) : nullptr;
          if ((a.has_input(1) && !l) || (a.has_input(2) && !h)) return "Clip bounds are not constant";
          if (l) lo = static_cast<float>(l->get_f64(0));
          if (h) hi = static_cast<float>(h->get_f64(0));
          if (a.has_attr("min")) lo = a.attr_float("min", lo);
          if (a.has_attr("max")) hi = a.attr_float("max", hi);
        }
        std::vector<size_t> qc;
        if (!requantized(a.outputs[0], &y, &qc)) return "activation output is not quantized";
        const QRange r = range_of(y.t);
        const float qlo = (static_cast<float>(r.qmin) - y.z) * y.s, qhi = (static_cast<float>(r.qmax) - y.z) * y.s;
        const float tol = 0.5f * y.s;
        fused.push_back(it->second[0].node);
        if (qlo < lo - tol || qhi > hi + tol) {
          // The saturation does not enforce the bounds (e.g. a symmetric output range): the convolution writes the
          // activation's qparams and a table applies the clamp, Q(clip(v)) == clip_q(Q(v)) as Q is monotonic.
          auto table = tabulate(a, y, y);
          if (!table) return "could not tabulate " + a.op_type;
          const std::string mid = fresh(y.q + "_preact");
          clamp_after = make(a, "kaiwu", "QLut", {mid, add_scalar(a.name + "_table", std::move(*table))}, {y.q});
          y.q = mid;
        }
        consumed->insert(consumed->end(), qc.begin(), qc.end());
        out.clear();
      }
    }
    if (!out.empty() && !requantized(out, &y, consumed)) return "output is not quantized";
    consumed->insert(consumed->end(), fused.begin(), fused.end());
    if (deconv) return emit_deconv(n, x, y, *w, *ws, *wz, bias, k, std::move(clamp_after), made);
    ir::Node q = make(n, "", "QLinearConv",
                      {x.q, x.scale, x.zp, wd->inputs[0], wd->inputs[1], wd->inputs[2], y.scale, y.zp}, {y.q});
    if (!bias.empty()) q.inputs.push_back(bias);
    for (const char* a : {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
      if (n.has_attr(a)) q.attrs[a] = *n.attr(a);
    made->push_back(std::move(q));
    if (clamp_after) made->push_back(std::move(*clamp_after));
    return "";
  }

  // The kernel == stride ConvTranspose as QLinearConv 1x1 (W' [O*k*k, C, 1, 1], per-channel scales, zero points and
  // bias repeated k*k times) -> [clamp table] -> DepthToSpace(k, CRD).
  std::string emit_deconv(const ir::Node& n, const QTensor& x, const QTensor& y, const Tensor& w, const Tensor& ws,
                          const Tensor& wz, const std::string& bias, int64_t k, std::optional<ir::Node> clamp_after,
                          std::vector<ir::Node>* made) {
    const int64_t c_in = w.dim(0), o = w.dim(1), kk = k * k, m = o * kk;
    const size_t es = dtype_size(w.dtype());
    Tensor w2 = Tensor::empty(w.dtype(), {m, c_in, 1, 1});
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t t = 0; t < kk; ++t)
          std::memcpy(static_cast<uint8_t*>(w2.raw()) + ((oc * kk + t) * c_in + c) * es,
                      static_cast<const uint8_t*>(w.raw()) + ((c * o + oc) * kk + t) * es, es);
    auto repeat = [&](const Tensor& t, bool per_channel = false) {  // per-O -> per-(O, i, j); scalars stay scalars
      if (t.numel() == 1 && !per_channel) return t;
      Tensor r = Tensor::empty(t.dtype(), {m});
      const size_t e = dtype_size(t.dtype());
      for (int64_t i = 0; i < m; ++i)
        std::memcpy(static_cast<uint8_t*>(r.raw()) + i * e, static_cast<const uint8_t*>(t.raw()) + (i / kk) * e, e);
      return r;
    };
    ir::Node q = make(n, "", "QLinearConv",
                      {x.q, x.scale, x.zp, add_scalar(n.name + "_w1x1", std::move(w2)),
                       add_scalar(n.name + "_w1x1_scale", repeat(ws)), add_scalar(n.name + "_w1x1_zp", repeat(wz)),
                       y.scale, y.zp},
                      {fresh(n.name + "_conv1x1")});
    if (!bias.empty()) q.inputs.push_back(add_scalar(n.name + "_b1x1", repeat(*init(bias), true)));
    q.attrs["kernel_shape"] = ir::Attribute::make_ints({1, 1});
    std::string cur = q.outputs[0];
    const std::string final_name = clamp_after ? clamp_after->outputs[0] : y.q;
    made->push_back(std::move(q));
    if (clamp_after) {
      clamp_after->inputs[0] = cur;
      cur = fresh(n.name + "_clamped");
      clamp_after->outputs[0] = cur;
      made->push_back(std::move(*clamp_after));
    }
    ir::Node d2s = make(n, "", "DepthToSpace", {cur}, {final_name});
    d2s.name = fresh(n.name + "_depth_to_space");
    d2s.attrs["blocksize"] = ir::Attribute::make_int(k);
    d2s.attrs["mode"] = ir::Attribute::make_string("CRD");
    made->push_back(std::move(d2s));
    return "";
  }

  // Gemm (A [N, K] x B + C, alpha = beta = 1, no transA) with a quantized constant B: a 1x1 QLinearConv between
  // two Reshapes ([N, K] -> [N, K, 1, 1] -> [N, M, 1, 1] -> [N, M]), which reuses the int8 convolution kernels
  // with per-channel weights and the int32 bias.
  std::string lower_gemm(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    if (n.attr_int("transA", 0) || n.attr_float("alpha", 1.f) != 1.f || n.attr_float("beta", 1.f) != 1.f)
      return "Gemm with transA or alpha/beta != 1 runs in float";
    QTensor x, y;
    if (!n.has_input(0) || !dequantized(n.inputs[0], &x)) return "input is not a dequantized activation";
    const ir::Node* wd = nullptr;
    const Tensor *w = nullptr, *ws = nullptr, *wz = nullptr;
    if (!quantized_weight(n, &wd, &w, &ws, &wz)) return "weight is not a quantized constant";
    if (!ws || !wz || w->dtype() != DType::kI8 || w->rank() != 2) return "weight is not a 2-D int8 constant";
    const bool tb = n.attr_int("transB", 0) != 0;
    const int64_t k = tb ? w->dim(1) : w->dim(0), m = tb ? w->dim(0) : w->dim(1);
    const int64_t axis = wd->attr_int("axis", 1);
    if (ws->numel() != 1 && !(ws->numel() == m && axis == (tb ? 0 : 1))) return "weight scales are not per output";
    std::string bias;
    if (n.has_input(2)) {
      const ir::Node* bd = producer(n.inputs[2]);
      const Tensor* b = bd && ir::is_dequantize_linear(*bd) ? init(bd->inputs[0]) : nullptr;
      if (!b || b->dtype() != DType::kI32 || b->numel() != m) return "bias is not an int32 constant";
      bias = bd->inputs[0];
    }
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    Tensor w4 = Tensor::empty(DType::kI8, {m, k, 1, 1});
    for (int64_t o = 0; o < m; ++o)
      for (int64_t i = 0; i < k; ++i)
        w4.data<int8_t>()[o * k + i] = w->data<int8_t>()[tb ? o * k + i : i * m + o];
    Tensor ws1 = Tensor::empty(DType::kF32, {ws->numel() == 1 ? 1 : m});
    for (int64_t i = 0; i < ws1.numel(); ++i) ws1.data<float>()[i] = ws->data<float>()[i];
    Tensor wz1 = Tensor::empty(DType::kI8, {ws1.numel()});
    for (int64_t i = 0; i < wz1.numel(); ++i) wz1.data<int8_t>()[i] = static_cast<int8_t>(wz->get_i64(i));
    const std::string wn = add_scalar(n.name + "_w1x1", std::move(w4));
    const std::string wsn = add_scalar(n.name + "_w1x1_scale", ws1.numel() == 1 ? Tensor::from_vector<float>({ws1.data<float>()[0]}) : std::move(ws1));
    const std::string wzn = add_scalar(n.name + "_w1x1_zero_point", std::move(wz1));
    const std::string s4 = add_scalar(n.name + "_shape4", Tensor::from_vector<int64_t>({0, k, 1, 1}, {4}));
    const std::string s2 = add_scalar(n.name + "_shape2", Tensor::from_vector<int64_t>({0, m}, {2}));
    const std::string x4 = fresh(x.q + "_4d"), y4 = fresh(y.q + "_4d");
    ir::Node r1 = make(n, "", "Reshape", {x.q, s4}, {x4});
    r1.name = fresh(n.name + "_to4d");
    ir::Node c = make(n, "", "QLinearConv", {x4, x.scale, x.zp, wn, wsn, wzn, y.scale, y.zp}, {y4});
    if (!bias.empty()) c.inputs.push_back(bias);
    c.attrs["kernel_shape"] = ir::Attribute::make_ints({1, 1});
    ir::Node r2 = make(n, "", "Reshape", {y4, s2}, {y.q});
    r2.name = fresh(n.name + "_to2d");
    made->push_back(std::move(r1));
    made->push_back(std::move(c));
    made->push_back(std::move(r2));
    return "";
  }

  std::string lower_binary(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor a, b, y;
    if (n.inputs.size() != 2 || !dequantized(n.inputs[0], &a) || !dequantized(n.inputs[1], &b))
      return "inputs are not dequantized tensors";
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    // An activation with a quantized scalar constant (x * a, x + b: PP-LCNet's learnable affine ops) is a unary
    // function of x: one table (256 entries for an 8-bit x, 65536 for int16), which later merges with the tables
    // next to it.
    for (size_t act = 0; act < 2; ++act) {
      const QTensor& x = act == 0 ? a : b;
      const QTensor& c = act == 0 ? b : a;
      const Tensor* cv = init(c.q);
      if (init(x.q) || !cv || cv->numel() != 1 || cv->rank() > 1 || !is_int_type(x.t) || !is_int_type(y.t)) continue;
      auto table = tabulate(n, x, y, act);
      if (!table) break;
      std::string tn = add_scalar(n.name + "_table", std::move(*table));
      made->push_back(make(n, "kaiwu", "QLut", {x.q, tn}, {y.q}));
      return "";
    }
    // QAdd / QMul read one input type: an 8-bit operand next to an int16 one becomes int16 (same scale and zero
    // point, so the Requantize is exact).
    for (QTensor* v : {&a, &b}) {
      const QTensor& other = v == &a ? b : a;
      if (v->t == other.t || v->t == DType::kI16) continue;
      if (other.t != DType::kI16) return "operands are int8 and uint8";
      QTensor w = *v;
      w.t = DType::kI16;
      w.zp = add_scalar(n.name + "_zp16", Tensor::from_vector<int16_t>({static_cast<int16_t>(v->z)}));
      w.q = fresh(v->q + "_int16");
      ir::Node rq = make(n, "kaiwu", "Requantize", {v->q, v->scale, v->zp, v->scale, w.zp}, {w.q});
      rq.name = fresh(n.name + "_to_int16");
      made->push_back(std::move(rq));
      *v = w;
    }
    made->push_back(make(n, "kaiwu", n.op_type == "Add" ? "QAdd" : "QMul",
                         {a.q, a.scale, a.zp, b.q, b.scale, b.zp, y.scale, y.zp}, {y.q}));
    return "";
  }

  // x / c with a float constant c: Requantize with input scale x_scale / c.
  std::string lower_div(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor x, y;
    if (n.inputs.size() != 2 || !dequantized(n.inputs[0], &x)) return "dividend is not a dequantized tensor";
    const Tensor* c = init(n.inputs[1]);
    if (!c || c->numel() != 1 || c->dtype() != DType::kF32) return "divisor is not a float scalar constant";
    const float cv = c->data<float>()[0];
    if (!(cv > 0.f) || !std::isfinite(cv)) return "divisor is not a positive finite number";
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    std::string xs = add_scalar(n.name + "_x_scale", Tensor::from_vector<float>({x.s / cv}));
    made->push_back(make(n, "kaiwu", "Requantize", {x.q, xs, x.zp, y.scale, y.zp}, {y.q}));
    return "";
  }

  std::string lower_concat(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    std::vector<QTensor> xs(n.inputs.size());
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (!dequantized(n.inputs[i], &xs[i])) return "input '" + n.inputs[i] + "' is not a dequantized tensor";
    QTensor y;
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    ir::Node c = make(n, "", "Concat", {}, {y.q});
    c.attrs = n.attrs;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (xs[i].same_params(y)) {
        c.inputs.push_back(xs[i].q);
        continue;
      }
      std::string r = fresh(n.inputs[i] + "_requant");
      ir::Node rq = make(n, "kaiwu", "Requantize", {xs[i].q, xs[i].scale, xs[i].zp, y.scale, y.zp}, {r});
      rq.name = fresh(n.name + "_requant" + std::to_string(i));
      made->push_back(std::move(rq));
      c.inputs.push_back(r);
    }
    made->push_back(std::move(c));
    return "";
  }

  std::string lower_avg_pool(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor x, y;
    if (!n.has_input(0) || !dequantized(n.inputs[0], &x)) return "input is not a dequantized tensor";
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    ir::Node p = make(n, "kaiwu", n.op_type == "AveragePool" ? "QAveragePool" : "QGlobalAveragePool",
                      {x.q, x.scale, x.zp, y.scale, y.zp}, {y.q});
    p.attrs = n.attrs;
    made->push_back(std::move(p));
    return "";
  }

  // The table of unary node `n` from input qparams x to output qparams y (256 entries for an 8-bit x, 65536 for an
  // int16 x, of y's type): the float op evaluated (by constant folding) on every dequantized input value, then
  // quantized. Null if the op cannot be evaluated.
  std::optional<Tensor> tabulate(const ir::Node& n, const QTensor& x, const QTensor& y, size_t act = 0) const {
    // Evaluate the op on every dequantized input value.
    ir::Model tiny;
    tiny.opsets = src_.opsets;
    ir::Node e = n;
    e.outputs = {"y"};
    const QRange xr = range_of(x.t);
    std::vector<float> xv;
    for (int32_t q = xr.qmin; q <= xr.qmax; ++q) xv.push_back(dequantize_value(q, x.s, x.z));
    tiny.graph.initializers["x"] = Tensor::from_vector<float>(xv, {static_cast<int64_t>(xv.size())});
    e.inputs[act] = "x";
    for (size_t i = 0; i < e.inputs.size(); ++i) {
      if (i == act || e.inputs[i].empty()) continue;
      QTensor cq;
      if (const Tensor* c = init(e.inputs[i])) {
        tiny.graph.initializers[e.inputs[i]] = *c;
      } else if (dequantized(e.inputs[i], &cq) && init(cq.q)) {  // a quantized constant operand (PRelu slope)
        const Tensor& qc = *init(cq.q);
        Tensor f = Tensor::empty(DType::kF32, qc.shape());
        for (int64_t k = 0; k < qc.numel(); ++k)
          f.data<float>()[k] = dequantize_value(static_cast<int32_t>(qc.get_i64(k)), cq.s, cq.z);
        tiny.graph.initializers[e.inputs[i]] = f;
      } else {
        return std::nullopt;
      }
    }
    tiny.graph.nodes.push_back(e);
    ir::ValueInfo vo;
    vo.name = "y";
    tiny.graph.outputs.push_back(vo);
    ops::GraphShapes gs = ops::infer_graph_shapes(tiny);
    auto it = gs.constants.find("y");
    const int64_t entries = static_cast<int64_t>(xv.size());
    if (it == gs.constants.end() || it->second.dtype() != DType::kF32 || it->second.numel() != entries) {
      return std::nullopt;
    }
    const QRange yr = range_of(y.t);
    Tensor table = Tensor::empty(y.t, {entries});
    for (int64_t k = 0; k < entries; ++k) {
      const int32_t q = quantize_value(it->second.data<float>()[k], y.s, y.z, yr);
      if (y.t == DType::kI8) table.data<int8_t>()[k] = static_cast<int8_t>(q);
      else if (y.t == DType::kU8) table.data<uint8_t>()[k] = static_cast<uint8_t>(q);
      else table.data<int16_t>()[k] = static_cast<int16_t>(q);
    }
    return table;
  }

  // Unary op on an int8 tensor: a 256-entry table, computed by the float op itself (constant folding).
  std::string lower_lut(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor x, y;
    if (!n.has_input(0) || !dequantized(n.inputs[0], &x)) return "input is not a dequantized tensor";
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if (!n.inputs[i].empty() && !init(n.inputs[i]) && !dequantized(n.inputs[i], &y))
        return "operand '" + n.inputs[i] + "' is not constant";
    if (!requantized(n.outputs[0], &y, consumed)) return "output is not quantized";
    auto table = tabulate(n, x, y);
    if (!table) return "could not tabulate " + n.op_type;
    std::string tn = add_scalar(n.name + "_table", std::move(*table));
    made->push_back(make(n, "kaiwu", "QLut", {x.q, tn}, {y.q}));
    return "";
  }

  // True if the runtime has a kernel for `n` with its input 0 an int16 tensor of that input's inferred shape (the
  // op's infer and create are tried, reference and optimized). Shape-only ops need no probe.
  bool runs_on_int16(const ir::Node& n) {
    static const std::set<std::string> generic = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (generic.count(n.op_type)) return true;
    const ops::OpDef* def = ops::find_op("", n.op_type);
    if (!def) return false;
    if (!have_shapes_) {
      shapes_ = ops::infer_graph_shapes(src_);
      have_shapes_ = true;
    }
    auto d = shapes_.desc.find(n.inputs[0]);
    if (d == shapes_.desc.end()) return false;
    std::vector<ops::TensorDesc> in = {{DType::kI16, d->second.shape}};
    std::vector<const Tensor*> vals = {nullptr};
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      const Tensor* c = n.inputs[i].empty() ? nullptr : init(n.inputs[i]);
      auto di = shapes_.desc.find(n.inputs[i]);
      if (!n.inputs[i].empty() && !c && di == shapes_.desc.end()) return false;
      in.push_back(n.inputs[i].empty() ? ops::TensorDesc{} : (c ? ops::TensorDesc{c->dtype(), c->shape()} : di->second));
      vals.push_back(c);
    }
    ops::InferContext ctx(n, src_.opset(), in, vals);
    if (!def->infer(ctx).ok()) return false;
    for (bool ref : {true, false}) {
      ops::KernelInit ki{n, src_.opset(), in, ctx.outputs, vals, 1, ref};
      std::unique_ptr<ops::Kernel> k;
      if (!def->create(ki, &k).ok()) return false;
    }
    return true;
  }

  // Data movement and max pooling: the same op on the integer tensor when every output keeps the input's qparams.
  std::string lower_movement(const ir::Node& n, std::vector<ir::Node>* made, std::vector<size_t>* consumed) {
    QTensor x;
    if (!n.has_input(0) || !dequantized(n.inputs[0], &x)) return "input is not a dequantized tensor";
    if (n.op_type == "Resize" && n.attr_string("mode", "nearest") != "nearest") return "linear resize runs in float";
    if ((n.op_type == "MaxPool") && n.outputs.size() > 1 && !n.outputs[1].empty()) return "MaxPool indices used";
    if (x.t == DType::kI16 && !runs_on_int16(n)) return n.op_type + " has no int16 kernel";
    ir::Node c = n;
    c.inputs[0] = x.q;
    for (size_t i = 1; i < c.inputs.size(); ++i) {
      QTensor other;
      if (!c.inputs[i].empty() && dequantized(c.inputs[i], &other)) return "several quantized operands";
    }
    for (auto& o : c.outputs) {
      if (o.empty()) continue;
      QTensor y;
      if (!requantized(o, &y, consumed)) return "output '" + o + "' is not quantized";
      if (!y.same_params(x)) return "output qparams differ from the input's";
      o = y.q;
    }
    made->push_back(std::move(c));
    return "";
  }
};

}  // namespace

Status lower_to_fixed_point(const ir::Model& qdq, ir::Model* out, LowerReport* report) {
  if (report) report->nodes.clear();
  Lowerer l(qdq);
  return l.run(out, report);
}

Status expose_dequantized(const ir::Model& qdq, const std::vector<std::string>& names, ir::Model* fixed) {
  ir::Graph& g = fixed->graph;
  std::set<std::string> have;
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) have.insert(o);
  for (const auto& v : g.inputs) have.insert(v.name);
  std::map<std::string, const ir::Node*> quantizer;  // float tensor -> its QuantizeLinear in the QDQ model
  for (const auto& n : qdq.graph.nodes)
    if (ir::is_quantize_linear(n) && !n.inputs.empty() && !quantizer.count(n.inputs[0]))
      quantizer[n.inputs[0]] = &n;
  for (const auto& name : names) {
    auto it = quantizer.find(name);
    if (have.count(name) || it == quantizer.end() || !have.count(it->second->outputs[0])) continue;
    ir::Node dq;
    dq.name = ir::unique_value_name(g, name + "_dequantize_for_eval");
    dq.op_type = "DequantizeLinear";
    dq.inputs = {it->second->outputs[0]};
    for (size_t i = 1; i < it->second->inputs.size(); ++i) {
      const std::string& p = it->second->inputs[i];
      dq.inputs.push_back(p);
      if (!p.empty() && !g.initializers.count(p) && qdq.graph.initializers.count(p))
        g.initializers[p] = qdq.graph.initializers.at(p);
    }
    if (it->second->has_attr("axis")) dq.attrs["axis"] = *it->second->attr("axis");
    dq.outputs = {name};
    g.nodes.push_back(dq);
    have.insert(name);
  }
  return g.topo_sort();
}

}  // namespace kaiwu::quant
