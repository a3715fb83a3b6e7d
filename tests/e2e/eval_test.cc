// `kaiwu eval` and its datasets: Fashion-MNIST IDX accuracy through the CLI (exactly 91.62% for fmnist_cnn, as in
// fmnist_test.cc), ImageNet preprocessing against PIL (resize 256 bilinear with antialiasing, centre crop 224),
// the generic comparison mode, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/npy.h"
#include "e2e/e2e_util.h"
#include "eval/dataset.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string kaiwu_bin() { return e2e::build_dir() + "/bin/kaiwu"; }

TEST(Eval, FashionMnistIdxAccuracyThroughTheCli) {
  const std::string d = "/usr/share/datasets/fashion-mnist";
  const std::string model = e2e::shared_dir() + "/models/fmnist/fmnist_cnn.onnx";
  std::string out;
  const int rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " eval -m " + e2e::sh_quote(model) + " --idx-images " +
                                       d + "/t10k-images-idx3-ubyte.gz --idx-labels " + d +
                                       "/t10k-labels-idx1-ubyte.gz --mean 0.2860 --std 0.3530 2>/dev/null",
                                   &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("91.62%"), std::string::npos) << out;
  EXPECT_NE(out.find("samples: 10000"), std::string::npos) << out;
}

TEST(Eval, ImagenetPreprocessingMatchesPil) {
  const std::string img = e2e::shared_dir() + "/data/imagenet-sample/n01443537_goldfish.jpg";
  e2e::TempDir tmp;
  const std::string ref = tmp.file("pil.npy");
  const std::string py =
      "import sys, numpy as np\nfrom PIL import Image\n"
      "im = Image.open(sys.argv[1]).convert('RGB'); w, h = im.size\n"
      "nw, nh = (int(256 * w / h), 256) if w >= h else (256, int(256 * h / w))\n"
      "im = im.resize((nw, nh), Image.BILINEAR)\n"
      "l, t = (nw - 224 + 1) // 2, (nh - 224 + 1) // 2\n"
      "a = np.asarray(im.crop((l, t, l + 224, t + 224)), dtype=np.float32) / 255\n"
      "m = np.array([0.485, 0.456, 0.406], np.float32); s = np.array([0.229, 0.224, 0.225], np.float32)\n"
      "np.save(sys.argv[2], ((a - m) / s).transpose(2, 0, 1)[None].astype(np.float32))\n";
  const std::string script = tmp.file("pil.py");
  ASSERT_TRUE(e2e::write_bytes(script, py).ok());
  std::string out;
  ASSERT_EQ(test::run_command(e2e::sh_quote(e2e::python()) + " " + script + " " + img + " " + ref, &out), 0) << out;
  Tensor want;
  ASSERT_TRUE(read_npy(ref, &want).ok());
  eval::Image im;
  ASSERT_TRUE(eval::read_image(img, &im).ok());
  Tensor got = eval::imagenet_preprocess(im);
  ASSERT_EQ(got.shape(), want.shape());
  // Pixel steps of 1/255 (JPEG decoders and resampling rounding may differ by a step or two): in normalized units
  // one step is 1 / (255 * 0.224) ~ 0.0175.
  double worst = 0, mean_abs = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double dv = std::fabs(got.data<float>()[i] - want.data<float>()[i]);
    worst = std::max(worst, dv);
    mean_abs += dv;
  }
  mean_abs /= got.numel();
  EXPECT_LT(mean_abs, 0.01) << "mean |kaiwu - PIL|";
  EXPECT_LT(worst, 0.1) << "max |kaiwu - PIL|";
}

TEST(Eval, CompareModeAndErrors) {
  e2e::TempDir tmp;
  const std::string model = e2e::source_dir() + "/examples/fmnist/fmnist_small.onnx";
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(write_npy(tmp.file("x" + std::to_string(i) + ".npy"), test::random_f32({1, 1, 28, 28}, i)).ok());
  std::string out;
  int rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " eval --compare " + model + " " + model + " --data " +
                                 tmp.path() + " 2>&1",
                             &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("cosine: 1.000000"), std::string::npos) << out;
  EXPECT_NE(out.find("top-1 agreement: 100.00%"), std::string::npos) << out;
  rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " eval -m " + model + " --images /nonexistent --labels " +
                             "/nonexistent/labels.tsv 2>&1",
                         &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("/nonexistent/labels.tsv"), std::string::npos) << out;
  rc = test::run_command(e2e::sh_quote(kaiwu_bin()) + " eval -m " + model + " 2>&1", &out);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("give the data"), std::string::npos) << out;
}

}  // namespace
}  // namespace kaiwu
