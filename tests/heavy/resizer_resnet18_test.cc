// Issue 4 acceptance 3 on resnet18 (label `heavy`): build/models/resnet18.onnx (torchvision architecture, random
// weights) compiled with input_type_rt nv12, input_source resizer, ImageNet mean/scale, 20 calibration samples of
// build/ptq_sweep/resnet18/calib (ImageNet images normalized like training data). Frames: 60 other images of that
// folder, de-normalized to their uint8 pixels, placed in a 272x320 frame (edges replicated) and converted to nv12;
// ROIs: the image's square jittered by up to +-48 pixels per side, clamped to the frame (128..320 pixels: smaller
// and larger than 224, touching the borders; the exact square is the identity). The deployable's output is
// compared with P_ptq_model.onnx on the reference crop-resize (tests/resizer_reference.h): mean cosine >= 0.999,
// same top-1 on >= 98% of the ROIs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/npy.h"
#include "kaiwu/compile.h"
#include "kaiwu/session.h"
#include "kernels/ref/preprocess.h"
#include "compile_util.h"
#include "resizer_reference.h"
#include "test_util.h"

namespace kaiwu {
namespace {

namespace fs = std::filesystem;

const double kMean[3] = {123.675, 116.28, 103.53}, kScale[3] = {0.01712475, 0.017507, 0.01742919};

TEST(ResizerHeavy, Resnet18DeployableMatchesQdqModel) {
  const std::string model = test::source_dir() + "/build/models/resnet18.onnx";
  const std::string calib = test::source_dir() + "/build/ptq_sweep/resnet18/calib";
  if (!fs::exists(model) || !fs::exists(calib + "/079.npy")) GTEST_SKIP() << "needs " << model << " and " << calib;
  const std::string dir = ::testing::TempDir() + "/kaiwu_resizer_resnet18";
  fs::remove_all(dir);
  fs::create_directories(dir + "/calib");
  for (int i = 0; i < 20; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%03d.npy", i);
    fs::create_symlink(calib + "/" + name, dir + "/calib/" + name);
  }
  std::ofstream(dir + "/c.yaml")
      << "model_parameters:\n  onnx_model: '" << model << "'\n  march: x86-avx512vnni\n  working_dir: '" << dir
      << "/out'\n  output_model_file_prefix: r18\n"
      << "input_parameters:\n  input_name: input\n  input_type_rt: nv12\n  input_type_train: rgb\n"
         "  input_layout_train: NCHW\n  input_shape: 1x3x224x224\n  mean_value: 123.675 116.28 103.53\n"
         "  scale_value: 0.01712475 0.017507 0.01742919\n"
      << "calibration_parameters:\n  cal_data_dir: '" << dir << "/calib'\n  calibration_type: max\n"
      << "  quant_config: {model_config: {weight: {calibration_type: max, bias_correction: false}}}\n"
      << "compiler_parameters:\n  optimize_level: O2\n  input_source: {input: resizer}\n";
  std::unique_ptr<Session> dep, ptq;
  ASSERT_TRUE(test::compile_and_open(dir + "/c.yaml", dir + "/out", "r18", 2, &dep, &ptq));

  const int64_t FH = 272, FW = 320, OY = 24, OX = 48, S = 224;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> jit(-48, 48);
  int runs = 0, same = 0;
  double cos_sum = 0, cos_min = 1;
  for (int i = 20; i < 80; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "/%03d.npy", i);
    Tensor x;
    ASSERT_TRUE(read_npy(calib + name, &x).ok());
    ASSERT_EQ(x.shape(), (Shape{1, 3, S, S}));
    std::vector<uint8_t> img(S * S * 3), frame(FH * FW * 3);
    const double m[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
    for (int c = 0; c < 3; ++c)
      for (int64_t p = 0; p < S * S; ++p)
        img[p * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround((x.data<float>()[c * S * S + p] * sd[c] + m[c]) * 255), 0L, 255L));
    for (int64_t r = 0; r < FH; ++r)
      for (int64_t c = 0; c < FW; ++c) {
        const int64_t sr = std::clamp<int64_t>(r - OY, 0, S - 1), sc = std::clamp<int64_t>(c - OX, 0, S - 1);
        std::memcpy(&frame[(r * FW + c) * 3], &img[(sr * S + sc) * 3], 3);
      }
    Tensor y = Tensor::empty(DType::kU8, {1, FH, FW, 1}), uv = Tensor::empty(DType::kU8, {1, FH / 2, FW / 2, 2});
    kernels::ref::rgb_to_nv12(frame.data(), FH, FW, false, false, y.data<uint8_t>(), uv.data<uint8_t>());
    int32_t roi[4] = {int32_t(OX), int32_t(OY), int32_t(OX + S - 1), int32_t(OY + S - 1)};
    if (i > 20) {
      roi[0] = std::max<int32_t>(0, roi[0] + jit(rng));
      roi[1] = std::max<int32_t>(0, roi[1] + jit(rng));
      roi[2] = std::min<int32_t>(FW - 1, roi[2] + jit(rng));
      roi[3] = std::min<int32_t>(FH - 1, roi[3] + jit(rng));
    }
    Tensor rt = Tensor::empty(DType::kI32, {1, 4});
    std::memcpy(rt.data<int32_t>(), roi, 16);
    std::vector<Tensor> a, b;
    Status s = dep->run({{"input_y", y}, {"input_uv", uv}, {"input_roi", rt}}, {}, &a);
    ASSERT_TRUE(s.ok()) << s.message();
    s = ptq->run({{"input", test::normalize_nchw(test::resizer_rgb(y, uv, roi, S, S), S, S, kMean, kScale)}}, {}, &b);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(a[0].numel(), b[0].numel());
    const float *pa = a[0].data<float>(), *pb = b[0].data<float>();
    double ab = 0, aa = 0, bb = 0;
    for (int64_t k = 0; k < a[0].numel(); ++k) ab += double(pa[k]) * pb[k], aa += double(pa[k]) * pa[k], bb += double(pb[k]) * pb[k];
    const double cosv = ab / std::sqrt(aa * bb + 1e-30);
    cos_sum += cosv;
    cos_min = std::min(cos_min, cosv);
    same += std::max_element(pa, pa + a[0].numel()) - pa == std::max_element(pb, pb + b[0].numel()) - pb;
    ++runs;
  }
  std::printf("resnet18 resizer: %d ROIs, same top-1 %d, mean cosine %.6f, min %.6f\n", runs, same, cos_sum / runs, cos_min);
  EXPECT_GE(cos_sum / runs, 0.999);
  EXPECT_GE(same, runs * 98 / 100);
  if (!std::getenv("KAIWU_KEEP_TEST_DIR")) fs::remove_all(dir);
}

}  // namespace
}  // namespace kaiwu
