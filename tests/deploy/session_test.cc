// A real model through the deployable path: fmnist_small.onnx optimized for the CPU, written as .kwm, read back and
// run (GraphExecutor and kaiwu::Session) with outputs bit-identical to the in-memory graph and to the source ONNX.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/npy.h"
#include "deploy/deployable.h"
#include "deploy/model_compare.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "kaiwu/session.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "quant/quant.h"
#include "runtime/graph_executor.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string fmnist_path() { return test::source_dir() + "/examples/fmnist/fmnist_small.onnx"; }
std::string tmp_path(const std::string& name) {
  return "/tmp/kaiwu_deploy_s_" + std::to_string(::getpid()) + "_" + name;
}

// The four sample images as one [4, 1, 28, 28] batch.
Tensor sample_batch() {
  Tensor batch = Tensor::empty(DType::kF32, {4, 1, 28, 28});
  for (int i = 0; i < 4; ++i) {
    Tensor t;
    Status st = read_npy(test::source_dir() + "/examples/fmnist/sample_" + std::to_string(i) + ".npy", &t);
    EXPECT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(t.numel(), 784);
    if (st.ok() && t.numel() == 784) std::memcpy(batch.data<float>() + 784 * i, t.raw(), 784 * sizeof(float));
  }
  return batch;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

Status run_executor(ir::Model m, const Tensor& x, Tensor* y) {
  SessionOptions o;
  o.num_threads = 2;
  o.optimize = false;
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(m), o, &ex));
  std::vector<Tensor> out;
  KW_RETURN_IF_ERROR(ex->run({{"input", x}}, {}, &out));
  *y = out.at(0);
  return Status::Ok();
}

Status run_session(const std::string& path, const Tensor& x, Tensor* y, std::vector<NodeProfile>* prof = nullptr,
                   bool reference_only = false) {
  SessionOptions o;
  o.num_threads = 2;
  o.reference_only = reference_only;
  std::unique_ptr<Session> s;
  KW_RETURN_IF_ERROR(Session::open(path, o, &s));
  s->enable_profiling(prof != nullptr);
  std::vector<Tensor> out;
  KW_RETURN_IF_ERROR(s->run({{"input", x}}, {}, &out));
  *y = out.at(0);
  if (prof) *prof = s->profile();
  return Status::Ok();
}

TEST(DeployFmnist, OptimizedGraphRoundTripsAndRunsBitIdentical) {
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(fmnist_path(), &m).ok());
  ASSERT_TRUE(passes::optimize_for_cpu(m).ok());
  bool has_kaiwu = false;
  for (const auto& n : m.graph.nodes) has_kaiwu |= n.domain == "kaiwu";
  EXPECT_TRUE(has_kaiwu) << "the optimized graph should hold kaiwu-domain nodes";
  const std::string path = tmp_path("fmnist.kwm");
  deploy::DeployInfo info{"0.1.0", kernels::host_target(), "{\"model\": \"fmnist_small\"}"};
  ASSERT_TRUE(deploy::write_deployable(m, info, path).ok());
  ir::Model back;
  deploy::DeployInfo info2;
  Status st = deploy::read_deployable(path, &back, &info2);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(test::model_diff(m, back), "");
  EXPECT_EQ(info2.target, kernels::host_target());

  const Tensor x = sample_batch();
  Tensor want, got;
  ASSERT_TRUE(run_executor(m, x, &want).ok());
  st = run_executor(std::move(back), x, &got);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(want.shape(), (Shape{4, 10}));
  EXPECT_TRUE(bit_equal(want, got));
  // The stored labels of the samples (9, 2, 1, 6) are the arg-max.
  const int labels[4] = {9, 2, 1, 6};
  for (int i = 0; i < 4; ++i) {
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (got.data<float>()[i * 10 + c] > got.data<float>()[i * 10 + best]) best = c;
    EXPECT_EQ(best, labels[i]) << "sample " << i;
  }
  std::remove(path.c_str());
}

TEST(DeployFmnist, SessionOpensKwmLikeTheSourceOnnx) {
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(fmnist_path(), &m).ok());
  ASSERT_TRUE(passes::optimize_for_cpu(m).ok());
  const std::string path = tmp_path("session.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, {"0.1.0", kernels::host_target(), "{}"}, path).ok());
  const Tensor x = sample_batch();
  Tensor from_onnx, from_kwm;
  Status st = run_session(fmnist_path(), x, &from_onnx);
  ASSERT_TRUE(st.ok()) << st.to_string();
  std::vector<NodeProfile> prof;
  st = run_session(path, x, &from_kwm, &prof);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(bit_equal(from_onnx, from_kwm));
  EXPECT_EQ(prof.size(), m.graph.nodes.size());  // the stored graph ran as it is
  // The reference kernels run the stored (fused, NHWC) graph too.
  Tensor ref;
  st = run_session(path, x, &ref, nullptr, true);
  ASSERT_TRUE(st.ok()) << st.to_string();
  std::string why;
  EXPECT_TRUE(test::all_close(ref, from_kwm, 1e-4, 1e-5, &why)) << why;
  std::remove(path.c_str());
}

