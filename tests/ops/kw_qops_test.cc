// Op tests of the kaiwu fixed-point ops (QAdd, QMul, QLut, Requantize, QGlobalAveragePool, QAveragePool), int8
// max pooling (kaiwu.MaxPool / GlobalMaxPool, ONNX MaxPool) and the data-movement ops on int8 tensors, through
// GraphExecutor.
//
// Each fixed-point op is checked (1) reference vs optimized kernels (1 and 2 threads): bit-identical; (2) the
// reference against the float formula dequantize -> float op (double) -> quantize (round half to even, saturate).
// The op computes in f32 with pre-divided multipliers, so where the exact value t = result / y_scale lies within
// 1e-4 * (1 + |t|) of a rounding tie (x.5) the two may round differently: there (and only there) 1 LSB is allowed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>

#include "op_test_util.h"

namespace kaiwu {
namespace {

using optest::fed;
using optest::In;
using optest::konst;
using optest::none;
using Attrs = optest::Attrs;

// Runs one node (domain "kaiwu" or "" for ONNX) once; *outs gets its outputs y0, y1, ...
Status run_node(const std::string& domain, const std::string& op, const std::vector<In>& ins, const Attrs& attrs,
                bool reference_only, int threads, std::vector<Tensor>* outs, int num_outputs = 1, int64_t opset = 17) {
  ir::Model m;
  m.opsets[""] = opset;
  if (!domain.empty()) m.opsets[domain] = 1;
  ir::Node n;
  n.name = "qnode";
  n.op_type = op;
  n.domain = domain;
  n.attrs = attrs;
  NamedTensors feeds;
  for (size_t i = 0; i < ins.size(); ++i) {
    if (ins[i].omitted) {
      n.inputs.push_back("");
      continue;
    }
    const std::string name = "in" + std::to_string(i);
    n.inputs.push_back(name);
    if (ins[i].constant) {
      m.graph.initializers[name] = ins[i].t;
    } else {
      ir::ValueInfo v;
      v.name = name;
      v.dtype = ins[i].t.dtype();
      m.graph.inputs.push_back(v);
      feeds.emplace_back(name, ins[i].t);
    }
  }
  std::vector<std::string> names;
  for (int o = 0; o < num_outputs; ++o) {
    names.push_back("y" + std::to_string(o));
    n.outputs.push_back(names.back());
    ir::ValueInfo vo;
    vo.name = names.back();
    m.graph.outputs.push_back(vo);
  }
  m.graph.nodes.push_back(n);
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), SessionOptions{threads, reference_only}, &ex));
  return ex->run(feeds, names, outs);
}

// The single output of a kaiwu-domain node.
Tensor run_q(const std::string& op, const std::vector<In>& ins, const Attrs& attrs, bool ref, int threads) {
  std::vector<Tensor> outs;
  Status st = run_node("kaiwu", op, ins, attrs, ref, threads, &outs);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return st.ok() ? outs[0] : Tensor();
}

// The error message of a kaiwu-domain node that must fail.
std::string q_error(const std::string& op, const std::vector<In>& ins, const Attrs& attrs = {}) {
  std::vector<Tensor> outs;
  Status st = run_node("kaiwu", op, ins, attrs, false, 1, &outs);
  EXPECT_FALSE(st.ok()) << op;
  return st.message();
}

// Runs with the reference kernels, then the optimized ones with 1 and 2 threads; expects bit-identical outputs and
// returns the reference output.
Tensor run_q_all(const std::string& op, const std::vector<In>& ins, const Attrs& attrs = {}) {
  Tensor ref = run_q(op, ins, attrs, true, 1);
  for (int threads : {1, 2}) {
    Tensor fast = run_q(op, ins, attrs, false, threads);
    EXPECT_EQ(fast.dtype(), ref.dtype());
    EXPECT_EQ(fast.shape(), ref.shape());
    if (fast.nbytes() == ref.nbytes() && ref.nbytes()) {
      EXPECT_EQ(0, std::memcmp(fast.raw(), ref.raw(), ref.nbytes())) << op << " optimized differs, threads " << threads;
    }
  }
  return ref;
}

