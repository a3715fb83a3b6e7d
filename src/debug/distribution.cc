// Distributions of chosen nodes: histograms of outputs (float vs fully quantized, with the quantization range
// marked) and weights (float vs dequantized), per-channel ranges. Streaming: observers keep histograms only.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "calib/observer.h"
#include "debug/debugger.h"
#include "debug/svg.h"

namespace kaiwu::debug {

namespace {

// Rebins a streaming histogram into `bins` bins over [lo, hi] (bin centres; zeros at 0).
std::vector<double> rebin(const calib::HistogramObserver& h, double lo, double hi, int bins) {
  std::vector<double> out(bins, 0.0);
  auto put = [&](double x, double c) {
    if (c == 0) return;
    int i = static_cast<int>(std::floor((x - lo) / (hi - lo) * bins));
    out[std::clamp(i, 0, bins - 1)] += c;
  };
  put(0.0, static_cast<double>(h.zero_count()));
  if (h.has_range()) {
    const double w = h.bin_width();
    const int b = h.bins_per_side();
    const auto& counts = h.bins();
    for (size_t j = 0; j < counts.size(); ++j) put((static_cast<double>(j) - b + 0.5) * w, counts[j]);
  }
  return out;
}

Histogram plain_histogram(const Tensor& t, double lo, double hi, int bins) {
  Histogram h{lo, hi, std::vector<double>(bins, 0.0)};
  const float* x = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    int k = static_cast<int>(std::floor((x[i] - lo) / (hi - lo) * bins));
    h.counts[std::clamp(k, 0, bins - 1)] += 1;
  }
  return h;
}

const ir::Node* producer(const ir::Graph& g, const std::string& v) {
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs)
      if (o == v) return &n;
  return nullptr;
}

}  // namespace

Status distributions(const QdqAnalysis& a, Evaluator& ev, const std::vector<std::string>& nodes, int bins,
                     std::vector<NodeDistribution>* out) {
  out->clear();
  bins = std::clamp(bins, 8, 1024);
  const ir::Graph& g = a.qdq.graph;
  std::vector<std::string> float_names, quant_names;
  for (const auto& name : nodes) {
    const ir::Node* n = nullptr;
    for (const auto& x : g.nodes)
      if (x.name == name) n = &x;
    if (!n || n->outputs.empty()) return not_found("no node named '" + name + "' in the QDQ model");
    NodeDistribution d;
    d.node = name;
    d.op_type = n->op_type;
    d.tensor = n->outputs[0];
    std::string qname = d.tensor;
    for (const auto& q : g.nodes) {  // QuantizeLinear(tensor) -> DequantizeLinear: the quantized value
      if (q.op_type != "QuantizeLinear" || q.inputs.empty() || q.inputs[0] != d.tensor) continue;
      for (const auto& dq : g.nodes)
        if (dq.op_type == "DequantizeLinear" && !dq.inputs.empty() && dq.inputs[0] == q.outputs[0]) qname = dq.outputs[0];
      auto s = q.has_input(1) ? g.initializers.find(q.inputs[1]) : g.initializers.end();
      auto z = q.has_input(2) ? g.initializers.find(q.inputs[2]) : g.initializers.end();
      if (s != g.initializers.end() && s->second.numel() == 1) {
        d.act_quantized = true;
        d.act_scale = s->second.get_f64(0);
        DType zt = DType::kU8;
        if (z != g.initializers.end()) {
          d.act_zero_point = z->second.get_f64(0);
          zt = z->second.dtype();
        }
        d.act_qmin = zt == DType::kI8 ? -128 : zt == DType::kI16 ? -32768 : zt == DType::kU16 ? 0 : 0;
        d.act_qmax = zt == DType::kI8 ? 127 : zt == DType::kI16 ? 32767 : zt == DType::kU16 ? 65535 : 255;
      }
      break;
    }
    // The node's largest weight (rank >= 2 preferred).
    for (const auto& e : a.edges) {
      if (!e.weight || g.nodes[e.node].name != name) continue;
      auto fw = a.float_weights.find(e.float_source);
      const Tensor* wf = fw != a.float_weights.end() ? &fw->second : nullptr;
      if (!wf) {
        auto it = g.initializers.find(e.float_source);
        if (it != g.initializers.end()) wf = &it->second;
      }
      if (!wf || wf->dtype() != DType::kF32 || (d.has_weight && wf->rank() < 2)) continue;
      const ir::Node* dq = producer(g, g.nodes[e.node].inputs[e.input]);
      Tensor wq;
      if (!dq || !dequantize_constant(g, *dq, &wq).ok()) {
        if (!dq || dq->inputs.empty()) continue;
        // Q(float constant) -> DQ: quantize here is not needed for the plot; show the float only.
        wq = wf->clone();
      }
      d.has_weight = true;
      d.weight = e.item;
      double lo = 0, hi = 0;
      const float* x = wf->data<float>();
      for (int64_t i = 0; i < wf->numel(); ++i) lo = std::min<double>(lo, x[i]), hi = std::max<double>(hi, x[i]);
      d.w_absmax = std::max(-lo, hi);
      if (hi <= lo) hi = lo + 1e-6;
      d.w_float = plain_histogram(*wf, lo, hi, bins);
      d.w_quant = plain_histogram(wq, lo, hi, bins);
      d.w_cmin.clear();
      d.w_cmax.clear();
      if (wf->rank() >= 1) {
        const int64_t c = wf->dim(0), inner = c ? wf->numel() / c : 0;
        for (int64_t k = 0; k < c; ++k) {
          float mn = 0, mx = 0;
          for (int64_t i = 0; i < inner; ++i) mn = std::min(mn, x[k * inner + i]), mx = std::max(mx, x[k * inner + i]);
          d.w_cmin.push_back(mn);
          d.w_cmax.push_back(mx);
        }
      }
    }
    float_names.push_back(d.tensor);
    quant_names.push_back(qname);
    out->push_back(std::move(d));
  }
  // Stream the data: float values from the float model, quantized values from the fully quantized model.
  ir::Model full;
  KW_RETURN_IF_ERROR(build_partial(a, mask_all(a), &full));
  std::unique_ptr<runtime::GraphExecutor> qexec;
  KW_RETURN_IF_ERROR(make_executor(full, ev.threads(), &qexec));
  std::vector<calib::HistogramObserver> hf(out->size(), calib::HistogramObserver(1024)),
      hq(out->size(), calib::HistogramObserver(1024));
  std::vector<calib::MinMaxObserver> ch(out->size(), calib::MinMaxObserver(1));
  for (size_t k = 0; k < ev.num_samples(); ++k) {
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(ev.sample(k, &feeds));
    std::vector<Tensor> rf, rq;
    KW_RETURN_IF_ERROR(ev.float_exec().run(feeds, float_names, &rf).with_context("float model"));
    KW_RETURN_IF_ERROR(qexec->run(feeds, quant_names, &rq).with_context("quantized model"));
    for (size_t i = 0; i < out->size(); ++i) {
      if (rf[i].dtype() != DType::kF32) continue;
      KW_RETURN_IF_ERROR(hf[i].update(rf[i]));
      if (rq[i].dtype() == DType::kF32) KW_RETURN_IF_ERROR(hq[i].update(rq[i]));
      if (rf[i].rank() >= 2) KW_RETURN_IF_ERROR(ch[i].update(rf[i]));
    }
  }
  for (size_t i = 0; i < out->size(); ++i) {
    NodeDistribution& d = (*out)[i];
    d.act_min = std::min(hf[i].min(), hq[i].min());
    d.act_max = std::max(hf[i].max(), hq[i].max());
    double lo = d.act_min, hi = d.act_max;
    if (d.act_quantized) {
      lo = std::min(lo, (d.act_qmin - d.act_zero_point) * d.act_scale);
      hi = std::max(hi, (d.act_qmax - d.act_zero_point) * d.act_scale);
    }
    if (hi <= lo) hi = lo + 1e-6;
    d.act_float = {lo, hi, rebin(hf[i], lo, hi, bins)};
    d.act_quant = {lo, hi, rebin(hq[i], lo, hi, bins)};
    d.act_cmin = ch[i].channel_min();
    d.act_cmax = ch[i].channel_max();
  }
  return Status::Ok();
}

