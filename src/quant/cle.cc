// Cross-layer equalization of the float model (quant/refine.h).
#include <algorithm>
#include <cmath>
#include <map>

#include "ir/graph_edit.h"
#include "quant/refine.h"

namespace kaiwu::quant {

namespace {

struct Pair {
  size_t a, b;             // node indices of the two convolutions
  std::string wa, ba, wb;  // initializer names (ba may be empty)
};

// The initializer read by slot `s` of node n if it is a float32 constant read by no other slot of the graph.
const Tensor* own_initializer(const ir::Graph& g, const std::map<std::string, int>& reads, const ir::Node& n, int s) {
  if (!n.has_input(s)) return nullptr;
  auto it = g.initializers.find(n.inputs[s]);
  if (it == g.initializers.end() || it->second.dtype() != DType::kF32) return nullptr;
  auto r = reads.find(n.inputs[s]);
  return r != reads.end() && r->second == 1 ? &it->second : nullptr;
}

// Max |w| per channel: of axis 0 (out) or axis 1 (in) of a rank-4 weight.
std::vector<double> channel_ranges(const Tensor& w, int axis) {
  const int64_t d0 = w.dim(0), d1 = w.dim(1), inner = w.numel() / (d0 * d1);
  std::vector<double> r(axis == 0 ? d0 : d1, 0.0);
  const float* x = w.data<float>();
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j)
      for (int64_t k = 0; k < inner; ++k) {
        double& v = r[axis == 0 ? i : j];
        v = std::max(v, static_cast<double>(std::fabs(x[(i * d1 + j) * inner + k])));
      }
  return r;
}

}  // namespace

Status equalize_cross_layer(ir::Model* m, CleReport* report) {
  ir::Graph& g = m->graph;
  *report = CleReport();
  std::map<std::string, int> reads;
  for (const auto& n : g.nodes)
    for (const auto& v : n.inputs)
      if (!v.empty()) ++reads[v];
  for (const auto& o : g.outputs) reads[o.name] += 100;  // a graph output is never an interior tensor
  auto single_consumer = [&](const std::string& v) -> long {
    auto r = reads.find(v);
    if (r == reads.end() || r->second != 1) return -1;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (in == v) return static_cast<long>(i);
    return -1;
  };
  std::vector<Pair> pairs;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& a = g.nodes[i];
    if (a.op_type != "Conv" || a.outputs.size() != 1 || !a.domain.empty()) continue;
    const Tensor* wa = own_initializer(g, reads, a, 1);
    if (!wa || wa->rank() != 4) continue;
    if (a.has_input(2) && !own_initializer(g, reads, a, 2)) continue;
    long c = single_consumer(a.outputs[0]);
    if (c < 0) continue;
    const ir::Node* act = &g.nodes[c];
    long bi = c;
    if (act->op_type == "Relu" || act->op_type == "LeakyRelu") {
      if (act->outputs.size() != 1) continue;
      bi = single_consumer(act->outputs[0]);
      if (bi < 0) continue;
    } else if (act->op_type == "Clip") {
      const long nb = act->outputs.size() == 1 ? single_consumer(act->outputs[0]) : -1;
      if (nb >= 0 && g.nodes[nb].op_type == "Conv") ++report->skipped_clip;
      continue;
    } else if (act->op_type != "Conv") {
      continue;
    }
    const ir::Node& b = g.nodes[bi];
    if (b.op_type != "Conv" || !b.domain.empty() || b.attr_int("group", 1) != 1 || !b.has_input(1)) continue;
    const Tensor* wb = own_initializer(g, reads, b, 1);
    if (!wb || wb->rank() != 4 || wb->dim(1) != wa->dim(0)) continue;
    if (a.has_input(2) && g.initializers.at(a.inputs[2]).numel() != wa->dim(0)) continue;
    pairs.push_back({i, static_cast<size_t>(bi), a.inputs[1], a.has_input(2) ? a.inputs[2] : "", b.inputs[1]});
  }
  report->pairs = static_cast<int>(pairs.size());
  if (pairs.empty()) return Status::Ok();
  // Private copies of the weights (tensors share storage with other model copies).
  for (const auto& p : pairs)
    for (const std::string* nm : {&p.wa, &p.ba, &p.wb})
      if (!nm->empty()) g.initializers[*nm] = g.initializers.at(*nm).clone();
  auto imbalance = [&]() {
    double tot = 0;
    for (const auto& p : pairs) {
      const auto r1 = channel_ranges(g.initializers.at(p.wa), 0), r2 = channel_ranges(g.initializers.at(p.wb), 1);
      double s = 0;
      int cnt = 0;
      for (size_t c = 0; c < r1.size(); ++c)
        if (r1[c] > 0 && r2[c] > 0) s += std::fabs(std::log(r1[c] / r2[c])), ++cnt;
      tot += cnt ? s / cnt : 0;
    }
    return tot / pairs.size();
  };
  report->imbalance_before = imbalance();
  for (int round = 0; round < 20; ++round) {
    double worst = 0;
    for (const auto& p : pairs) {
      Tensor& wa = g.initializers.at(p.wa);
      Tensor& wb = g.initializers.at(p.wb);
      const auto r1 = channel_ranges(wa, 0), r2 = channel_ranges(wb, 1);
      const int64_t ch = wa.dim(0), inner_a = wa.numel() / ch, m = wb.dim(0), inner_b = wb.numel() / (m * ch);
      float* xa = wa.data<float>();
      float* xb = wb.data<float>();
      float* bias = p.ba.empty() ? nullptr : g.initializers.at(p.ba).data<float>();
      for (int64_t c = 0; c < ch; ++c) {
        if (!(r1[c] > 0) || !(r2[c] > 0)) continue;
        const double s = std::min(1e4, std::max(1e-4, std::sqrt(r1[c] / r2[c])));
        worst = std::max(worst, std::fabs(s - 1.0));
        const float inv = static_cast<float>(1.0 / s), fs = static_cast<float>(s);
        for (int64_t k = 0; k < inner_a; ++k) xa[c * inner_a + k] *= inv;
        if (bias) bias[c] *= inv;
        for (int64_t o = 0; o < m; ++o)
          for (int64_t k = 0; k < inner_b; ++k) xb[(o * ch + c) * inner_b + k] *= fs;
      }
    }
    report->rounds = round + 1;
    if (worst < 1e-3) break;
  }
  report->imbalance_after = imbalance();
  return Status::Ok();
}

}  // namespace kaiwu::quant
