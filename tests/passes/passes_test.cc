// Graph passes: structure after each pass, and the same outputs as the unoptimized graph.
#include <gtest/gtest.h>

#include "frontend/onnx/onnx_import.h"
#include "ir/graph_edit.h"
#include "passes/passes.h"
#include "runtime/graph_executor.h"
#include "model_builder.h"
#include "test_util.h"

namespace kaiwu {
namespace {

using Builder = test::ModelBuilder;

Tensor run_model(ir::Model m, const Tensor& x, bool optimize) {
  SessionOptions o;
  o.num_threads = 1;
  o.optimize = optimize;
  std::unique_ptr<runtime::GraphExecutor> ex;
  Status st = runtime::GraphExecutor::create(std::move(m), o, &ex);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!st.ok()) return {};
  std::vector<Tensor> out;
  st = ex->run({{"x", x}}, {}, &out);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return st.ok() ? out[0] : Tensor();
}

int count_op(const ir::Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes) c += n.op_type == op;
  return c;
}

Builder conv_bn_relu() {
  Builder b;
  b.input("x", {2, 3, 9, 9});
  b.constant("w", test::random_f32({4, 3, 3, 3}, 1));
  b.constant("bias", test::random_f32({4}, 2));
  b.constant("gamma", test::random_f32({4}, 3, 0.5f, 1.5f));
  b.constant("beta", test::random_f32({4}, 4));
  b.constant("mean", test::random_f32({4}, 5));
  b.constant("var", test::random_f32({4}, 6, 0.1f, 2.f));
  b.node("Conv", {"x", "w", "bias"}, {"c"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"bn"});
  b.node("Relu", {"bn"}, {"y"});
  b.output("y");
  return b;
}

