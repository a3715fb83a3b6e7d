// Issue 4 deploy tools end to end: boundary node removal (remove_node_type), input_batch with separate_batch, the
// post-hoc `kaiwu batch-split` command on a two-input model, and the double-normalization guard. Each test compiles
// the Fashion-MNIST CNN (or a tiny generated model) with a few calibration samples through the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/npy.h"
#include "e2e/e2e_util.h"
#include "frontend/onnx/onnx_import.h"
#include "kaiwu/session.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string kaiwu_bin() { return e2e::sh_quote(e2e::build_dir() + "/bin/kaiwu"); }
std::string fmnist() { return e2e::shared_dir() + "/models/fmnist/fmnist_cnn.onnx"; }

// Writes `n` calibration samples [1,1,28,28] in [lo, hi) into tmp/<dir>.
void write_calib(const e2e::TempDir& tmp, const std::string& dir, int n, float lo, float hi) {
  std::filesystem::create_directories(tmp.file(dir));
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(write_npy(tmp.file(dir + "/" + std::to_string(i) + ".npy"), test::random_f32({1, 1, 28, 28}, 100 + i, lo, hi)).ok());
}

// A yaml for fmnist into tmp/<out>; `input` is the input_parameters body (without input_name), `extra_model`
// extra model_parameters lines.
std::string fmnist_yaml(const e2e::TempDir& tmp, const std::string& out, const std::string& input,
                        const std::string& extra_model, const std::string& calib = "calib",
                        const std::string& model = fmnist()) {
  return "model_parameters:\n  onnx_model: '" + model + "'\n  march: x86-avx512vnni\n  working_dir: '" +
         tmp.file(out) + "'\n  output_model_file_prefix: fm\n" + extra_model +
         "input_parameters:\n  input_name: input\n  input_shape: 1x1x28x28\n" + input +
         "calibration_parameters:\n  cal_data_dir: '" + tmp.file(calib) + "'\n  calibration_type: max\n"
      "  quant_config: {\"model_config\": {\"weight\": {\"calibration_type\": \"max\", \"bias_correction\": false}}}\n";
}

// Compiles `yaml` (written to tmp/<name>.yaml); the CLI output in `out`.
int compile(const e2e::TempDir& tmp, const std::string& name, const std::string& yaml, std::string* out) {
  EXPECT_TRUE(e2e::write_bytes(tmp.file(name + ".yaml"), yaml).ok());
  return test::run_command(kaiwu_bin() + " compile -q -c " + e2e::sh_quote(tmp.file(name + ".yaml")) + " 2>&1", out);
}

// Runs `model` (sessions are cached per path for the test binary's life).
std::vector<Tensor> run(const std::string& model, const NamedTensors& feeds) {
  static std::map<std::string, std::unique_ptr<Session>> cache;
  std::unique_ptr<Session>& s = cache[model];
  if (!s) {
    Status st = Session::open(model, SessionOptions(), &s);
    EXPECT_TRUE(st.ok()) << st.to_string();
    if (!st.ok()) return {};
  }
  Status st;
  std::vector<std::string> names;
  for (const auto& o : s->outputs()) names.push_back(o.name);
  std::vector<Tensor> outs;
  st = s->run(feeds, names, &outs);
  EXPECT_TRUE(st.ok()) << model << ": " << st.to_string();
  return outs;
}

// The first number list after `key` in `text` ("\"scale\": [0.1, 0.2]").
std::vector<double> numbers_after(const std::string& text, size_t from, const std::string& key) {
  std::vector<double> v;
  size_t p = text.find(key, from);
  if (p == std::string::npos) return v;
  p = text.find('[', p);
  size_t e = text.find(']', p);
  std::string list = text.substr(p + 1, e - p - 1);
  for (size_t at = 0; at < list.size();) {
    v.push_back(std::stod(list.substr(at)));
    size_t c = list.find(',', at);
    if (c == std::string::npos) break;
    at = c + 1;
  }
  return v;
}

