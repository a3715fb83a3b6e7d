// ONNX round trip of every e2e model: frontend::load_onnx then frontend::save_onnx to a temp file, then
//  - <Model>OnnxCheckerAndOrt: scripts/check_roundtrip.py: onnx.checker.check_model(full_check=True) passes on the
//    exported file, graph inputs/outputs are kept, and onnxruntime's outputs on the model's first reference input
//    are bit-identical (np.array_equal) between the original and the exported file;
//  - <Model>SessionBitExact: kaiwu::Session on the exported file equals kaiwu::Session on the original bit for bit.
#include <gtest/gtest.h>

#include <cstdio>

#include "e2e/e2e_util.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "test_util.h"

namespace kaiwu {
namespace {

// Imports model `name` and exports it to `tmp`/exported.onnx.
void export_roundtrip(const std::string& name, const e2e::TempDir& tmp, std::string* orig, std::string* exported) {
  ASSERT_TRUE(e2e::model_path(name, orig).ok());
  ir::Model m;
  Status st = frontend::load_onnx(*orig, &m);
  ASSERT_TRUE(st.ok()) << st.to_string();
  *exported = tmp.file(name + "_exported.onnx");
  st = frontend::save_onnx(m, *exported);
  ASSERT_TRUE(st.ok()) << st.to_string();
}

void check_onnx_and_ort(const std::string& name) {
  e2e::Refs refs;
  Status st = e2e::load_refs(name, &refs);  // for the input: case0_input.npy
  ASSERT_TRUE(st.ok()) << st.to_string();
  e2e::TempDir tmp;
  std::string orig, exported;
  double t0 = e2e::now_ms();
  ASSERT_NO_FATAL_FAILURE(export_roundtrip(name, tmp, &orig, &exported));
  double t1 = e2e::now_ms();
  std::string input = e2e::refs_dir() + "/" + name + "/case0_input.npy";
  std::string cmd = e2e::sh_quote(e2e::python()) + " " +
                    e2e::sh_quote(e2e::source_dir() + "/scripts/check_roundtrip.py") + " " + e2e::sh_quote(orig) +
                    " " + e2e::sh_quote(exported) + " " + e2e::sh_quote(input) + " " +
                    e2e::sh_quote(refs.input_name);
  std::string log;
  int rc = test::run_command(cmd, &log);
  EXPECT_EQ(rc, 0) << cmd << "\n" << log;
  std::printf("[ %s ] round trip: import+export %.0f ms, python check %.0f ms\n%s", name.c_str(), t1 - t0,
              e2e::now_ms() - t1, log.c_str());
}

void check_session_bit_exact(const std::string& name) {
  e2e::Refs refs;
  Status st = e2e::load_refs(name, &refs);
  ASSERT_TRUE(st.ok()) << st.to_string();
  e2e::TempDir tmp;
  std::string orig, exported;
  ASSERT_NO_FATAL_FAILURE(export_roundtrip(name, tmp, &orig, &exported));
  std::unique_ptr<Session> a, b;
  st = e2e::open_session(orig, 0, &a);
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = e2e::open_session(exported, 0, &b);
  ASSERT_TRUE(st.ok()) << st.to_string();
  std::vector<Tensor> ya, yb;
  st = e2e::run_session(*a, refs.input_name, refs.cases[0].input, &ya);
  ASSERT_TRUE(st.ok()) << "original: " << st.to_string();
  st = e2e::run_session(*b, refs.input_name, refs.cases[0].input, &yb);
  ASSERT_TRUE(st.ok()) << "exported: " << st.to_string();
  ASSERT_EQ(ya.size(), yb.size());
  for (size_t j = 0; j < ya.size(); ++j)
    EXPECT_TRUE(e2e::bit_equal(ya[j], yb[j]))
        << name << " output " << j << ": exported model differs: " << e2e::diff_summary(yb[j], ya[j]);
}

#define KW_ROUNDTRIP_TESTS(Suite, Id, name)                              \
  TEST(Suite, Id##OnnxCheckerAndOrt) { check_onnx_and_ort(name); }       \
  TEST(Suite, Id##SessionBitExact) { check_session_bit_exact(name); }

KW_ROUNDTRIP_TESTS(RoundTrip, Fmnist, "fmnist")
KW_ROUNDTRIP_TESTS(RoundTrip, PpocrCls, "ppocr_cls")
KW_ROUNDTRIP_TESTS(RoundTrip, PpocrRec, "ppocr_rec")
KW_ROUNDTRIP_TESTS(RoundTrip, MobilenetV3Small, "mobilenet_v3_small")
KW_ROUNDTRIP_TESTS(RoundTrip, Resnet18, "resnet18")
KW_ROUNDTRIP_TESTS(RoundTrip, Resnet50, "resnet50")
KW_ROUNDTRIP_TESTS(RoundTrip, MobilenetV2, "mobilenet_v2")
KW_ROUNDTRIP_TESTS(RoundTrip, EfficientnetB0, "efficientnet_b0")
KW_ROUNDTRIP_TESTS(RoundTrip, PpocrDet, "ppocr_det")

}  // namespace
}  // namespace kaiwu
