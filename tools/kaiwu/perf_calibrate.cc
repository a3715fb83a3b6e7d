#include "perf_calibrate.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

#include "kernels/cpu_info.h"
#include "runtime/graph_executor.h"

namespace kaiwu::cli {
namespace {

using Clock = std::chrono::steady_clock;

// One single-node (or chain) graph to time, with its feeds.
struct Case {
  std::string name, family;
  ir::Model model;
  NamedTensors feeds;
  std::string node = "n";  // the node to time ("" : the whole frame divided by `chain` nodes)
  int chain = 1;
  bool cold = false;  // evict the caches before every timed run (as the other layers of a big model do)
};

// Writes a buffer of 4 MB (a few per-core L2 caches, well within the L3), evicting the code and data of the
// previous run from L1/L2 as the other layers of a big model do (its weights then still come from the L3).
void evict_caches() {
  static std::vector<uint8_t> junk(4 << 20);
  static uint8_t round = 0;
  ++round;
  for (size_t i = 0; i < junk.size(); i += 64) junk[i] = static_cast<uint8_t>(junk[i] + round);
}

// The per-core L2 cache size from sysfs (bytes), 0 when unknown.
int64_t l2_cache_bytes() {
  for (int idx = 0; idx < 8; ++idx) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    std::ifstream level(dir + "level"), size(dir + "size");
    int lv = 0;
    std::string text;
    if (!(level >> lv) || !(size >> text)) continue;
    if (lv != 2 || text.empty()) continue;
    int64_t v = std::atoll(text.c_str());
    if (text.back() == 'K') v <<= 10;
    else if (text.back() == 'M') v <<= 20;
    return v;
  }
  return 0;
}

Tensor random_tensor(DType t, const Shape& s, std::mt19937* rng) {
  Tensor x = Tensor::empty(t, s);
  const int64_t n = x.numel();
  if (t == DType::kF32) {
    std::uniform_real_distribution<float> d(-1.f, 1.f);
    for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = d(*rng);
  } else if (t == DType::kI32) {
    std::uniform_int_distribution<int32_t> d(-1000, 1000);
    for (int64_t i = 0; i < n; ++i) x.data<int32_t>()[i] = d(*rng);
  } else {
    std::uniform_int_distribution<int> d(t == DType::kI8 ? -100 : 0, t == DType::kI8 ? 100 : 255);
    for (int64_t i = 0; i < n; ++i) static_cast<uint8_t*>(x.raw())[i] = static_cast<uint8_t>(d(*rng));
  }
  return x;
}

// Builds single-node cases: inputs are (name, tensor, constant?) in order; "" is an omitted optional input.
class CaseBuilder {
 public:
  explicit CaseBuilder(std::mt19937* rng) : rng_(rng) {}
  Case make(const std::string& name, const std::string& family, const std::string& domain, const std::string& op,
            const std::vector<std::pair<Tensor, bool>>& ins, std::map<std::string, ir::Attribute> attrs = {}) {
    Case c;
    c.name = name;
    c.family = family;
    c.model.opsets[""] = 13;
    c.model.opsets["kaiwu"] = 1;
    c.model.graph.name = name;
    ir::Node n;
    n.name = "n";
    n.op_type = op;
    n.domain = domain;
    n.attrs = std::move(attrs);
    for (size_t i = 0; i < ins.size(); ++i) {
      if (!ins[i].first.defined()) {
        n.inputs.push_back("");
        continue;
      }
      const std::string v = "in" + std::to_string(i);
      n.inputs.push_back(v);
      if (ins[i].second) {
        c.model.graph.initializers[v] = ins[i].first;
      } else {
        ir::ValueInfo vi;
        vi.name = v;
        vi.dtype = ins[i].first.dtype();
        vi.has_shape = true;
        for (int64_t d : ins[i].first.shape()) vi.dims.push_back(ir::Dim::fixed(d));
        c.model.graph.inputs.push_back(vi);
        c.feeds.emplace_back(v, ins[i].first);
      }
    }
    n.outputs = {"y"};
    ir::ValueInfo vo;
    vo.name = "y";
    c.model.graph.outputs.push_back(vo);
    c.model.graph.nodes.push_back(n);
    return c;
  }
  Tensor r(DType t, const Shape& s) { return random_tensor(t, s, rng_); }