// Acceptance 5: remove_node_type Quantize;Dequantize on a featuremap input: the removed model takes int8 and
// returns int8/int32; the quantized input reproduces the full model's output after dequantization; info shows it.
TEST(DeployTools, RemoveQuantizeDequantize) {
  e2e::TempDir tmp;
  write_calib(tmp, "calib", 4, 0.f, 1.f);
  std::string out;
  const std::string yaml = fmnist_yaml(
      tmp, "out", "  input_type_rt: featuremap\n  input_type_train: featuremap\n  input_layout_train: NCHW\n",
      "  remove_node_type: 'Quantize;Dequantize'\n");
  ASSERT_EQ(compile(tmp, "c", yaml, &out), 0) << out;
  const std::string removed = tmp.file("out/fm_quantized_removed_model.onnx");
  ASSERT_TRUE(test::file_exists(removed)) << out;
  ASSERT_TRUE(test::file_exists(tmp.file("out/fm_removed.kwm")));
  std::string log;
  ASSERT_TRUE(read_file(tmp.file("out/kaiwu_compile.log"), &log).ok());
  EXPECT_NE(log.find("Remove node "), std::string::npos) << log;
  EXPECT_NE(log.find("(QuantizeLinear) at input input"), std::string::npos) << log;
  EXPECT_NE(log.find("(DequantizeLinear) at output"), std::string::npos) << log;

  ir::Model rm;
  ASSERT_TRUE(frontend::load_onnx(removed, &rm).ok());
  ASSERT_EQ(rm.graph.inputs.size(), 1u);
  EXPECT_EQ(rm.graph.inputs[0].name, "input");
  EXPECT_EQ(rm.graph.inputs[0].dtype, DType::kI8);
  ASSERT_EQ(rm.graph.outputs.size(), 1u);
  const DType out_type = rm.graph.outputs[0].dtype;
  EXPECT_TRUE(out_type == DType::kI8 || out_type == DType::kI32) << dtype_name(out_type);
  ASSERT_TRUE(rm.metadata.count("kaiwu.deleted_nodes"));
  const std::string del = rm.metadata.at("kaiwu.deleted_nodes");
  const size_t in_at = del.find("\"input\": \"input\""), out_at = del.find("\"output\": ");
  ASSERT_NE(in_at, std::string::npos) << del;
  ASSERT_NE(out_at, std::string::npos) << del;
  const auto in_scale = numbers_after(del, in_at, "\"scale\""), in_zp = numbers_after(del, in_at, "\"zero_point\"");
  const auto out_scale = numbers_after(del, out_at, "\"scale\""), out_zp = numbers_after(del, out_at, "\"zero_point\"");
  ASSERT_EQ(in_scale.size(), 1u) << del;
  ASSERT_EQ(out_scale.size(), 10u) << del;  // per logit: input scale x weight scale of the last Gemm
  ASSERT_EQ(out_zp.size(), 10u) << del;

  // Four samples: full fixed-point / deployable model on float vs removed ones on the quantized input.
  for (int k = 0; k < 4; ++k) {
    Tensor x = test::random_f32({1, 1, 28, 28}, 500 + k, 0.f, 1.f);
    Tensor q = Tensor::empty(DType::kI8, x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float v = std::nearbyint(x.data<float>()[i] / static_cast<float>(in_scale[0])) + static_cast<float>(in_zp[0]);
      q.data<int8_t>()[i] = static_cast<int8_t>(std::min(127.f, std::max(-128.f, v)));
    }
    for (const auto& [full, cut] : {std::pair<std::string, std::string>{"out/fm_quantized_model.onnx", removed},
                                    {"out/fm.kwm", tmp.file("out/fm_removed.kwm")}}) {
      auto ref = run(tmp.file(full), {{"input", x}});
      auto got = run(cut, {{"input", q}});
      ASSERT_EQ(ref.size(), 1u);
      ASSERT_EQ(got.size(), 1u);
      ASSERT_EQ(got[0].dtype(), out_type);
      ASSERT_EQ(got[0].numel(), ref[0].numel());
      for (int64_t i = 0; i < ref[0].numel(); ++i) {
        const double deq = (got[0].get_f64(i) - out_zp[i % 10]) * out_scale[i % 10];
        ASSERT_NEAR(deq, ref[0].data<float>()[i], 1e-6 * (1 + std::fabs(deq))) << cut << " element " << i;
      }
    }
  }
  // kaiwu info on the removed model: int8 input, integer output, the deleted nodes with their qparams.
  ASSERT_EQ(test::run_command(kaiwu_bin() + " info " + e2e::sh_quote(removed), &out), 0) << out;
  EXPECT_NE(out.find("############# deleted nodes #############"), std::string::npos) << out;
  EXPECT_NE(out.find("input    input"), std::string::npos) << out;
  EXPECT_NE(out.find(" i8 "), std::string::npos) << out;
  EXPECT_NE(out.find("\"type\": \"Quantize\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"type\": \"Dequantize\""), std::string::npos) << out;
  EXPECT_NE(out.find("q = clamp(round(x / scale) + zero_point)"), std::string::npos) << out;
  ASSERT_EQ(test::run_command(kaiwu_bin() + " info " + e2e::sh_quote(tmp.file("out/fm_removed.kwm")), &out), 0) << out;
  EXPECT_NE(out.find("############# deleted nodes #############"), std::string::npos) << out;
}