TEST(Passes, FoldBatchNormKeepsTheMaths) {
  Builder b = conv_bn_relu();
  ir::Model m = b.m;
  ASSERT_TRUE(passes::optimize_standard(m).ok());
  EXPECT_EQ(count_op(m.graph, "BatchNormalization"), 0);
  EXPECT_EQ(count_op(m.graph, "Conv"), 1);
  Tensor x = test::random_f32({2, 3, 9, 9}, 7);
  Tensor ref = run_model(b.m, x, false), got = run_model(m, x, false);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, FoldBatchNormIntoConvTranspose) {
  Builder b;
  b.input("x", {1, 3, 5, 5});
  b.constant("w", test::random_f32({3, 4, 2, 2}, 11));  // ConvTranspose W [C_in, C_out, kH, kW]
  b.constant("gamma", test::random_f32({4}, 3, 0.5f, 1.5f));
  b.constant("beta", test::random_f32({4}, 4));
  b.constant("mean", test::random_f32({4}, 5));
  b.constant("var", test::random_f32({4}, 6, 0.1f, 2.f));
  b.node("ConvTranspose", {"x", "w"}, {"c"}).attrs["strides"] = ir::Attribute::make_ints({2, 2});
  b.node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"y"});
  b.output("y");
  Tensor x = test::random_f32({1, 3, 5, 5}, 9);
  Tensor want = run_model(b.m, x, false);
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::fold_batchnorm_into_conv(m, &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(count_op(m.graph, "BatchNormalization"), 0);
  std::string why;
  EXPECT_TRUE(test::all_close(run_model(m, x, false), want, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, FoldAffineIntoConvChain) {
  // conv -> Mul(scalar) -> Add(per-channel [4,1,1]) -> Mul(per-channel [1,4,1,1]) -> Add(x) (not foldable)
  Builder b;
  b.input("x", {1, 3, 6, 6});
  b.constant("w", test::random_f32({4, 3, 3, 3}, 1));
  b.constant("s", Tensor::from_vector<float>({1.7f}));
  b.constant("t", test::random_f32({4, 1, 1}, 2));
  b.constant("u", test::random_f32({1, 4, 1, 1}, 3));
  b.constant("wide", test::random_f32({4, 6, 6}, 4));
  b.node("Conv", {"x", "w"}, {"c"}).attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  b.node("Mul", {"c", "s"}, {"m"});
  b.node("Add", {"t", "m"}, {"a"});
  b.node("Mul", {"a", "u"}, {"m2"});
  b.node("Add", {"m2", "wide"}, {"y"});
  b.output("y");
  Tensor x = test::random_f32({1, 3, 6, 6}, 9);
  Tensor want = run_model(b.m, x, false);
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::fold_affine_into_conv(m, &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(count_op(m.graph, "Mul"), 0);
  EXPECT_EQ(count_op(m.graph, "Add"), 1) << "the full-size constant is not per channel";
  std::string why;
  EXPECT_TRUE(test::all_close(run_model(m, x, false), want, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, ConvTransposeBiasAddThenBatchNormFold) {
  // paddle2onnx's deconvolution: ConvTranspose (no bias) -> Add([1, C, 1, 1]) -> BatchNormalization
  Builder b;
  b.input("x", {1, 3, 5, 5});
  b.constant("w", test::random_f32({3, 4, 2, 2}, 11));
  b.constant("bias", test::random_f32({1, 4, 1, 1}, 12));
  b.constant("gamma", test::random_f32({4}, 3, 0.5f, 1.5f));
  b.constant("beta", test::random_f32({4}, 4));
  b.constant("mean", test::random_f32({4}, 5));
  b.constant("var", test::random_f32({4}, 6, 0.1f, 2.f));
  b.node("ConvTranspose", {"x", "w"}, {"c"}).attrs["strides"] = ir::Attribute::make_ints({2, 2});
  b.node("Add", {"c", "bias"}, {"a"});
  b.node("BatchNormalization", {"a", "gamma", "beta", "mean", "var"}, {"y"});
  b.output("y");
  Tensor x = test::random_f32({1, 3, 5, 5}, 9);
  Tensor want = run_model(b.m, x, false);
  ir::Model m = b.m;
  ASSERT_TRUE(passes::optimize_standard(m).ok());
  EXPECT_EQ(m.graph.nodes.size(), 1u);
  std::string why;
  EXPECT_TRUE(test::all_close(run_model(m, x, false), want, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, NonOverlappingDeconvBecomesConvAndDepthToSpace) {
  for (int64_t o : {1, 5}) {
    Builder b;
    b.input("x", {1, 3, 5, 4});
    b.constant("w", test::random_f32({3, o, 2, 2}, 11));
    b.constant("bias", test::random_f32({o}, 12));
    auto& d = b.node("ConvTranspose", {"x", "w", "bias"}, {"y"});
    d.attrs["strides"] = ir::Attribute::make_ints({2, 2});
    d.attrs["kernel_shape"] = ir::Attribute::make_ints({2, 2});
    b.output("y");
    Tensor x = test::random_f32({1, 3, 5, 4}, 9);
    ir::Model m = b.m;
    bool changed = false;
    ASSERT_TRUE(passes::deconv_to_conv_depth_to_space(m, &changed).ok());
    EXPECT_TRUE(changed);
    EXPECT_EQ(count_op(m.graph, "ConvTranspose"), 0);
    EXPECT_EQ(count_op(m.graph, "DepthToSpace"), 1);
    std::string why;
    EXPECT_TRUE(test::all_close(run_model(m, x, true), run_model(b.m, x, false), 1e-5, 1e-5, &why)) << why;
  }
}

TEST(Passes, FullCpuPipelineKeepsTheMaths) {
  Builder b = conv_bn_relu();
  Tensor x = test::random_f32({2, 3, 9, 9}, 8);
  Tensor ref = run_model(b.m, x, false), got = run_model(b.m, x, true);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, TransposesCancelThroughElementwiseOps) {
  Builder b;
  b.input("x", {1, 4, 5, 6});
  b.constant("c", test::random_f32({4, 1, 1}, 3));
  b.node("Transpose", {"x"}, {"t1"}).attrs["perm"] = ir::Attribute::make_ints({0, 2, 3, 1});
  b.node("Relu", {"t1"}, {"r1"});
  b.node("Transpose", {"r1"}, {"t2"}).attrs["perm"] = ir::Attribute::make_ints({0, 3, 1, 2});
  b.node("Add", {"t2", "c"}, {"a"});
  b.node("Transpose", {"a"}, {"t3"}).attrs["perm"] = ir::Attribute::make_ints({0, 2, 3, 1});
  b.node("Sigmoid", {"t3"}, {"s"});
  b.node("Transpose", {"s"}, {"y"}).attrs["perm"] = ir::Attribute::make_ints({0, 3, 1, 2});
  b.output("y");
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::optimize_transposes(m, &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(count_op(m.graph, "Transpose"), 0) << ir::dump(m.graph);
  Tensor x = test::random_f32({1, 4, 5, 6}, 9);
  Tensor ref = run_model(b.m, x, false), got = run_model(m, x, false);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 0, 0, &why)) << why;
}

TEST(Passes, ConcatAxisFollowsThePermutation) {
  Builder b;
  b.input("x", {1, 2, 3, 4});
  b.node("Transpose", {"x"}, {"t1"}).attrs["perm"] = ir::Attribute::make_ints({0, 2, 3, 1});
  b.node("Exp", {"t1"}, {"e"});
  b.node("Neg", {"t1"}, {"n"});
  b.node("Concat", {"e", "n"}, {"c"}).attrs["axis"] = ir::Attribute::make_int(3);
  b.output("c");
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::optimize_transposes(m, &changed).ok());
  EXPECT_EQ(count_op(m.graph, "Transpose"), 1);  // pushed to the end
  EXPECT_EQ(m.graph.nodes.back().op_type, "Transpose");
  Tensor x = test::random_f32({1, 2, 3, 4}, 10);
  Tensor ref = run_model(b.m, x, false), got = run_model(m, x, false);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 0, 0, &why)) << why;
}

TEST(Passes, TransposeOfUnitDimsBecomesReshape) {
  Builder b;
  b.input("x", {1, 1, 1, 8});
  b.node("Transpose", {"x"}, {"y"}).attrs["perm"] = ir::Attribute::make_ints({0, 3, 1, 2});
  b.node("Relu", {"y"}, {"z"});
  b.output("z");
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::optimize_transposes(m, &changed).ok());
  EXPECT_EQ(count_op(m.graph, "Transpose"), 0);
  EXPECT_EQ(count_op(m.graph, "Reshape"), 1);
  Tensor x = test::random_f32({1, 1, 1, 8}, 11);
  Tensor got = run_model(m, x, false);
  EXPECT_EQ(got.shape(), (Shape{1, 8, 1, 1}));
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// Conv (optionally depthwise, strided) followed by scalar affine ops and activations: the fused kaiwu.Conv with
// post-ops must give the unfused graph's result.
void check_conv_affine(int64_t group, int64_t stride, const std::vector<std::string>& tail, int64_t cin = 8,
                       int64_t cout = 8, int64_t size = 11) {
  Builder b;
  const int64_t c = cin;
  b.input("x", {1, c, size, size});
  b.constant("w", test::random_f32({cout, c / group, 3, 3}, 21));
  b.constant("bias", test::random_f32({cout}, 22));
  b.constant("s", Tensor::from_vector<float>({1.7f}, {1}));
  b.constant("t", Tensor::from_vector<float>({-0.3f}, {1}));
  ir::Node& conv = b.node("Conv", {"x", "w", "bias"}, {"v0"});
  conv.attrs["pads"] = ir::Attribute::make_ints({1, 1, 1, 1});
  conv.attrs["strides"] = ir::Attribute::make_ints({stride, stride});
  conv.attrs["group"] = ir::Attribute::make_int(group);
  std::string cur = "v0";
  int k = 1;
  for (const auto& op : tail) {
    std::string out = "v" + std::to_string(k++);
    if (op == "Mul") b.node("Mul", {cur, "s"}, {out});
    else if (op == "Add") b.node("Add", {"t", cur}, {out});
    else if (op == "Sub") b.node("Sub", {cur, "t"}, {out});
    else if (op == "Div") b.node("Div", {cur, "s"}, {out});
    else b.node(op, {cur}, {out});
    cur = out;
  }
  b.node("Identity", {cur}, {"y"});
  b.output("y");
  Tensor x = test::random_f32({1, c, size, size}, 23, -3.f, 3.f);
  Tensor ref = run_model(b.m, x, false), got = run_model(b.m, x, true);
  std::string why;
  // Affine ops folded into the weights reorder the float maths: a few ulps of the accumulation, hence 1e-4.
  EXPECT_TRUE(test::all_close(got, ref, 1e-4, 1e-5, &why)) << "group " << group << " stride " << stride << ": " << why;
}

TEST(Passes, ConvWithAffineTailsKeepsTheMaths) {
  for (int64_t group : {1, 8})
    for (int64_t stride : {1, 2}) {
      check_conv_affine(group, stride, {"Mul"});
      check_conv_affine(group, stride, {"Mul", "Add"});
      check_conv_affine(group, stride, {"Sub", "Div", "Relu"});
      check_conv_affine(group, stride, {"Mul", "Add", "HardSwish", "Mul", "Add"});
    }
  check_conv_affine(1, 2, {"Mul", "Add", "HardSwish", "Mul"}, 3, 16, 64);
  check_conv_affine(1, 2, {"HardSwish"}, 3, 16, 64);
  check_conv_affine(1, 2, {"Mul", "Add", "HardSwish", "Mul", "Add"}, 16, 32, 40);
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// The opset-9 PP-OCR models upgraded to opset 13 compute the same function (kernels chosen per opset may sum in
// another order, e.g. Softmax, so within float rounding).
TEST(Passes, UpgradeOpsetKeepsPpocrOutputs) {
  for (const std::string file : {"ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"}) {
    std::string path = test::shared_dir() + "/models/ppocr/" + file;
    ir::Model m;
    ASSERT_TRUE(frontend::load_onnx(path, &m).ok()) << path;
    ir::Model up = m;
    bool changed = false;
    const int64_t w = file.find("cls") != std::string::npos ? 192 : 320;
    Status st = passes::upgrade_opset(up, 13, &changed, {{m.graph.inputs[0].name, {1, 3, 48, w}}});
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_TRUE(changed);
    EXPECT_EQ(up.opset(), 13);
    for (const auto& n : up.graph.nodes)
      if (n.op_type == "Slice") EXPECT_FALSE(n.has_attr("starts")) << n.name;
    Tensor x = test::random_f32({1, 3, 48, w}, 5);
    SessionOptions o;
    o.num_threads = 1;
    std::unique_ptr<runtime::GraphExecutor> a, b;
    ASSERT_TRUE(runtime::GraphExecutor::create(m, o, &a).ok());
    ASSERT_TRUE(runtime::GraphExecutor::create(up, o, &b).ok());
    std::vector<Tensor> ya, yb;
    const std::string in = m.graph.inputs[0].name;
    ASSERT_TRUE(a->run({{in, x}}, {}, &ya).ok());
    ASSERT_TRUE(b->run({{in, x}}, {}, &yb).ok());
    std::string why;
    EXPECT_TRUE(test::all_close(yb[0], ya[0], 1e-5, 1e-6, &why)) << file << ": " << why;
  }
}

}  // namespace
}  // namespace kaiwu

namespace kaiwu {
namespace {

// paddle2onnx's decomposed HardSwish, x * Clip(x + 3, 0, 6) / 6, with the Clip bounds as attributes (opset < 11,
// e.g. PP-OCRv4 rec at opset 9) or as inputs (opset >= 11): fused into one HardSwish with the same values.
void check_decomposed_hardswish(int64_t opset) {
  test::ModelBuilder b(opset);
  b.input("x", {1, 4, 5, 5});
  b.constant("three", Tensor::from_vector<float>({3.f}, {}));
  b.constant("six", Tensor::from_vector<float>({6.f}, {}));
  b.node("Add", {"x", "three"}, {"a"});
  if (opset < 11) {
    ir::Node& c = b.node("Clip", {"a"}, {"c"});
    c.attrs["min"] = ir::Attribute::make_float(0.f);
    c.attrs["max"] = ir::Attribute::make_float(6.f);
  } else {
    b.constant("lo", Tensor::from_vector<float>({0.f}, {}));
    b.node("Clip", {"a", "lo", "six"}, {"c"});
  }
  b.node("Mul", {"x", "c"}, {"m"});
  b.node("Div", {"m", "six"}, {"y"});
  b.output("y");
  ir::Model m = b.m;
  bool changed = false;
  ASSERT_TRUE(passes::fuse_hardswish(m, &changed).ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(count_op(m.graph, "HardSwish"), 1);
  EXPECT_EQ(m.graph.nodes.size(), 1u);
  Tensor x = test::random_f32({1, 4, 5, 5}, 11, -6.f, 6.f);
  m.opsets[""] = 14;  // HardSwish needs opset 14 (the compile pipeline upgrades the model)
  Tensor ref = run_model(b.m, x, false), got = run_model(m, x, false);
  std::string why;
  EXPECT_TRUE(test::all_close(got, ref, 1e-5, 1e-5, &why)) << why;
}

TEST(Passes, DecomposedHardSwishFusesAtOpset9And13) {
  check_decomposed_hardswish(9);
  check_decomposed_hardswish(13);
}

}  // namespace
}  // namespace kaiwu