std::string distribution_svg(const NodeDistribution& d) {
  std::vector<svg::Marker> m = {{"min", d.act_min}, {"max", d.act_max}};
  if (d.act_quantized) {
    m.push_back({"q-min", (d.act_qmin - d.act_zero_point) * d.act_scale});
    m.push_back({"q-max", (d.act_qmax - d.act_zero_point) * d.act_scale});
  }
  std::string s = svg::histogram(d.node + " output '" + d.tensor + "'", d.act_float.lo, d.act_float.hi,
                                 {{"float", d.act_float.counts}, {"quantized", d.act_quant.counts}}, m, true);
  if (d.has_weight)
    s += svg::histogram(d.node + " weight '" + d.weight + "'", d.w_float.lo, d.w_float.hi,
                        {{"float", d.w_float.counts}, {"dequantized", d.w_quant.counts}},
                        {{"-max|w|", -d.w_absmax}, {"max|w|", d.w_absmax}}, true);
  return s;
}

std::string channel_range_svg(const NodeDistribution& d) {
  std::string s;
  if (!d.act_cmin.empty()) {
    std::vector<svg::Marker> h;
    if (d.act_quantized) {
      h.push_back({"q-min", (d.act_qmin - d.act_zero_point) * d.act_scale});
      h.push_back({"q-max", (d.act_qmax - d.act_zero_point) * d.act_scale});
    }
    s += svg::channel_ranges(d.node + ": output range per channel (axis 1)", d.act_cmin, d.act_cmax, h);
  }
  if (!d.w_cmin.empty())
    s += svg::channel_ranges(d.node + ": weight range per output channel", d.w_cmin, d.w_cmax, {});
  return s;
}

std::string distribution_text(const NodeDistribution& d) {
  std::ostringstream os;
  os << "node " << d.node << " (" << d.op_type << "), output " << d.tensor << ": min " << d.act_min << ", max "
     << d.act_max;
  if (d.act_quantized)
    os << ", scale " << d.act_scale << ", zero point " << d.act_zero_point << ", range ["
       << (d.act_qmin - d.act_zero_point) * d.act_scale << ", " << (d.act_qmax - d.act_zero_point) * d.act_scale << "]";
  else
    os << " (not quantized)";
  if (!d.act_cmin.empty()) {
    float w = 0;
    for (size_t c = 0; c < d.act_cmin.size(); ++c) w = std::max(w, d.act_cmax[c] - d.act_cmin[c]);
    os << ", " << d.act_cmin.size() << " channels, widest channel range " << w;
  }
  if (d.has_weight) os << "; weight " << d.weight << " max|w| " << d.w_absmax << " over " << d.w_cmin.size() << " channels";
  return os.str();
}

}  // namespace kaiwu::debug