template <typename T>
Tensor rand_q(const Shape& s, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
  Tensor t = Tensor::empty(DTypeOf<T>::value, s);
  const T edges[] = {std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max(), T(0)};
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = i < 3 ? edges[i] : static_cast<T>(d(rng));
  return t;
}

template <typename T>
Tensor sc(T v) {
  return Tensor::from_vector<T>({v}, {});
}

// Expects y (integer tensor) == sat(rne(t[i]) + zy) for the exact values t; 1 LSB allowed only near ties.
void expect_matches_float(const Tensor& y, const std::vector<double>& t, int32_t zy, const std::string& what) {
  ASSERT_EQ(y.numel(), static_cast<int64_t>(t.size())) << what;
  double lo = 0, hi = 0;
  switch (y.dtype()) {
    case DType::kI8: lo = -128, hi = 127; break;
    case DType::kU8: lo = 0, hi = 255; break;
    default: lo = -32768, hi = 32767; break;
  }
  int near_ties = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double want = std::min(hi, std::max(lo, std::nearbyint(t[i]) + zy));
    const double got = y.get_f64(static_cast<int64_t>(i));
    const double frac = std::fabs(t[i] - std::floor(t[i]) - 0.5);
    const bool near_tie = frac < 1e-4 * (1 + std::fabs(t[i]));
    near_ties += near_tie;
    if (near_tie) {
      ASSERT_LE(std::fabs(got - want), 1) << what << " element " << i << " t " << t[i];
    } else {
      ASSERT_EQ(got, want) << what << " element " << i << " t " << t[i];
    }
  }
}

std::vector<double> dequant(const Tensor& x, float scale, int32_t zp) {
  std::vector<double> v(x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) v[i] = (x.get_f64(i) - zp) * scale;
  return v;
}

// ---------------------------------------------------------------- QAdd / QMul

struct BinCase {
  Shape a, b;
};

// Index of output element i into an input of shape `in` broadcast to `out`.
int64_t bcast_index(int64_t i, const Shape& in, const Shape& out) {
  int64_t idx = 0, mul = 1;
  for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
    const int64_t k = i % out[d];
    i /= out[d];
    const int64_t id = d - static_cast<int64_t>(out.size() - in.size());
    if (id >= 0) {
      if (in[id] != 1) idx += k * mul;
      mul *= in[id];
    }
  }
  return idx;
}

template <typename TX, typename TY>
void check_qbinary(bool mul, const BinCase& c, bool constant_scales) {
  const Tensor a = rand_q<TX>(c.a, 1), b = rand_q<TX>(c.b, 2);
  const float as = 0.0213f, bs = 0.047f, ys = mul ? 0.31f : 0.0391f;
  const TX za = std::is_signed_v<TX> ? TX(-3) : TX(129), zb = std::is_signed_v<TX> ? TX(5) : TX(100);
  const TY zy = std::is_signed_v<TY> ? TY(-2) : TY(131);
  auto S = [&](Tensor t) { return constant_scales ? konst(std::move(t)) : fed(std::move(t)); };
  const Tensor y = run_q_all(mul ? "QMul" : "QAdd",
                             {fed(a), S(sc(as)), S(sc(za)), fed(b), S(sc(bs)), S(sc(zb)), S(sc(ys)), S(sc(zy))});
  ASSERT_EQ(y.dtype(), DTypeOf<TY>::value);
  const std::vector<double> fa = dequant(a, as, za), fb = dequant(b, bs, zb);
  std::vector<double> t(y.numel());
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double va = fa[bcast_index(i, c.a, y.shape())], vb = fb[bcast_index(i, c.b, y.shape())];
    t[i] = (mul ? va * vb : va + vb) / ys;
  }
  expect_matches_float(y, t, zy, std::string(mul ? "QMul " : "QAdd ") + shape_to_string(c.a) + shape_to_string(c.b));
}