// The session runs a deployable's graph without optimizing it again: an unoptimized graph stays unfused.
TEST(DeployFmnist, SessionDoesNotReoptimize) {
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(fmnist_path(), &m).ok());
  const size_t nodes = m.graph.nodes.size();
  const std::string path = tmp_path("raw.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, {"0.1.0", "generic", ""}, path).ok());
  const Tensor x = sample_batch();
  Tensor y, want;
  std::vector<NodeProfile> prof;
  Status st = run_session(path, x, &y, &prof);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(prof.size(), nodes);
  int relus = 0;
  for (const auto& p : prof) relus += p.op_type == "Relu";
  EXPECT_EQ(relus, 4);  // not fused into kaiwu.Conv
  ASSERT_TRUE(run_session(fmnist_path(), x, &want).ok());
  std::string why;
  EXPECT_TRUE(test::all_close(y, want, 1e-4, 1e-5, &why)) << why;
  std::remove(path.c_str());
}

TEST(DeployFmnist, SessionRefusesBadKwm) {
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(fmnist_path(), &m).ok());
  const std::string path = tmp_path("target.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, {"0.1.0", "riscv-rvv", ""}, path).ok());
  std::unique_ptr<Session> s;
  Status st = Session::open(path, SessionOptions{}, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("riscv-rvv"), std::string::npos) << st.message();
  // A damaged deployable: the session reports the corruption, it does not fall back to the ONNX loader.
  std::string bytes;
  ASSERT_TRUE(deploy::serialize_deployable(m, {}, &bytes).ok());
  bytes[bytes.size() - 1] ^= 1;
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  st = Session::open(path, SessionOptions{}, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corrupted"), std::string::npos) << st.message();
  std::remove(path.c_str());
}

// A QDQ model (int8 per-channel weights, int32 biases, QuantizeLinear/DequantizeLinear) optimized for the CPU: the
// deployable runs bit-identical to the in-memory graph and to a session on the QDQ ONNX.
TEST(DeployFmnist, QdqModelRoundTripsAndRunsBitIdentical) {
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(fmnist_path(), &m).ok());
  ASSERT_TRUE(passes::optimize_standard(m).ok());
  std::map<std::string, quant::TensorRange> ranges;
  for (const auto& v : m.graph.inputs) ranges[v.name] = {-3.f, 3.f};
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs) ranges[o] = {-8.f, 8.f};
  Status st = quant::insert_qdq(m, ranges, quant::QuantOptions{}, nullptr);
  ASSERT_TRUE(st.ok()) << st.to_string();
  const std::string onnx_path = tmp_path("qdq.onnx"), kwm_path = tmp_path("qdq.kwm");
  ASSERT_TRUE(frontend::save_onnx(m, onnx_path).ok());
  ASSERT_TRUE(passes::optimize_for_cpu(m).ok());
  bool has_int8 = false;
  for (const auto& [name, t] : m.graph.initializers) has_int8 |= t.dtype() == DType::kI8;
  EXPECT_TRUE(has_int8);
  ASSERT_TRUE(deploy::write_deployable(m, {"0.1.0", kernels::host_target(), "{}"}, kwm_path).ok());
  ir::Model back;
  ASSERT_TRUE(deploy::read_deployable(kwm_path, &back, nullptr).ok());
  EXPECT_EQ(test::model_diff(m, back), "");
  const Tensor x = sample_batch();
  Tensor want, got, from_onnx, from_kwm;
  ASSERT_TRUE(run_executor(m, x, &want).ok());
  ASSERT_TRUE(run_executor(std::move(back), x, &got).ok());
  EXPECT_TRUE(bit_equal(want, got));
  st = run_session(onnx_path, x, &from_onnx);
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = run_session(kwm_path, x, &from_kwm);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(bit_equal(from_onnx, from_kwm));
  EXPECT_TRUE(bit_equal(want, from_kwm));
  std::remove(onnx_path.c_str());
  std::remove(kwm_path.c_str());
}

}  // namespace
}  // namespace kaiwu
