// Layer statistics of the calibration refinements (compiler/calib_refine.h): the float inputs of every Conv / Gemm
// (mean map, sampled input patches), bias correction and AdaRound-family rounding from them.
#include <algorithm>
#include <cmath>
#include <random>

#include "compiler/calib_refine.h"
#include "core/parallel.h"
#include "quant/refine.h"

namespace kaiwu::compiler {

namespace {

constexpr int64_t kMaxPatchLen = 2304;  // AdaRound: larger layers (H of kg^2 doubles) are skipped

int weight_axis(const ir::Node& n) {
  if (n.op_type == "Conv") return 0;
  if (n.op_type == "Gemm") return n.attr_int("transB", 0) ? 0 : 1;
  return -1;
}

const Tensor* weight_of(const ir::Graph& g, const ir::Node& n) {
  if (!n.has_input(1)) return nullptr;
  auto it = g.initializers.find(n.inputs[1]);
  return it == g.initializers.end() || it->second.dtype() != DType::kF32 ? nullptr : &it->second;
}

// The layer geometry from the node and its weight; input dims filled later from the first sample.
bool layer_of(const ir::Graph& g, size_t i, LayerStats* L) {
  const ir::Node& n = g.nodes[i];
  if (!n.domain.empty() || !n.has_input(0)) return false;
  const Tensor* w = weight_of(g, n);
  if (!w) return false;
  L->node = i;
  L->name = n.name;
  if (n.op_type == "Conv") {
    if (w->rank() != 4) return false;
    L->m = w->dim(0);
    L->kh = w->dim(2);
    L->kw = w->dim(3);
    L->group = n.attr_int("group", 1);
    auto st = n.attr_ints("strides", {1, 1}), dl = n.attr_ints("dilations", {1, 1});
    if (st.size() != 2 || dl.size() != 2 || L->group < 1) return false;
    L->sh = st[0], L->sw = st[1], L->dh = dl[0], L->dw = dl[1];
    L->kg = w->dim(1) * L->kh * L->kw;
    return true;
  }
  if (n.op_type == "Gemm") {
    if (w->rank() != 2 || n.attr_int("transA", 0) != 0) return false;
    if (n.attr_float("alpha", 1.f) != 1.f || n.attr_float("beta", 1.f) != 1.f) return false;
    L->gemm = true;
    const bool tb = n.attr_int("transB", 0) != 0;
    L->m = tb ? w->dim(0) : w->dim(1);
    L->kg = tb ? w->dim(1) : w->dim(0);
    return true;
  }
  return false;
}

// Fills input dims, pads and output dims from the first input tensor; false when they do not fit the weight.
bool set_input_shape(const ir::Node& n, const Tensor& x, LayerStats* L) {
  if (L->gemm) {
    if (x.rank() != 2 || x.dim(1) != L->kg) return false;
    L->cin = L->kg;
    return true;
  }
  if (x.rank() != 4 || x.dim(1) % L->group != 0 || x.dim(1) / L->group * L->kh * L->kw != L->kg) return false;
  if (L->m % L->group != 0) return false;
  L->cin = x.dim(1), L->h = x.dim(2), L->w = x.dim(3);
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  const int64_t ekh = L->dh * (L->kh - 1) + 1, ekw = L->dw * (L->kw - 1) + 1;
  if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    L->oh = (L->h + L->sh - 1) / L->sh, L->ow = (L->w + L->sw - 1) / L->sw;
    const int64_t th = std::max<int64_t>(0, (L->oh - 1) * L->sh + ekh - L->h);
    const int64_t tw = std::max<int64_t>(0, (L->ow - 1) * L->sw + ekw - L->w);
    const bool up = ap == "SAME_UPPER";
    L->pt = up ? th / 2 : th - th / 2, L->pb = th - L->pt;
    L->pl = up ? tw / 2 : tw - tw / 2, L->pr = tw - L->pl;
  } else {
    auto pads = n.attr_ints("pads", {0, 0, 0, 0});
    if (ap == "VALID") pads = {0, 0, 0, 0};
    if (pads.size() != 4) return false;
    L->pt = pads[0], L->pl = pads[1], L->pb = pads[2], L->pr = pads[3];
    L->oh = (L->h + L->pt + L->pb - ekh) / L->sh + 1;
    L->ow = (L->w + L->pl + L->pr - ekw) / L->sw + 1;
  }
  return L->oh > 0 && L->ow > 0;
}

// One input patch of group gi at output position (y, x) of map `in` [cin, h, w] into p[kg].
void patch(const LayerStats& L, const float* in, int64_t gi, int64_t y, int64_t x, double* p) {
  const int64_t cg = L.cin / L.group;
  int64_t k = 0;
  for (int64_t c = 0; c < cg; ++c) {
    const float* plane = in + (gi * cg + c) * L.h * L.w;
    for (int64_t i = 0; i < L.kh; ++i) {
      const int64_t iy = y * L.sh - L.pt + i * L.dh;
      for (int64_t j = 0; j < L.kw; ++j, ++k) {
        const int64_t ix = x * L.sw - L.pl + j * L.dw;
        p[k] = iy >= 0 && iy < L.h && ix >= 0 && ix < L.w ? plane[iy * L.w + ix] : 0.0;
      }
    }
  }
}

// Accumulates one input map (batch entry) into L.
void accumulate(LayerStats& L, const float* in, int patches_per_map, uint64_t seed) {
  const int64_t n = L.cin * L.h * L.w;
  if (L.gemm) {
    for (int64_t k = 0; k < L.cin; ++k) L.mean_sum[k] += in[k];
  } else {
    for (int64_t k = 0; k < n; ++k) L.mean_sum[k] += in[k];
  }
  ++L.samples;
  if (L.hsum.empty()) return;
  const int64_t kg = L.kg;
  std::vector<double> p(kg);
  auto add = [&](int64_t gi) {
    double* hs = L.hsum.data() + gi * kg * kg;
    double* xs = L.xsum.data() + gi * kg;
    for (int64_t a = 0; a < kg; ++a) {
      const double pa = p[a];
      xs[a] += pa;
      if (pa == 0.0) continue;
      double* row = hs + a * kg;
      for (int64_t b = a; b < kg; ++b) row[b] += pa * p[b];
    }
  };
  if (L.gemm) {
    for (int64_t k = 0; k < kg; ++k) p[k] = in[k];
    add(0);
    ++L.patches;
    return;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pos(0, L.oh * L.ow - 1);
  for (int s = 0; s < patches_per_map; ++s) {
    const int64_t q = pos(rng), y = q / L.ow, x = q % L.ow;
    for (int64_t gi = 0; gi < L.group; ++gi) {
      patch(L, in, gi, y, x, p.data());
      add(gi);
    }
    ++L.patches;
  }
}

// The dequantized minus float weight, W_q - W, for quantization `qw` of `w`.
std::vector<float> weight_error(const Tensor& w, const quant::QuantizedWeight& qw) {
  const int64_t n = w.numel();
  std::vector<float> d(n);
  const float* x = w.data<float>();
  const int8_t* q = qw.q.data<int8_t>();
  int64_t outer = 1, ch = 1, inner = n;
  if (qw.axis >= 0) {
    for (int i = 0; i < qw.axis; ++i) outer *= w.dim(i);
    ch = w.dim(qw.axis);
    inner = n / (outer * ch);
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * ch + c) * inner + i;
        d[k] = static_cast<float>(q[k]) * qw.scales[c] - x[k];
      }
  return d;
}

Status quantized_weight_of(const ir::Graph& g, const ir::Node& n, const quant::QuantOptions& q,
                           quant::QuantizedWeight* out) {
  const Tensor* w = weight_of(g, n);
  if (!w) return invalid_argument(n.describe() + ": weight is not a float initializer");
  const int axis = q.per_channel_weights ? weight_axis(n) : -1;
  auto it = q.given_weights.find(n.name);
  if (it != q.given_weights.end() && it->second.axis == axis && it->second.q.shape() == w->shape()) {
    *out = it->second;
    return Status::Ok();
  }
  return quant::quantize_weight(*w, axis, q.weight_range, out).with_context(n.describe());
}

}  // namespace

