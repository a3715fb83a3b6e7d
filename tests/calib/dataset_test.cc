// Calibration data readers: .npy and raw folders, dtype rules, and every error case.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "calib/dataset.h"
#include "calib_test_util.h"
#include "core/npy.h"

namespace kaiwu::calib {
namespace {

using test::TempDir;

InputSpec spec(const std::string& name, Shape s, DType d = DType::kF32) { return InputSpec{name, d, s}; }

template <typename T>
Tensor make(std::vector<T> v, Shape s) { return Tensor::from_vector<T>(v, s); }

TEST(CalibDataset, NpyFilesAreSortedConvertedAndMayOmitTheBatchDim) {
  TempDir tmp;
  std::string dir = tmp.sub("x");
  // b.npy: float64 with the full shape; a.npy: uint8 without the batch dim; c.npy: int32.
  ASSERT_TRUE(write_npy(dir + "/b.npy", make<double>({1.5, -2, 3, 4, 5, 6}, {1, 2, 3})).ok());
  ASSERT_TRUE(write_npy(dir + "/a.npy", make<uint8_t>({0, 1, 2, 250, 254, 255}, {2, 3})).ok());
  ASSERT_TRUE(write_npy(dir + "/c.npy", make<int32_t>({-7, 0, 7, 8, 9, 10}, {1, 2, 3})).ok());
  CalibrationDataset ds;
  Status st = CalibrationDataset::open({spec("x", {1, 2, 3})}, {dir}, "", &ds);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_EQ(ds.size(), 3u);
  NamedTensors feeds;
  ASSERT_TRUE(ds.sample(0, &feeds).ok());
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds[0].first, "x");
  EXPECT_EQ(feeds[0].second.dtype(), DType::kF32);
  EXPECT_EQ(feeds[0].second.shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(feeds[0].second.data<float>()[3], 250.f);
  EXPECT_EQ(feeds[0].second.data<float>()[5], 255.f);
  ASSERT_TRUE(ds.sample(1, &feeds).ok());
  EXPECT_EQ(feeds[0].second.data<float>()[0], 1.5f);
  EXPECT_EQ(feeds[0].second.data<float>()[1], -2.f);
  ASSERT_TRUE(ds.sample(2, &feeds).ok());
  EXPECT_EQ(feeds[0].second.data<float>()[0], -7.f);
  EXPECT_NE(ds.file(2, 0).find("c.npy"), std::string::npos);
  EXPECT_FALSE(ds.sample(3, &feeds).ok());
}

TEST(CalibDataset, RawFilesFollowTheF32SuffixRule) {
  TempDir tmp;
  std::string f32 = tmp.sub("img_f32"), u8 = tmp.sub("img");
  test::write_raw(f32 + "/0.bin", make<float>({0.25f, -1.f, 3.5f, 8.f}, {1, 4}));
  test::write_raw(u8 + "/0.bin", make<uint8_t>({0, 7, 128, 255}, {1, 4}));
  CalibrationDataset a, b;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {1, 4})}, {f32 + "/"}, "", &a).ok());
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {1, 4})}, {u8}, "", &b).ok());
  NamedTensors fa, fb;
  ASSERT_TRUE(a.sample(0, &fa).ok());
  ASSERT_TRUE(b.sample(0, &fb).ok());
  EXPECT_EQ(fa[0].second.data<float>()[0], 0.25f);
  EXPECT_EQ(fa[0].second.data<float>()[2], 3.5f);
  EXPECT_EQ(fb[0].second.data<float>()[2], 128.f);
  EXPECT_EQ(fb[0].second.data<float>()[3], 255.f);
  DType d;
  ASSERT_TRUE(raw_dtype_for_folder("/a/b/calib_f32", "", &d).ok());
  EXPECT_EQ(d, DType::kF32);
  ASSERT_TRUE(raw_dtype_for_folder("/a/b/calib_f32x", "", &d).ok());
  EXPECT_EQ(d, DType::kU8);
  EXPECT_FALSE(raw_dtype_for_folder("/a", "complex64", &d).ok());
}

TEST(CalibDataset, CalDataTypeOverridesTheSuffixAndConvertsToTheInputType) {
  TempDir tmp;
  std::string dir = tmp.sub("feat_f32");
  test::write_raw(dir + "/s.bin", make<int16_t>({-300, 0, 300}, {3}));
  CalibrationDataset ds;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {3}, DType::kI8)}, {dir}, "int16", &ds).ok());
  NamedTensors f;
  ASSERT_TRUE(ds.sample(0, &f).ok());
  ASSERT_EQ(f[0].second.dtype(), DType::kI8);
  EXPECT_EQ(f[0].second.data<int8_t>()[0], -128);  // saturated
  EXPECT_EQ(f[0].second.data<int8_t>()[2], 127);
}

TEST(CalibDataset, WrongRawSizeNamesFileAndBytes) {
  TempDir tmp;
  std::string dir = tmp.sub("d_f32");
  test::write_raw(dir + "/bad.bin", make<float>({1, 2, 3}, {3}));
  CalibrationDataset ds;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {1, 4})}, {dir}, "", &ds).ok());
  NamedTensors f;
  Status st = ds.sample(0, &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad.bin"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("12 bytes"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("expected 16"), std::string::npos) << st.message();
}