 private:
  std::mt19937* rng_;
};

template <typename T> Tensor scalar(T v) { return Tensor::from_vector<T>({v}); }
ir::Attribute ints(std::vector<int64_t> v) { return ir::Attribute::make_ints(std::move(v)); }
ir::Attribute one(int64_t v) { return ir::Attribute::make_int(v); }

std::vector<Case> make_cases(std::mt19937* rng) {
  CaseBuilder b(rng);
  std::vector<Case> cs;
  const DType u8 = DType::kU8, i8 = DType::kI8, f32 = DType::kF32, i32 = DType::kI32;
  auto qconv = [&](const std::string& name, const std::string& fam, Shape x, Shape w, int64_t group, int64_t pad) {
    std::map<std::string, ir::Attribute> a = {{"group", one(group)}, {"pads", ints({pad, pad, pad, pad})}};
    return b.make(name, fam, "", "QLinearConv",
                  {{b.r(u8, x), false}, {scalar(0.02f), true}, {scalar<uint8_t>(128), true}, {b.r(i8, w), true},
                   {scalar(0.01f), true}, {scalar<int8_t>(0), true}, {scalar(0.05f), true},
                   {scalar<uint8_t>(128), true}, {b.r(i32, {w[0]}), true}},
                  a);
  };
  auto fconv = [&](const std::string& name, const std::string& fam, Shape x, Shape w, int64_t group, int64_t pad) {
    std::map<std::string, ir::Attribute> a = {{"group", one(group)}, {"pads", ints({pad, pad, pad, pad})}};
    return b.make(name, fam, "", "Conv", {{b.r(f32, x), false}, {b.r(f32, w), true}, {b.r(f32, {w[0]}), true}}, a);
  };
  cs.push_back(qconv("conv_int8 3x3 64->64 56x56", "conv_int8", {1, 64, 56, 56}, {64, 64, 3, 3}, 1, 1));
  cs.push_back(qconv("conv_int8 1x1 64->256 56x56", "conv_int8", {1, 64, 56, 56}, {256, 64, 1, 1}, 1, 0));
  cs.push_back(qconv("dwconv_int8 3x3 192 40x40", "dwconv_int8", {1, 192, 40, 40}, {192, 1, 3, 3}, 192, 1));
  // Fixed costs of a call (call_us, cold_call_us, row_ns): the same kernels on images with nearly no work.
  cs.push_back(qconv("call conv_int8 1x1 64->64 2x2", "call", {1, 64, 2, 2}, {64, 64, 1, 1}, 1, 0));
  cs.push_back(qconv("call conv_int8 1x1 64->64 2x2 cold", "call", {1, 64, 2, 2}, {64, 64, 1, 1}, 1, 0));
  cs.back().cold = true;
  cs.push_back(qconv("call dwconv_int8 3x3 64 1x1", "call", {1, 64, 1, 1}, {64, 1, 3, 3}, 64, 1));
  cs.push_back(qconv("call dwconv_int8 3x3 64 1x1 cold", "call", {1, 64, 1, 1}, {64, 1, 3, 3}, 64, 1));
  cs.back().cold = true;
  cs.push_back(qconv("call dwconv_int8 3x3 16 256x4", "call", {1, 16, 256, 4}, {16, 1, 3, 3}, 16, 1));
  cs.push_back(qconv("call dwconv_int8 3x3 16 4x256", "call", {1, 16, 4, 256}, {16, 1, 3, 3}, 16, 1));
  cs.push_back(fconv("conv_fp32 3x3 64->64 56x56", "conv_fp32", {1, 64, 56, 56}, {64, 64, 3, 3}, 1, 1));
  cs.push_back(fconv("conv_fp32 1x1 64->256 56x56", "conv_fp32", {1, 64, 56, 56}, {256, 64, 1, 1}, 1, 0));
  cs.push_back(fconv("dwconv_fp32 3x3 96 56x56", "dwconv_fp32", {1, 96, 56, 56}, {96, 1, 3, 3}, 96, 1));
  cs.push_back(b.make("deconv_fp32 2x2/2 24->24 80x80", "deconv_fp32", "", "ConvTranspose",
                      {{b.r(f32, {1, 24, 80, 80}), false}, {b.r(f32, {24, 24, 2, 2}), false}},
                      {{"strides", ints({2, 2})}}));
  cs.push_back(b.make("gemm_fp32 1x1024 x 1024x1000", "gemm_fp32", "", "Gemm",
                      {{b.r(f32, {1, 1024}), false}, {b.r(f32, {1000, 1024}), true}, {b.r(f32, {1000}), true}},
                      {{"transB", one(1)}}));
  const Shape big = {1, 64, 112, 112};
  cs.push_back(b.make("eltwise Add fp32", "eltwise", "", "Add", {{b.r(f32, big), false}, {b.r(f32, big), false}}));
  cs.push_back(b.make("transcendental Sigmoid fp32", "transcendental", "", "Sigmoid", {{b.r(f32, big), false}}));
  cs.push_back(b.make("eltwise_q kaiwu.QAdd u8", "eltwise_q", "kaiwu", "QAdd",
                      {{b.r(u8, {1, 56, 56, 256}), false}, {scalar(0.02f), true}, {scalar<uint8_t>(128), true},
                       {b.r(u8, {1, 56, 56, 256}), false}, {scalar(0.03f), true}, {scalar<uint8_t>(120), true},
                       {scalar(0.04f), true}, {scalar<uint8_t>(128), true}}));
  cs.push_back(b.make("transpose fp32 NCHW->NHWC", "transpose", "", "Transpose", {{b.r(f32, big), false}},
                      {{"perm", ints({0, 2, 3, 1})}}));
  cs.push_back(b.make("copy Concat fp32", "copy", "", "Concat",
                      {{b.r(f32, {1, 32, 112, 112}), false}, {b.r(f32, {1, 32, 112, 112}), false}},
                      {{"axis", one(1)}}));
  const Tensor scales = Tensor::from_vector<float>({1.f, 1.f, 2.f, 2.f});
  cs.push_back(b.make("resize nearest x2 fp32", "resize", "", "Resize",
                      {{b.r(f32, {1, 96, 80, 80}), false}, {Tensor(), false}, {scales, true}},
                      {{"mode", ir::Attribute::make_string("nearest")}}));
  cs.push_back(b.make("resize_q nearest x2 u8", "resize_q", "", "Resize",
                      {{b.r(u8, {1, 96, 80, 80}), false}, {Tensor(), false}, {scales, true}},
                      {{"mode", ir::Attribute::make_string("nearest")}}));
  std::map<std::string, ir::Attribute> pool = {
      {"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}};
  cs.push_back(b.make("pool MaxPool 3x3/2 fp32", "pool", "", "MaxPool", {{b.r(f32, big), false}}, pool));
  cs.push_back(b.make("pool_q MaxPool 3x3/2 u8", "pool_q", "", "MaxPool", {{b.r(u8, big), false}}, pool));
  cs.push_back(b.make("global_pool GlobalAveragePool fp32", "global_pool", "", "GlobalAveragePool",
                      {{b.r(f32, {1, 256, 56, 56}), false}}));
  cs.push_back(b.make("reduce Softmax fp32", "reduce", "", "Softmax", {{b.r(f32, {64, 4096}), false}},
                      {{"axis", one(-1)}}));
  // The per-node overhead: a chain of 32 Relu nodes on 16 floats, timed as whole frames.
  Case chain = b.make("overhead 32 tiny nodes", "overhead", "", "Relu", {{b.r(f32, {1, 16}), false}});
  chain.model.graph.nodes[0].outputs = {"r0"};
  for (int i = 1; i < 32; ++i) {
    ir::Node n = chain.model.graph.nodes[0];
    n.name = "n" + std::to_string(i);
    n.inputs = {"r" + std::to_string(i - 1)};
    n.outputs = {i == 31 ? "y" : "r" + std::to_string(i)};
    chain.model.graph.nodes.push_back(n);
  }
  chain.node = "";
  chain.chain = 32;
  cs.push_back(std::move(chain));
  return cs;
}

// Minimum time (ms) of the case's node (or frame / chain) over repeated runs on `threads` threads.
Status time_case(const Case& c, int threads, double seconds, double* ms) {
  std::unique_ptr<runtime::GraphExecutor> ex;
  SessionOptions so;
  so.num_threads = threads;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(c.model, so, &ex).with_context(c.name));
  std::vector<Tensor> outs;
  for (int i = 0; i < 3; ++i) KW_RETURN_IF_ERROR(ex->run(c.feeds, {}, &outs).with_context(c.name));
  ex->enable_profiling(!c.node.empty());
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 5 ||
         (samples.size() < 400 && std::chrono::duration<double>(Clock::now() - start).count() < seconds)) {
    if (c.cold) evict_caches();
    ex->reset_profile();
    const auto t0 = Clock::now();
    KW_RETURN_IF_ERROR(ex->run(c.feeds, {}, &outs).with_context(c.name));
    const double frame = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (c.node.empty()) {
      samples.push_back(frame / c.chain);
      continue;
    }
    double t = -1;
    if (samples.empty() && std::getenv("KAIWU_CALIBRATE_DEBUG"))
      for (const auto& p : ex->profile())
        std::printf("    [%s] %s %s %s %.4f ms\n", c.name.c_str(), p.node.c_str(), p.op_type.c_str(), p.impl.c_str(),
                    p.total_ms);
    for (const auto& p : ex->profile())
      if (p.node == c.node && p.calls > 0) t = p.total_ms;
    if (t < 0)  // renamed by a pass: the non-Transpose nodes (layout changes around the op are not its cost)
      for (const auto& p : ex->profile())
        if (p.calls > 0 && p.op_type != "Transpose") t = std::max(t, 0.0) + p.total_ms;
    samples.push_back(std::max(t, 0.0));
  }
  // The minimum: other processes only ever add time (the machine is shared; medians drift with the load).
  *ms = *std::min_element(samples.begin(), samples.end());
  return Status::Ok();
}

struct Measured {
  const Case* c;
  perf::LayerCost layer;  // the cost model's view of the node (MACs, bytes)
  int64_t outs = 0;
  double t1 = 0, tn = 0;  // ms
};

}  // namespace