// Removal errors and warnings: an unknown node name fails naming it; a type with nothing to remove warns.
TEST(DeployTools, RemoveNodeErrors) {
  e2e::TempDir tmp;
  write_calib(tmp, "calib", 2, 0.f, 1.f);
  std::string out;
  const std::string fm = "  input_type_rt: featuremap\n  input_type_train: featuremap\n  input_layout_train: NCHW\n";
  ASSERT_NE(compile(tmp, "a", fmnist_yaml(tmp, "a", fm, "  remove_node_name: 'no_such_node'\n"), &out), 0) << out;
  EXPECT_NE(out.find("no_such_node"), std::string::npos) << out;
  EXPECT_NE(out.find("remove_node_name"), std::string::npos) << out;
  // gray: the preprocessing folds the input quantization, so there is no Quantize to remove (a warning says why).
  const std::string gray =
      "  input_type_rt: gray\n  input_type_train: gray\n  input_layout_train: NCHW\n  scale_value: 0.00392156862745098\n";
  const std::string small = e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx";
  ASSERT_EQ(compile(tmp, "b", fmnist_yaml(tmp, "b", gray, "  remove_node_type: 'Quantize;Dequantize'\n", "calib", small), &out), 0)
      << out;
  std::string log;
  ASSERT_TRUE(read_file(tmp.file("b/kaiwu_compile.log"), &log).ok());
  EXPECT_NE(log.find("remove_node_type Quantize: no Quantize node"), std::string::npos) << log;
  EXPECT_NE(log.find("folded into the preprocessing"), std::string::npos) << log;
  EXPECT_TRUE(test::file_exists(tmp.file("b/fm_quantized_removed_model.onnx")));  // the Dequantize went
}

// Acceptance 4: input_batch 4 + separate_batch on a gray (pyramid) input gives four batch-1 inputs with their own
// preprocessing; on four frames the deployable returns exactly the four outputs of the batch-1 compile (same
// calibration data, so the same qparams).
TEST(DeployTools, SeparateBatchMatchesBatchOne) {
  e2e::TempDir tmp;
  write_calib(tmp, "calib", 4, 0.f, 1.f);
  const std::string gray =
      "  input_type_rt: gray\n  input_type_train: gray\n  input_layout_train: NCHW\n  scale_value: 0.00392156862745098\n";
  std::string out;
  ASSERT_EQ(compile(tmp, "one", fmnist_yaml(tmp, "one", gray, ""), &out), 0) << out;
  ASSERT_EQ(compile(tmp, "four", fmnist_yaml(tmp, "four", gray + "  input_batch: 4\n  separate_batch: True\n", ""), &out), 0)
      << out;
  std::string log;
  ASSERT_TRUE(read_file(tmp.file("four/kaiwu_compile.log"), &log).ok());
  EXPECT_NE(log.find("Split input input with input_batch 4 on dim 0"), std::string::npos) << log;
  NamedTensors feeds;
  std::vector<Tensor> frames;
  for (int b = 0; b < 4; ++b) {
    Tensor f = Tensor::empty(DType::kU8, {1, 28, 28, 1});
    Tensor r = test::random_f32({28 * 28}, 900 + b, 0.f, 255.f);
    for (int64_t i = 0; i < f.numel(); ++i) f.data<uint8_t>()[i] = static_cast<uint8_t>(r.data<float>()[i]);
    frames.push_back(f);
    feeds.emplace_back("input_" + std::to_string(b) + "_y", f);
  }
  for (const char* kind : {".kwm", "_quantized_model.onnx"}) {
    auto four = run(tmp.file(std::string("four/fm") + kind), feeds);
    ASSERT_EQ(four.size(), 1u);
    ASSERT_EQ(four[0].shape(), (Shape{4, 10}));
    for (int b = 0; b < 4; ++b) {
      auto one = run(tmp.file(std::string("one/fm") + kind), {{"input_y", frames[b]}});
      ASSERT_EQ(one.size(), 1u);
      ASSERT_EQ(one[0].numel(), 10);
      for (int i = 0; i < 10; ++i)
        EXPECT_EQ(four[0].data<float>()[b * 10 + i], one[0].data<float>()[i]) << kind << " batch " << b << " logit " << i;
    }
  }
  // The info table lists the split frame inputs with their layout and source.
  ASSERT_EQ(test::run_command(kaiwu_bin() + " info " + e2e::sh_quote(tmp.file("four/fm.kwm")), &out), 0) << out;
  for (int b = 0; b < 4; ++b) {
    const std::string name = "input_" + std::to_string(b) + "_y";
    const size_t p = out.find("input    " + name);
    ASSERT_NE(p, std::string::npos) << out;
    const std::string line = out.substr(p, out.find('\n', p) - p);
    EXPECT_NE(line.find("1x28x28x1"), std::string::npos) << line;
    EXPECT_NE(line.find("NHWC"), std::string::npos) << line;
    EXPECT_NE(line.find("pyramid"), std::string::npos) << line;
  }
}