TEST(CalibDataset, WrongNpyShapeNamesExpectedAndActual) {
  TempDir tmp;
  std::string dir = tmp.sub("x");
  ASSERT_TRUE(write_npy(dir + "/s0.npy", make<float>({1, 2, 3, 4, 5, 6}, {3, 2})).ok());
  CalibrationDataset ds;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {1, 2, 3})}, {dir}, "", &ds).ok());
  NamedTensors f;
  Status st = ds.sample(0, &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("s0.npy"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[3, 2]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[1, 2, 3]"), std::string::npos) << st.message();
}

TEST(CalibDataset, NanOrInfNamesFileAndIndex) {
  TempDir tmp;
  std::string dir = tmp.sub("x");
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  ASSERT_TRUE(write_npy(dir + "/a.npy", make<float>({0, 1, 2, nan}, {4})).ok());
  ASSERT_TRUE(write_npy(dir + "/b.npy", make<double>({0, -INFINITY, 2, 3}, {4})).ok());
  (void)inf;
  CalibrationDataset ds;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {4})}, {dir}, "", &ds).ok());
  NamedTensors f;
  Status st = ds.sample(0, &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a.npy"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("index 3"), std::string::npos) << st.message();
  st = ds.sample(1, &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("b.npy"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("index 1"), std::string::npos) << st.message();
}

TEST(CalibDataset, FolderCountsMustMatch) {
  TempDir tmp;
  std::string a = tmp.sub("a"), b = tmp.sub("b");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(write_npy(a + "/" + std::to_string(i) + ".npy", make<float>({1}, {1})).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(write_npy(b + "/" + std::to_string(i) + ".npy", make<float>({1}, {1})).ok());
  CalibrationDataset ds;
  Status st = CalibrationDataset::open({spec("a", {1}), spec("b", {1})}, {a, b}, "", &ds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("has 3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("has 2"), std::string::npos) << st.message();
  // Two inputs but one folder.
  st = CalibrationDataset::open({spec("a", {1}), spec("b", {1})}, {a}, "", &ds);
  EXPECT_FALSE(st.ok());
}

TEST(CalibDataset, EmptyOrMissingFolderIsNamed) {
  TempDir tmp;
  std::string empty = tmp.sub("empty");
  CalibrationDataset ds;
  Status st = CalibrationDataset::open({spec("x", {1})}, {empty}, "", &ds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("empty"), std::string::npos) << st.message();
  st = CalibrationDataset::open({spec("x", {1})}, {tmp.path() + "/nope"}, "", &ds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nope"), std::string::npos) << st.message();
}

TEST(CalibDataset, FortranOrderAndObjectArraysAreRefused) {
  TempDir tmp;
  std::string dir = tmp.sub("x");
  auto npy_with = [](const std::string& descr, bool fortran) {
    std::string h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                    ", 'shape': (2,), }";
    while ((10 + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::string s = "\x93NUMPY";
    s += '\x01';
    s += '\x00';
    s += static_cast<char>(h.size() & 0xff);
    s += static_cast<char>(h.size() >> 8);
    return s + h + std::string(16, '\0');
  };
  std::string f = npy_with("<f4", true), o = npy_with("|O", false);
  test::write_bytes(dir + "/f.npy", f.data(), f.size());
  CalibrationDataset ds;
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {2})}, {dir}, "", &ds).ok());
  NamedTensors feeds;
  Status st = ds.sample(0, &feeds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("f.npy"), std::string::npos) << st.message();
  std::string dir2 = tmp.sub("y");
  test::write_bytes(dir2 + "/o.npy", o.data(), o.size());
  ASSERT_TRUE(CalibrationDataset::open({spec("x", {2})}, {dir2}, "", &ds).ok());
  st = ds.sample(0, &feeds);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("o.npy"), std::string::npos) << st.message();
}

TEST(CalibDataset, RandomDataIsDeterministicAndInRange) {
  std::vector<InputSpec> in = {spec("x", {1, 3, 4, 4}), spec("ids", {1, 8}, DType::kU8)};
  CalibrationDataset a = random_dataset(in, 4, 42), b = random_dataset(in, 4, 42), c = random_dataset(in, 4, 43);
  ASSERT_EQ(a.size(), 4u);
  NamedTensors fa, fb, fc, f1;
  ASSERT_TRUE(a.sample(2, &fa).ok());
  ASSERT_TRUE(b.sample(2, &fb).ok());
  ASSERT_TRUE(c.sample(2, &fc).ok());
  ASSERT_TRUE(a.sample(1, &f1).ok());
  ASSERT_EQ(fa.size(), 2u);
  EXPECT_EQ(fa[1].second.dtype(), DType::kU8);
  const float* x = fa[0].second.data<float>();
  bool differs_seed = false, differs_index = false;
  for (int i = 0; i < 48; ++i) {
    EXPECT_EQ(x[i], fb[0].second.data<float>()[i]);
    EXPECT_GE(x[i], -1.f);
    EXPECT_LT(x[i], 1.f);
    differs_seed |= x[i] != fc[0].second.data<float>()[i];
    differs_index |= x[i] != f1[0].second.data<float>()[i];
  }
  EXPECT_TRUE(differs_seed);
  EXPECT_TRUE(differs_index);
}

}  // namespace
}  // namespace kaiwu::calib