Status calibrate_target(int threads, double seconds_per_case, bool verbose, perf::TargetSpec* out,
                        std::string* measurements_json) {
  threads = std::max(1, threads);
  const perf::TargetSpec base = perf::builtin_target(kernels::host_target());
  perf::TargetSpec t;  // only what is measured here (read_calibration combines it with the built-in rates)
  t.name = base.name;
  t.source = "calibrated";
  t.call_us.clear(), t.cold_call_us.clear(), t.row_ns.clear(), t.gmacs.clear(), t.out_ns.clear(), t.gbytes.clear(), t.scaling.clear();
  std::mt19937 rng(1234);
  std::vector<Case> cases = make_cases(&rng);
  std::vector<Measured> ms;
  std::ostringstream js;
  js << "[";
  for (const Case& c : cases) {
    Measured m;
    m.c = &c;
    if (!c.node.empty()) {
      perf::Report r;
      KW_RETURN_IF_ERROR(perf::estimate(c.model, {}, base, 1, &r).with_context(c.name));
      for (const auto& l : r.layers)
        if (l.name == c.node) m.layer = l;
      Shape s;
      if (!m.layer.shape.empty()) {  // "[1, 64, 56, 56]"
        int64_t n = 1;
        std::string digits;
        for (char ch : m.layer.shape + ",") {
          if (std::isdigit(static_cast<unsigned char>(ch))) digits += ch;
          else if (!digits.empty()) n *= std::stoll(digits), digits.clear();
        }
        m.outs = n;
      }
    }
    KW_RETURN_IF_ERROR(time_case(c, 1, seconds_per_case, &m.t1));
    m.tn = m.t1;
    if (threads > 1) KW_RETURN_IF_ERROR(time_case(c, threads, seconds_per_case, &m.tn));
    if (verbose)
      std::printf("  %-40s 1 thread %9.5f ms   %d threads %9.5f ms\n", c.name.c_str(), m.t1, threads, m.tn);
    js << (ms.empty() ? "" : ",") << "\n    {\"case\": \"" << c.name << "\", \"family\": \"" << c.family
       << "\", \"macs\": " << m.layer.padded_macs << ", \"bytes\": " << (m.layer.read_bytes + m.layer.write_bytes)
       << ", \"ms_1thread\": " << m.t1 << ", \"ms_" << threads << "threads\": " << m.tn << "}";
    ms.push_back(m);
  }
  js << "\n  ]";
  auto find = [&](const std::string& name) -> const Measured* {
    for (const auto& m : ms)
      if (m.c->name == name) return &m;
    return nullptr;
  };
  auto set_scaling = [&](const std::string& fam, const Measured& m) {
    if (threads < 2 || m.tn <= 0 || m.t1 <= 0) return;
    const double us = m.t1 * 1e3, s = m.t1 / m.tn;
    if (s < 1.0) return;  // slower with more threads: a loaded machine, keep the built-in factor
    t.scaling[fam] = std::clamp((s - 1) / (threads - 1) * (us + t.parallel_us) / us, 0.0, 1.0);
  };
  // Convolutions: two shapes give the rate per padded MAC and the cost per output element.
  for (const std::string fam : {"conv_int8", "conv_fp32"}) {
    const Measured* a = find(fam + " 3x3 64->64 56x56");
    const Measured* b = find(fam + " 1x1 64->256 56x56");
    if (!a || !b || a->t1 <= 0 || b->t1 <= 0) continue;
    const double pa = a->layer.padded_macs, oa = a->outs, pb = b->layer.padded_macs, ob = b->outs;
    double per_mac = (a->t1 * ob - b->t1 * oa) / (pa * ob - pb * oa);  // ms
    double per_out = per_mac > 0 ? (a->t1 - pa * per_mac) / oa : -1;
    if (per_mac <= 0 || per_out < 0) per_mac = a->t1 / pa, per_out = 0;
    t.gmacs[fam] = 1.0 / (per_mac * 1e6);
    t.out_ns[fam] = per_out * 1e6;
    set_scaling(fam, *a);
  }
  for (const auto& m : ms) {
    const std::string& fam = m.c->family;
    const double bytes = m.layer.read_bytes + m.layer.write_bytes;
    if (m.t1 <= 0) continue;
    if (fam == "overhead") {
      t.node_overhead_us = std::clamp(m.t1 * 1e3, 0.005, 50.0);
      continue;
    }
    if (fam == "call") continue;  // below
    if (fam == "conv_int8" || fam == "conv_fp32") continue;
    if (fam == "dwconv_int8" || fam == "dwconv_fp32" || fam == "deconv_fp32") {
      t.gmacs[fam] = m.layer.padded_macs / (m.t1 * 1e6);  // their memory rates stay the built-in ones
    } else if (fam == "eltwise_q") {
      if (m.outs > 0) t.out_ns[fam] = m.t1 * 1e6 / m.outs;
    } else {
      t.gbytes[fam] = bytes / (m.t1 * 1e6);
    }
    set_scaling(fam, m);
  }
  // Fixed costs (us): a tiny image gives the call, the same after evicting the caches the cold call; depthwise:
  // 256 rows x 4 columns against 4 x 256 (same MACs) gives the cost per row block, then the 1x1 image the call.
  const Measured *c2 = find("call conv_int8 1x1 64->64 2x2"), *c2c = find("call conv_int8 1x1 64->64 2x2 cold");
  if (c2 && c2->t1 > 0) t.call_us["conv_int8"] = c2->t1 * 1e3;
  if (c2 && c2c && c2->t1 > 0) t.cold_call_us["conv_int8"] = std::max(0.0, (c2c->t1 - c2->t1) * 1e3);
  const Measured* d1c = find("call dwconv_int8 3x3 64 1x1 cold");
  const Measured *rows = find("call dwconv_int8 3x3 16 256x4"), *cols = find("call dwconv_int8 3x3 16 4x256");
  const Measured* d1 = find("call dwconv_int8 3x3 64 1x1");
  double row_ns = 0;
  if (rows && cols && rows->t1 > 0 && cols->t1 > 0) {
    row_ns = std::max(0.0, (rows->t1 - cols->t1) * 1e6 / (rows->layer.row_blocks - cols->layer.row_blocks));
    t.row_ns["dwconv_int8"] = row_ns;
  }
  if (d1 && d1->t1 > 0) t.call_us["dwconv_int8"] = std::max(0.0, d1->t1 * 1e3 - d1->layer.row_blocks * row_ns * 1e-3);
  if (d1 && d1c && d1->t1 > 0) t.cold_call_us["dwconv_int8"] = std::max(0.0, (d1c->t1 - d1->t1) * 1e3);
  if (const int64_t l2 = l2_cache_bytes(); l2 > 0) t.cache_bytes = l2;
  *out = std::move(t);
  *measurements_json = js.str();
  return Status::Ok();
}

}  // namespace kaiwu::cli