const std::vector<BinCase> kBinCases = {
    {{2, 3, 7, 5}, {2, 3, 7, 5}},  // same shape
    {{1, 6, 6, 35}, {}},           // B scalar
    {{1, 5, 4, 67}, {67}},         // B along the last axis (NHWC per channel)
    {{2, 19, 5, 4}, {1, 19, 1, 1}},  // B per channel (NCHW)
    {{4, 1, 9}, {3, 1}},           // general broadcast
};

TEST(KwQAdd, MatchesFloatFormulaAllBroadcasts) {
  for (const BinCase& c : kBinCases) {
    check_qbinary<int8_t, int8_t>(false, c, true);
    check_qbinary<uint8_t, uint8_t>(false, c, true);
    check_qbinary<uint8_t, int8_t>(false, c, false);
    check_qbinary<int16_t, int16_t>(false, c, true);
  }
}

TEST(KwQMul, MatchesFloatFormulaAllBroadcasts) {
  for (const BinCase& c : kBinCases) {
    check_qbinary<int8_t, int8_t>(true, c, true);
    check_qbinary<uint8_t, uint8_t>(true, c, false);
    check_qbinary<int8_t, uint8_t>(true, c, true);
    check_qbinary<int16_t, int16_t>(true, c, true);
  }
}

TEST(KwQAdd, LargeTensorIsThreadInvariantAndExactValues) {
  // 1x64x56x56 int8 + same: spans many parallel chunks.
  const Shape s{1, 56, 56, 64};
  const Tensor a = rand_q<int8_t>(s, 7), b = rand_q<int8_t>(s, 8);
  run_q_all("QAdd", {fed(a), konst(sc(0.05f)), konst(sc<int8_t>(1)), fed(b), konst(sc(0.1f)), konst(sc<int8_t>(-1)),
                     konst(sc(0.2f)), konst(sc<int8_t>(0))});
  // Hand-checked: (4 - 0) * 0.5 + (3 - 1) * 0.25 = 2.5 -> ties to even 2; + zy 10 = 12.
  Tensor y = run_q("QAdd", {fed(Tensor::from_vector<int8_t>({4}, {1})), konst(sc(0.5f)), konst(sc<int8_t>(0)),
                            fed(Tensor::from_vector<int8_t>({3}, {1})), konst(sc(0.25f)), konst(sc<int8_t>(1)),
                            konst(sc(1.f)), konst(sc<int8_t>(10))},
                   {}, false, 1);
  EXPECT_EQ(y.data<int8_t>()[0], 12);
}