// Acceptance 4 (post-hoc): `kaiwu batch-split` on the PTQ model of a two-input batch-2 model; the split deployable
// on the four batch-1 inputs equals the batched deployable.
TEST(DeployTools, BatchSplitCliTwoInputs) {
  e2e::TempDir tmp;
  const std::string py =
      "import onnx, numpy as np, sys\n"
      "from onnx import helper as h, TensorProto as T, numpy_helper as nh\n"
      "r = np.random.RandomState(0)\n"
      "w1 = nh.from_array(r.randn(4, 3, 3, 3).astype(np.float32) * 0.3, 'w1')\n"
      "w2 = nh.from_array(r.randn(4, 3, 3, 3).astype(np.float32) * 0.3, 'w2')\n"
      "nodes = [h.make_node('Conv', ['a', 'w1'], ['ca'], pads=[1, 1, 1, 1]),\n"
      "         h.make_node('Conv', ['b', 'w2'], ['cb'], pads=[1, 1, 1, 1]),\n"
      "         h.make_node('Add', ['ca', 'cb'], ['s']), h.make_node('Relu', ['s'], ['y'])]\n"
      "g = h.make_graph(nodes, 'two', [h.make_tensor_value_info('a', T.FLOAT, [2, 3, 8, 8]),\n"
      "     h.make_tensor_value_info('b', T.FLOAT, [2, 3, 8, 8])], [h.make_tensor_value_info('y', T.FLOAT, None)],\n"
      "     [w1, w2])\n"
      "m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)], ir_version=8)\n"
      "onnx.save(m, sys.argv[1])\n"
      "for k in range(3):\n"
      "  for n in 'ab':\n"
      "    np.save(sys.argv[2] + '/' + n + '/%d.npy' % k, r.randn(2, 3, 8, 8).astype(np.float32))\n";
  ASSERT_TRUE(e2e::write_bytes(tmp.file("make.py"), py).ok());
  std::filesystem::create_directories(tmp.file("cal/a"));
  std::filesystem::create_directories(tmp.file("cal/b"));
  std::string out;
  ASSERT_EQ(test::run_command(e2e::sh_quote(e2e::python()) + " " + tmp.file("make.py") + " " + tmp.file("two.onnx") +
                                  " " + tmp.file("cal") + " 2>&1",
                              &out),
            0)
      << out;
  const std::string yaml =
      "model_parameters:\n  onnx_model: '" + tmp.file("two.onnx") + "'\n  march: x86-avx512vnni\n  working_dir: '" +
      tmp.file("out") + "'\n  output_model_file_prefix: two\n"
      "input_parameters:\n  input_name: a;b\n  input_shape: 2x3x8x8;2x3x8x8\n  input_type_rt: featuremap;featuremap\n"
      "  input_type_train: featuremap;featuremap\n  input_layout_train: NCHW;NCHW\n"
      "calibration_parameters:\n  cal_data_dir: '" + tmp.file("cal/a") + ";" + tmp.file("cal/b") +
      "'\n  calibration_type: max\n"
      "  quant_config: {\"model_config\": {\"weight\": {\"calibration_type\": \"max\", \"bias_correction\": false}}}\n";
  ASSERT_EQ(compile(tmp, "two", yaml, &out), 0) << out;
  ASSERT_EQ(test::run_command(kaiwu_bin() + " batch-split " + tmp.file("out/two_ptq_model.onnx") + " -o " +
                                  tmp.file("split") + " 2>&1",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("Split input a with input_batch 2 on dim 0"), std::string::npos) << out;
  EXPECT_NE(out.find("Split input b with input_batch 2 on dim 0"), std::string::npos) << out;
  for (const char* f : {"split/two_split_ptq_model.onnx", "split/two_split_quantized_model.onnx", "split/two_split.kwm"})
    ASSERT_TRUE(test::file_exists(tmp.file(f))) << f << "\n" << out;
  Tensor a = test::random_f32({2, 3, 8, 8}, 7), b = test::random_f32({2, 3, 8, 8}, 8);
  auto part = [](const Tensor& t, int i) {
    Tensor p = Tensor::empty(DType::kF32, {1, 3, 8, 8});
    std::copy(t.data<float>() + i * 192, t.data<float>() + (i + 1) * 192, p.data<float>());
    return p;
  };
  NamedTensors split_feeds = {{"a_0", part(a, 0)}, {"a_1", part(a, 1)}, {"b_0", part(b, 0)}, {"b_1", part(b, 1)}};
  for (const auto& [full, split] : {std::pair<std::string, std::string>{"out/two.kwm", "split/two_split.kwm"},
                                    {"out/two_ptq_model.onnx", "split/two_split_ptq_model.onnx"},
                                    {"out/two_quantized_model.onnx", "split/two_split_quantized_model.onnx"}}) {
    auto ref = run(tmp.file(full), {{"a", a}, {"b", b}});
    auto got = run(tmp.file(split), split_feeds);
    ASSERT_EQ(ref.size(), 1u);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(got[0].shape(), ref[0].shape()) << split;
    EXPECT_TRUE(e2e::bit_equal(got[0], ref[0])) << split << ": " << e2e::diff_summary(got[0], ref[0]);
  }
  // --batch 3 re-batches every input first: six batch-1 inputs, output batch 3.
  ASSERT_EQ(test::run_command(kaiwu_bin() + " batch-split " + tmp.file("out/two_ptq_model.onnx") + " -o " +
                                  tmp.file("split3") + " --batch 3 --prefix t3 2>&1",
                              &out),
            0)
      << out;
  NamedTensors feeds3;
  for (const char* n : {"a", "b"})
    for (int i = 0; i < 3; ++i) feeds3.emplace_back(n + std::string("_") + std::to_string(i), part(i < 2 ? a : b, i % 2));
  auto got3 = run(tmp.file("split3/t3.kwm"), feeds3);
  ASSERT_EQ(got3.size(), 1u);
  EXPECT_EQ(got3[0].shape(), (Shape{3, 4, 8, 8}));
  // Bad requests fail with a message naming the input.
  EXPECT_NE(test::run_command(kaiwu_bin() + " batch-split " + tmp.file("out/two_ptq_model.onnx") + " -o " +
                                  tmp.file("x") + " --inputs nope 2>&1",
                              &out),
            0);
  EXPECT_NE(out.find("'nope'"), std::string::npos) << out;
  EXPECT_NE(test::run_command(kaiwu_bin() + " batch-split " + tmp.file("split/two_split_ptq_model.onnx") + " -o " +
                                  tmp.file("x") + " 2>&1",
                              &out),
            0);
  EXPECT_NE(out.find("no input has a static batch > 1"), std::string::npos) << out;
}

// The double-normalization guard: gray input with scale_value 1/255 and raw 0..255 calibration data warns with the
// numbers; data in 0..1 (normalized like the yaml says) does not.
TEST(DeployTools, DoubleNormalizationGuard) {
  e2e::TempDir tmp;
  write_calib(tmp, "raw", 2, 0.f, 255.f);
  write_calib(tmp, "norm", 2, 0.f, 1.f);
  const std::string model = e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx";
  const std::string gray =
      "  input_type_rt: gray\n  input_type_train: gray\n  input_layout_train: NCHW\n  scale_value: 0.00392156862745098\n";
  std::string out, log;
  ASSERT_EQ(compile(tmp, "raw", fmnist_yaml(tmp, "raw", gray, "", "raw", model), &out), 0) << out;
  ASSERT_TRUE(read_file(tmp.file("raw/kaiwu_compile.log"), &log).ok());
  EXPECT_NE(log.find("does not look normalized"), std::string::npos) << log;
  EXPECT_NE(log.find("max 25"), std::string::npos) << log;  // max 254.x
  EXPECT_NE(log.find("[0, 1]"), std::string::npos) << log;
  ASSERT_EQ(compile(tmp, "norm", fmnist_yaml(tmp, "norm", gray, "", "norm", model), &out), 0) << out;
  ASSERT_TRUE(read_file(tmp.file("norm/kaiwu_compile.log"), &log).ok());
  EXPECT_EQ(log.find("does not look normalized"), std::string::npos) << log;
}

}  // namespace
}  // namespace kaiwu