void LayerCollector::init(const ir::Model& m, size_t samples, int patches) {
  model_ = &m;
  active_ = true;
  seen_ = 0;
  layers_.clear();
  names_.clear();
  const ir::Graph& g = m.graph;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    LayerStats L;
    if (layer_of(g, i, &L)) layers_.push_back(L);
  }
  for (const auto& L : layers_) {
    const std::string& v = g.nodes[L.node].inputs[0];
    if (std::find(names_.begin(), names_.end(), v) == names_.end()) names_.push_back(v);
  }
  ok_.assign(layers_.size(), true);
  per_map_ = samples == 0 || patches <= 0 ? 0 : static_cast<int>((patches + samples - 1) / samples);
  if (patches > 0 && per_map_ == 0) per_map_ = 1;
}

Status LayerCollector::add(size_t sample, const std::vector<std::string>& names, const std::vector<Tensor>& values) {
  if (!active_) return Status::Ok();
  const ir::Graph& g = model_->graph;
  std::map<std::string, const Tensor*> by_name;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) by_name[names[i]] = &values[i];
  std::vector<const Tensor*> x(layers_.size(), nullptr);
  for (size_t k = 0; k < layers_.size(); ++k) {
    auto it = by_name.find(g.nodes[layers_[k].node].inputs[0]);
    if (it == by_name.end()) {
      ok_[k] = false;  // not observed (e.g. not float): the layer gets no statistics
      continue;
    }
    x[k] = it->second;
    if (seen_ == 0) {
      LayerStats& L = layers_[k];
      ok_[k] = x[k]->dtype() == DType::kF32 && set_input_shape(g.nodes[L.node], *x[k], &L);
      if (!ok_[k]) continue;
      L.mean_sum.assign(L.gemm ? L.cin : L.cin * L.h * L.w, 0.0);
      if (per_map_ > 0 && L.kg <= kMaxPatchLen) {
        L.hsum.assign(L.group * L.kg * L.kg, 0.0);
        L.xsum.assign(L.group * L.kg, 0.0);
      }
    }
  }
  parallel_for(static_cast<int64_t>(layers_.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      if (!ok_[k] || !x[k]) continue;
      LayerStats& L = layers_[k];
      const int64_t per = L.gemm ? L.cin : L.cin * L.h * L.w;
      if (x[k]->numel() % per != 0 || x[k]->dtype() != DType::kF32) continue;
      for (int64_t bi = 0; bi < x[k]->numel() / per; ++bi)
        accumulate(L, x[k]->data<float>() + bi * per, per_map_,
                   0x9e3779b97f4a7c15ull * (sample + 1) + static_cast<uint64_t>(k) * 7919 + bi);
    }
  });
  ++seen_;
  return Status::Ok();
}