TEST(KwQAddQMul, ErrorsNameTheNode) {
  const Tensor a = rand_q<int8_t>({4}, 1);
  std::string m = q_error("QAdd", {fed(a), konst(sc(1.f)), konst(sc<int8_t>(0)), fed(a)});
  EXPECT_NE(m.find("qnode"), std::string::npos) << m;
  EXPECT_NE(m.find("expects 8 inputs"), std::string::npos) << m;
  m = q_error("QMul", {fed(a), konst(Tensor::from_vector<float>({1.f, 2.f})), konst(sc<int8_t>(0)), fed(a),
                       konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("A_scale must be a scalar"), std::string::npos) << m;
  m = q_error("QAdd", {fed(a), konst(sc(1.f)), konst(sc<int8_t>(0)), fed(rand_q<uint8_t>({4}, 1)), konst(sc(1.f)),
                       konst(sc<uint8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("same dtype"), std::string::npos) << m;
  m = q_error("QAdd", {fed(a), konst(sc(1.f)), konst(sc<uint8_t>(0)), fed(a), konst(sc(1.f)), konst(sc<int8_t>(0)),
                       konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("A_zero_point must be i8"), std::string::npos) << m;
  m = q_error("QAdd", {fed(a), konst(sc(1.f)), konst(sc<int8_t>(0)), fed(rand_q<int8_t>({3}, 1)), konst(sc(1.f)),
                       konst(sc<int8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("do not broadcast"), std::string::npos) << m;
  m = q_error("QAdd", {fed(Tensor::from_vector<float>({1.f})), konst(sc(1.f)), konst(sc<int8_t>(0)), fed(a),
                       konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("int8, uint8 or int16"), std::string::npos) << m;
}

// ---------------------------------------------------------------- Requantize

template <typename TX, typename TY>
void check_requantize(float xs, float ys, TX zx, TY zy) {
  const Tensor x = rand_q<TX>({3, 77}, 9);
  const Tensor y = run_q_all("Requantize", {fed(x), konst(sc(xs)), konst(sc(zx)), konst(sc(ys)), konst(sc(zy))});
  ASSERT_EQ(y.dtype(), DTypeOf<TY>::value);
  ASSERT_EQ(y.shape(), x.shape());
  std::vector<double> t = dequant(x, xs, zx);
  for (double& v : t) v /= ys;
  expect_matches_float(y, t, zy, "Requantize");
}

TEST(KwRequantize, MatchesFloatFormulaAllTypePairs) {
  check_requantize<int8_t, int8_t>(0.02f, 0.013f, -3, 4);
  check_requantize<int8_t, uint8_t>(0.02f, 0.05f, 0, 128);
  check_requantize<uint8_t, int8_t>(0.1f, 0.1f, 128, 0);
  check_requantize<uint8_t, uint8_t>(0.37f, 0.5f, 255, 0);
  check_requantize<int16_t, int8_t>(0.001f, 0.25f, -100, 7);
  check_requantize<int8_t, int16_t>(0.5f, 0.001f, 1, -300);
  check_requantize<int16_t, int16_t>(0.01f, 0.03f, 0, 0);
  check_requantize<uint8_t, int16_t>(0.01f, 0.0003f, 10, 5);
  // Run-time (fed) scales give the same result as constants.
  const Tensor x = rand_q<int8_t>({100}, 4);
  Tensor c = run_q("Requantize",
                   {fed(x), konst(sc(0.3f)), konst(sc<int8_t>(2)), konst(sc(0.7f)), konst(sc<uint8_t>(9))}, {}, false,
                   1);
  Tensor f = run_q("Requantize", {fed(x), fed(sc(0.3f)), fed(sc<int8_t>(2)), fed(sc(0.7f)), fed(sc<uint8_t>(9))}, {},
                   false, 1);
  ASSERT_EQ(c.nbytes(), f.nbytes());
  EXPECT_EQ(0, std::memcmp(c.raw(), f.raw(), c.nbytes()));
}

TEST(KwRequantize, Errors) {
  const Tensor x = rand_q<int8_t>({4}, 1);
  std::string m = q_error("Requantize", {fed(x), konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f))});
  EXPECT_NE(m.find("qnode"), std::string::npos) << m;
  EXPECT_NE(m.find("expects 5 inputs"), std::string::npos) << m;
  m = q_error("Requantize", {fed(x), konst(sc(1.f)), konst(sc<uint8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("x_zero_point must be i8"), std::string::npos) << m;
  m = q_error("Requantize", {fed(x), konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc<int8_t>(1)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("y_scale must be f32"), std::string::npos) << m;
  m = q_error("Requantize",
              {fed(x), konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f)),
               konst(Tensor::from_vector<int8_t>({0, 1}))});
  EXPECT_NE(m.find("y_zero_point must be a scalar"), std::string::npos) << m;
}

// ---------------------------------------------------------------- QLut

TEST(KwQLut, LooksUpEveryValue) {
  std::vector<int8_t> tab(256);
  for (int i = 0; i < 256; ++i) tab[i] = static_cast<int8_t>((i * 37 + 11) % 256 - 128);
  const Tensor table = Tensor::from_vector<int8_t>(tab, {256});
  for (DType xt : {DType::kI8, DType::kU8}) {
    Tensor x = Tensor::empty(xt, {2, 300});
    for (int64_t i = 0; i < x.numel(); ++i) static_cast<uint8_t*>(x.raw())[i] = static_cast<uint8_t>(i * 7 + 3);
    const Tensor y = run_q_all("QLut", {fed(x), konst(table)});
    ASSERT_EQ(y.dtype(), DType::kI8);
    ASSERT_EQ(y.shape(), x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t idx = static_cast<int64_t>(x.get_i64(i)) - (xt == DType::kI8 ? -128 : 0);
      ASSERT_EQ(y.data<int8_t>()[i], tab[idx]) << i;
    }
  }
  // uint8 table: output uint8.
  std::vector<uint8_t> ut(256);
  for (int i = 0; i < 256; ++i) ut[i] = static_cast<uint8_t>(255 - i);
  const Tensor y = run_q_all("QLut", {fed(Tensor::from_vector<int8_t>({-128, 0, 127}, {3})),
                                      konst(Tensor::from_vector<uint8_t>(ut, {256}))});
  ASSERT_EQ(y.dtype(), DType::kU8);
  EXPECT_EQ(optest::values<uint8_t>(y), (std::vector<uint8_t>{255, 127, 0}));
}

TEST(KwQLut, Errors) {
  const Tensor x = rand_q<int8_t>({4}, 1);
  const Tensor table = rand_q<int8_t>({256}, 2);
  std::string m = q_error("QLut", {fed(x), fed(table)});
  EXPECT_NE(m.find("qnode"), std::string::npos) << m;
  EXPECT_NE(m.find("Table must be a constant"), std::string::npos) << m;
  m = q_error("QLut", {fed(x), konst(rand_q<int8_t>({255}, 2))});
  EXPECT_NE(m.find("256 entries"), std::string::npos) << m;
  m = q_error("QLut", {fed(rand_q<int16_t>({4}, 1)), konst(table)});
  EXPECT_NE(m.find("65536 entries"), std::string::npos) << m;  // an int16 X needs the wide table
  m = q_error("QLut", {fed(x)});
  EXPECT_NE(m.find("expects 2 inputs"), std::string::npos) << m;
}

// ---------------------------------------------------------------- pools

// x viewed as NCHW (nhwc: stored [N, H, W, C]) element (n, c, h, w).
double at(const Tensor& x, bool nhwc, int64_t n, int64_t c, int64_t h, int64_t w) {
  const Shape& s = x.shape();
  if (nhwc) return x.get_f64(((n * s[1] + h) * s[2] + w) * s[3] + c);
  return x.get_f64(((n * s[1] + c) * s[2] + h) * s[3] + w);
}

template <typename TX, typename TY>
void check_qgap(bool nhwc) {
  const Shape s = nhwc ? Shape{2, 5, 7, 67} : Shape{2, 67, 5, 7};
  const Tensor x = rand_q<TX>(s, 21);
  const float xs = 0.03f, ys = 0.021f;
  const TX zx = std::is_signed_v<TX> ? TX(-5) : TX(120);
  const TY zy = std::is_signed_v<TY> ? TY(3) : TY(128);
  const Tensor y = run_q_all("QGlobalAveragePool", {fed(x), konst(sc(xs)), konst(sc(zx)), konst(sc(ys)), konst(sc(zy))},
                             {{"layout", optest::as(nhwc ? "NHWC" : "NCHW")}});
  ASSERT_EQ(y.shape(), nhwc ? (Shape{2, 1, 1, 67}) : (Shape{2, 67, 1, 1}));
  std::vector<double> t(2 * 67);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 67; ++c) {
      double sum = 0;
      for (int64_t h = 0; h < 5; ++h)
        for (int64_t w = 0; w < 7; ++w) sum += (at(x, nhwc, n, c, h, w) - zx) * xs;
      t[n * 67 + c] = sum / 35 / ys;
    }
  expect_matches_float(y, t, zy, nhwc ? "QGAP NHWC" : "QGAP NCHW");
}

TEST(KwQGlobalAveragePool, MatchesFloatFormulaBothLayouts) {
  for (bool nhwc : {false, true}) {
    check_qgap<int8_t, int8_t>(nhwc);
    check_qgap<uint8_t, uint8_t>(nhwc);
    check_qgap<uint8_t, int8_t>(nhwc);
    check_qgap<int16_t, int16_t>(nhwc);
  }
}

TEST(KwQGlobalAveragePool, Errors) {
  const Tensor x = rand_q<int8_t>({1, 2, 3}, 1);
  std::string m = q_error("QGlobalAveragePool",
                          {fed(x), konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("rank 4"), std::string::npos) << m;
  m = q_error("QGlobalAveragePool",
              {fed(rand_q<int8_t>({1, 2, 3, 3}, 1)), konst(sc(1.f)), konst(sc<int8_t>(0)), konst(sc(1.f)),
               konst(sc<int8_t>(0))},
              {{"layout", optest::as("NCWH")}});
  EXPECT_NE(m.find("layout must be NCHW or NHWC"), std::string::npos) << m;
}

struct AvgCase {
  Shape x;  // NCHW
  std::vector<int64_t> k, s, pads;
  int64_t ceil, cip;
};

template <typename TX, typename TY>
void check_qavg(const AvgCase& c, bool nhwc) {
  const Shape s = nhwc ? Shape{c.x[0], c.x[2], c.x[3], c.x[1]} : c.x;
  const Tensor x = rand_q<TX>(s, 31);
  const float xs = 0.05f, ys = 0.043f;
  const TX zx = std::is_signed_v<TX> ? TX(2) : TX(125);
  const TY zy = std::is_signed_v<TY> ? TY(-1) : TY(127);
  Attrs attrs = {{"kernel_shape", optest::ais(c.k)}, {"strides", optest::ais(c.s)}, {"pads", optest::ais(c.pads)},
                 {"ceil_mode", optest::ai(c.ceil)}, {"count_include_pad", optest::ai(c.cip)},
                 {"layout", optest::as(nhwc ? "NHWC" : "NCHW")}};
  const Tensor y =
      run_q_all("QAveragePool", {fed(x), konst(sc(xs)), konst(sc(zx)), konst(sc(ys)), konst(sc(zy))}, attrs);
  const int64_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3];
  const int64_t OH = nhwc ? y.shape()[1] : y.shape()[2], OW = nhwc ? y.shape()[2] : y.shape()[3];
  std::vector<double> t(y.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double sum = 0;
          int64_t valid = 0, padded = 0;
          for (int64_t kh = 0; kh < c.k[0]; ++kh)
            for (int64_t kw = 0; kw < c.k[1]; ++kw) {
              const int64_t ih = oh * c.s[0] - c.pads[0] + kh, iw = ow * c.s[1] - c.pads[1] + kw;
              if (ih >= -c.pads[0] && ih < H + c.pads[2] && iw >= -c.pads[1] && iw < W + c.pads[3]) ++padded;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              sum += (at(x, nhwc, n, ch, ih, iw) - zx) * xs;
              ++valid;
            }
          const int64_t count = c.cip ? padded : valid;
          const int64_t o = nhwc ? ((n * OH + oh) * OW + ow) * C + ch : ((n * C + ch) * OH + oh) * OW + ow;
          t[o] = sum / count / ys;
        }
  expect_matches_float(y, t, zy, "QAveragePool");
}

TEST(KwQAveragePool, MatchesFloatFormula) {
  const std::vector<AvgCase> cases = {
      {{1, 19, 9, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0},
      {{2, 5, 7, 8}, {2, 3}, {1, 2}, {0, 1, 1, 0}, 1, 1},
      {{1, 33, 6, 6}, {3, 3}, {1, 1}, {1, 1, 1, 1}, 0, 1},
      {{1, 8, 7, 7}, {7, 7}, {1, 1}, {0, 0, 0, 0}, 0, 0},
  };
  for (const AvgCase& c : cases)
    for (bool nhwc : {false, true}) {
      check_qavg<int8_t, int8_t>(c, nhwc);
      check_qavg<uint8_t, uint8_t>(c, nhwc);
      check_qavg<int16_t, int8_t>(c, nhwc);
    }
}

TEST(KwQAveragePool, Errors) {
  std::string m = q_error("QAveragePool", {fed(rand_q<int8_t>({1, 2, 3, 3}, 1)), konst(sc(1.f)), konst(sc<int8_t>(0)),
                                           konst(sc(1.f)), konst(sc<int8_t>(0))});
  EXPECT_NE(m.find("kernel_shape is required"), std::string::npos) << m;
  EXPECT_NE(m.find("qnode"), std::string::npos) << m;
}

// ---------------------------------------------------------------- int8 max pooling

TEST(KwMaxPoolInt8, MatchesFloatPoolBothLayouts) {
  for (bool nhwc : {false, true})
    for (DType t : {DType::kI8, DType::kU8}) {
      const Shape s = nhwc ? Shape{1, 9, 10, 21} : Shape{1, 21, 9, 10};
      Tensor x = t == DType::kI8 ? rand_q<int8_t>(s, 5) : rand_q<uint8_t>(s, 5);
      Tensor xf = Tensor::empty(DType::kF32, s);
      for (int64_t i = 0; i < x.numel(); ++i) xf.data<float>()[i] = static_cast<float>(x.get_f64(i));
      Attrs attrs = {{"kernel_shape", optest::ais({3, 3})}, {"strides", optest::ais({2, 2})},
                     {"pads", optest::ais({1, 1, 1, 1})}, {"layout", optest::as(nhwc ? "NHWC" : "NCHW")}};
      const Tensor y = run_q_all("MaxPool", {fed(x)}, attrs);
      const Tensor yf = run_q("MaxPool", {fed(xf)}, attrs, true, 1);
      ASSERT_EQ(y.dtype(), t);
      ASSERT_EQ(y.shape(), yf.shape());
      for (int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(y.get_f64(i), yf.get_f64(i)) << i;
      const Tensor g = run_q_all("GlobalMaxPool", {fed(x)}, {{"layout", optest::as(nhwc ? "NHWC" : "NCHW")}});
      const Tensor gf = run_q("GlobalMaxPool", {fed(xf)}, {{"layout", optest::as(nhwc ? "NHWC" : "NCHW")}}, true, 1);
      ASSERT_EQ(g.shape(), gf.shape());
      for (int64_t i = 0; i < g.numel(); ++i) ASSERT_EQ(g.get_f64(i), gf.get_f64(i)) << i;
    }
}

TEST(OnnxMaxPoolInt8, FastKernelMatchesReference) {
  const Tensor x = rand_q<int8_t>({2, 7, 11, 12}, 3);
  Attrs attrs = {{"kernel_shape", optest::ais({3, 2})}, {"strides", optest::ais({2, 1})}, {"ceil_mode", optest::ai(1)}};
  std::vector<Tensor> ref, fast;
  ASSERT_TRUE(run_node("", "MaxPool", {fed(x)}, attrs, true, 1, &ref).ok());
  ASSERT_TRUE(run_node("", "MaxPool", {fed(x)}, attrs, false, 2, &fast).ok());
  ASSERT_EQ(ref[0].shape(), (Shape{2, 7, 5, 11}));
  ASSERT_EQ(0, std::memcmp(ref[0].raw(), fast[0].raw(), ref[0].nbytes()));
}

// ---------------------------------------------------------------- data movement on int8

// Runs an ONNX op on int8 x (input 0) and on the same values as f32: the outputs must hold the same values.
void check_movement_int8(const std::string& op, const Shape& s, std::vector<In> rest, const Attrs& attrs,
                         int outputs = 1, bool pad_value = false) {
  const Tensor x = rand_q<int8_t>(s, 17);
  Tensor xf = Tensor::empty(DType::kF32, s);
  for (int64_t i = 0; i < x.numel(); ++i) xf.data<float>()[i] = static_cast<float>(x.data<int8_t>()[i]);
  std::vector<In> qi{fed(x)}, fi{fed(xf)};
  for (size_t i = 0; i < rest.size(); ++i) {
    qi.push_back(rest[i]);
    fi.push_back(rest[i]);
  }
  if (pad_value) {  // Pad's constant_value has X's dtype
    qi.push_back(konst(sc<int8_t>(-7)));
    fi.push_back(konst(sc<float>(-7.f)));
  }
  std::vector<Tensor> q, f;
  Status st = run_node("", op, qi, attrs, false, 2, &q, outputs);
  ASSERT_TRUE(st.ok()) << op << ": " << st.to_string();
  st = run_node("", op, fi, attrs, true, 1, &f, outputs);
  ASSERT_TRUE(st.ok()) << op << " f32: " << st.to_string();
  for (int o = 0; o < outputs; ++o) {
    ASSERT_EQ(q[o].dtype(), DType::kI8) << op;
    ASSERT_EQ(q[o].shape(), f[o].shape()) << op;
    for (int64_t i = 0; i < q[o].numel(); ++i) ASSERT_EQ(q[o].get_f64(i), f[o].get_f64(i)) << op << " element " << i;
  }
}

Tensor i64s(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}); }

TEST(MovementInt8, AllDataMovementOpsMatchFloat) {
  check_movement_int8("Reshape", {2, 3, 4, 5}, {konst(i64s({6, -1}))}, {});
  check_movement_int8("Flatten", {2, 3, 4, 5}, {}, {{"axis", optest::ai(2)}});
  check_movement_int8("Transpose", {1, 24, 7, 9}, {}, {{"perm", optest::ais({0, 2, 3, 1})}});  // NCHW -> NHWC
  check_movement_int8("Transpose", {1, 7, 9, 24}, {}, {{"perm", optest::ais({0, 3, 1, 2})}});  // NHWC -> NCHW
  check_movement_int8("Transpose", {3, 5, 6}, {}, {{"perm", optest::ais({2, 0, 1})}});
  check_movement_int8("Squeeze", {1, 3, 1, 5}, {konst(i64s({0, 2}))}, {});
  check_movement_int8("Unsqueeze", {3, 5}, {konst(i64s({0, 3}))}, {});
  check_movement_int8("Slice", {4, 10, 6}, {konst(i64s({1, 2})), konst(i64s({3, 9})), konst(i64s({0, 1})),
                                            konst(i64s({1, 3}))}, {});
  check_movement_int8("Split", {2, 9, 4}, {konst(i64s({2, 7}))}, {{"axis", optest::ai(1)}}, 2);
  check_movement_int8("Pad", {1, 3, 4, 5}, {konst(i64s({0, 0, 1, 2, 0, 0, 2, 1}))}, {{"mode", optest::as("constant")}},
                      1, true);
  check_movement_int8("Gather", {5, 6, 3}, {konst(i64s({4, 0, -1, 2}))}, {{"axis", optest::ai(1)}});
  check_movement_int8("Resize", {1, 3, 4, 5},
                      {none(), konst(Tensor::from_vector<float>({1.f, 1.f, 2.f, 1.5f}, {4}))},
                      {{"mode", optest::as("nearest")}});
  check_movement_int8("Resize", {2, 3, 9, 7},
                      {none(), konst(Tensor::from_vector<float>({1.f, 1.f, 0.5f, 1.7f}, {4}))},
                      {{"mode", optest::as("nearest")}, {"coordinate_transformation_mode", optest::as("asymmetric")},
                       {"nearest_mode", optest::as("floor")}});
  check_movement_int8("Resize", {1, 2, 5, 6}, {none(), none(), konst(i64s({1, 2, 11, 4}))},
                      {{"mode", optest::as("nearest")}, {"coordinate_transformation_mode", optest::as("align_corners")},
                       {"nearest_mode", optest::as("round_prefer_ceil")}});
}

TEST(MovementInt8, ConcatMatchesFloat) {
  const Tensor a = rand_q<int8_t>({2, 3, 4}, 1), b = rand_q<int8_t>({2, 5, 4}, 2);
  std::vector<Tensor> q;
  ASSERT_TRUE(run_node("", "Concat", {fed(a), fed(b)}, {{"axis", optest::ai(1)}}, false, 1, &q).ok());
  ASSERT_EQ(q[0].shape(), (Shape{2, 8, 4}));
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 8; ++c)
      for (int64_t w = 0; w < 4; ++w) {
        const int8_t want = c < 3 ? a.data<int8_t>()[(n * 3 + c) * 4 + w] : b.data<int8_t>()[(n * 5 + c - 3) * 4 + w];
        ASSERT_EQ(q[0].data<int8_t>()[(n * 8 + c) * 4 + w], want);
      }
}

}  // namespace
}  // namespace kaiwu