std::vector<LayerStats> LayerCollector::take() {
  std::vector<LayerStats> r;
  for (size_t k = 0; k < layers_.size(); ++k)
    if (ok_[k] && layers_[k].samples > 0) r.push_back(std::move(layers_[k]));
  layers_.clear();
  active_ = false;
  return r;
}

Status collect_layer_stats(const ir::Model& m, runtime::GraphExecutor& float_exec,
                           const calib::CalibrationDataset& data, const std::vector<size_t>& samples, int patches,
                           std::vector<LayerStats>* out) {
  LayerCollector c;
  c.init(m, samples.size(), patches);
  NamedTensors feeds;
  std::vector<Tensor> res;
  for (size_t si : samples) {
    KW_RETURN_IF_ERROR(data.sample(si, &feeds));
    KW_RETURN_IF_ERROR(float_exec.run(feeds, c.tensor_names(), &res)
                           .with_context("layer statistics, sample " + std::to_string(si)));
    KW_RETURN_IF_ERROR(c.add(si, c.tensor_names(), res));
  }
  *out = c.take();
  return Status::Ok();
}

Status bias_corrections(const ir::Model& m, const std::vector<LayerStats>& stats, const quant::QuantOptions& q,
                        std::map<std::string, std::vector<float>>* out) {
  const ir::Graph& g = m.graph;
  out->clear();
  for (const auto& L : stats) {
    const ir::Node& n = g.nodes[L.node];
    const Tensor* w = weight_of(g, n);
    if (!w) continue;
    quant::QuantizedWeight qw;
    KW_RETURN_IF_ERROR(quantized_weight_of(g, n, q, &qw));
    const std::vector<float> d = weight_error(*w, qw);
    std::vector<float> delta(L.m, 0.f);
    const double inv_n = 1.0 / static_cast<double>(L.samples);
    if (L.gemm) {
      const bool tb = n.attr_int("transB", 0) != 0;
      for (int64_t o = 0; o < L.m; ++o) {
        double s = 0;
        for (int64_t k = 0; k < L.cin; ++k) s += d[tb ? o * L.cin + k : k * L.m + o] * L.mean_sum[k] * inv_n;
        delta[o] = static_cast<float>(-s);
      }
    } else {
      // S[c][i][j]: the mean input summed over the output positions that tap (c, i, j); then the mean output
      // shift of channel o is sum_{c,i,j} dW[o,c,i,j] S[g(o)*cg + c][i][j] / (oh * ow).
      const int64_t kk = L.kh * L.kw, cg = L.cin / L.group, mg = L.m / L.group;
      std::vector<double> S(L.cin * kk, 0.0);
      parallel_for(L.cin, 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) {
          const double* plane = L.mean_sum.data() + c * L.h * L.w;
          for (int64_t i = 0; i < L.kh; ++i)
            for (int64_t j = 0; j < L.kw; ++j) {
              double s = 0;
              for (int64_t y = 0; y < L.oh; ++y) {
                const int64_t iy = y * L.sh - L.pt + i * L.dh;
                if (iy < 0 || iy >= L.h) continue;
                for (int64_t x = 0; x < L.ow; ++x) {
                  const int64_t ix = x * L.sw - L.pl + j * L.dw;
                  if (ix >= 0 && ix < L.w) s += plane[iy * L.w + ix];
                }
              }
              S[c * kk + i * L.kw + j] = s * inv_n / static_cast<double>(L.oh * L.ow);
            }
        }
      });
      for (int64_t o = 0; o < L.m; ++o) {
        const int64_t gi = o / mg;
        double s = 0;
        for (int64_t k = 0; k < L.kg; ++k) s += d[o * L.kg + k] * S[gi * cg * kk + k];
        delta[o] = static_cast<float>(-s);
      }
    }
    (*out)[n.name] = std::move(delta);
  }
  return Status::Ok();
}

Status adaround_weights(const ir::Model& m, const std::vector<LayerStats>& stats, const quant::QuantOptions& q,
                        bool covariance, int passes, std::map<std::string, quant::QuantizedWeight>* out,
                        double* mse_before, double* mse_after) {
  const ir::Graph& g = m.graph;
  out->clear();
  double before = 0, after = 0;
  for (const auto& L : stats) {
    if (L.hsum.empty() || L.patches == 0) continue;
    const ir::Node& n = g.nodes[L.node];
    const Tensor* w = weight_of(g, n);
    if (!w || !q.per_channel_weights) continue;
    quant::QuantOptions nearest = q;
    nearest.given_weights.clear();
    quant::QuantizedWeight qw;
    KW_RETURN_IF_ERROR(quantized_weight_of(g, n, nearest, &qw));
    const int64_t kg = L.kg, mg = L.m / L.group;
    // H per group: mean of x x^T (or covariance), symmetrized, damped by 1% (10% when patches < 2 kg) of the mean
    // diagonal so that few samples do not overfit.
    std::vector<double> H(L.group * kg * kg);
    for (int64_t gi = 0; gi < L.group; ++gi) {
      double* h = H.data() + gi * kg * kg;
      const double* hs = L.hsum.data() + gi * kg * kg;
      const double* xs = L.xsum.data() + gi * kg;
      const double inv = 1.0 / static_cast<double>(L.patches);
      double tr = 0;
      for (int64_t a = 0; a < kg; ++a)
        for (int64_t b = a; b < kg; ++b) {
          double v = hs[a * kg + b] * inv;
          if (covariance) v -= xs[a] * inv * xs[b] * inv;
          h[a * kg + b] = h[b * kg + a] = v;
        }
      for (int64_t a = 0; a < kg; ++a) tr += h[a * kg + a];
      const double damp = (L.patches < 2 * kg ? 0.1 : 0.01) * tr / static_cast<double>(kg);
      for (int64_t a = 0; a < kg; ++a) h[a * kg + a] += damp;
    }
    const bool tb = !L.gemm || n.attr_int("transB", 0) != 0;  // channel o's weights contiguous
    std::vector<double> eb(L.m, 0.0), ea(L.m, 0.0);
    int8_t* qd = qw.q.data<int8_t>();
    const float* wd = w->data<float>();
    parallel_for(L.m, 1, [&](int64_t b, int64_t e) {
      std::vector<float> wc(kg);
      std::vector<int8_t> qc(kg);
      for (int64_t o = b; o < e; ++o) {
        for (int64_t k = 0; k < kg; ++k) {
          const int64_t idx = tb ? o * kg + k : k * L.m + o;
          wc[k] = wd[idx];
          qc[k] = qd[idx];
        }
        const double* h = H.data() + (o / mg) * kg * kg;
        const float s = qw.scales[o];
        eb[o] = quant::rounding_error(wc.data(), qc.data(), kg, s, h);
        quant::refine_rounding(wc.data(), kg, s, h, passes, qc.data());
        ea[o] = quant::rounding_error(wc.data(), qc.data(), kg, s, h);
        for (int64_t k = 0; k < kg; ++k) qd[tb ? o * kg + k : k * L.m + o] = qc[k];
      }
    });
    for (int64_t o = 0; o < L.m; ++o) before += eb[o], after += ea[o];
    (*out)[n.name] = std::move(qw);
  }
  if (mse_before) *mse_before = before;
  if (mse_after) *mse_after = after;
  return Status::Ok();
}

}  // namespace kaiwu::compiler
