#include <gtest/gtest.h>

#include <cstdio>

#include "core/file_util.h"
#include "core/half.h"
#include "core/npy.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string tmp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(Npy, RoundTripsEveryDtype) {
  for (DType dt : {DType::kF32, DType::kF16, DType::kF64, DType::kI8, DType::kU8, DType::kI16, DType::kU16, DType::kI32,
                   DType::kI64, DType::kBool}) {
    Tensor t = Tensor::zeros(dt, {2, 3});
    for (size_t b = 0; b < t.nbytes(); ++b) static_cast<uint8_t*>(t.raw())[b] = static_cast<uint8_t>(b * 7 % 2);
    std::string p = tmp_path(std::string("rt_") + dtype_name(dt) + ".npy");
    ASSERT_TRUE(write_npy(p, t).ok());
    Tensor r;
    ASSERT_TRUE(read_npy(p, &r).ok());
    EXPECT_EQ(r.dtype(), dt);
    EXPECT_EQ(r.shape(), (Shape{2, 3}));
    EXPECT_EQ(0, std::memcmp(r.raw(), t.raw(), t.nbytes()));
  }
}

TEST(Npy, ScalarAnd1DShapes) {
  Tensor s = Tensor::from_vector<float>({3.5f}, {});
  std::string p = tmp_path("scalar.npy");
  ASSERT_TRUE(write_npy(p, s).ok());
  Tensor r;
  ASSERT_TRUE(read_npy(p, &r).ok());
  EXPECT_EQ(r.rank(), 0);
  EXPECT_EQ(r.data<float>()[0], 3.5f);
  Tensor v = Tensor::from_vector<int64_t>({1, 2, 3});
  ASSERT_TRUE(write_npy(p, v).ok());
  ASSERT_TRUE(read_npy(p, &r).ok());
  EXPECT_EQ(r.shape(), (Shape{3}));
  EXPECT_EQ(r.data<int64_t>()[2], 3);
}

TEST(Npy, RejectsBadFilesWithClearMessages) {
  Tensor r;
  std::string p = tmp_path("bad.npy");
  ASSERT_TRUE(write_file_atomic(p, "not a numpy file at all").ok());
  Status st = read_npy(p, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(p), std::string::npos);
  EXPECT_NE(st.message().find("magic"), std::string::npos);

  std::string hdr = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
  std::string f = std::string("\x93NUMPY\x01\x00", 8) + char(hdr.size()) + '\0' + hdr + std::string(16, '\0');
  ASSERT_TRUE(write_file_atomic(p, f).ok());
  st = read_npy(p, &r);
  EXPECT_NE(st.message().find("Fortran"), std::string::npos) << st.message();

  hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }";
  f = std::string("\x93NUMPY\x01\x00", 8) + char(hdr.size()) + '\0' + hdr + std::string(16, '\0');
  ASSERT_TRUE(write_file_atomic(p, f).ok());
  st = read_npy(p, &r);
  EXPECT_NE(st.message().find("object"), std::string::npos) << st.message();

  hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }";
  f = std::string("\x93NUMPY\x01\x00", 8) + char(hdr.size()) + '\0' + hdr + std::string(16, '\0');
  ASSERT_TRUE(write_file_atomic(p, f).ok());
  st = read_npy(p, &r);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();

  st = read_npy(tmp_path("does_not_exist.npy"), &r);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
}

TEST(Raw, SizeMustMatch) {
  std::string p = tmp_path("x.bin");
  ASSERT_TRUE(write_file_atomic(p, std::string(24, '\0')).ok());
  Tensor r;
  EXPECT_TRUE(read_raw(p, DType::kF32, {2, 3}, &r).ok());
  Status st = read_raw(p, DType::kF32, {2, 4}, &r);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("24 bytes, expected 32"), std::string::npos) << st.message();
}

TEST(Half, ConversionsMatchIeee) {
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), 5.960464477539063e-08f);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(1e6f), 0x7c00);
  EXPECT_EQ(float_to_half(5.960464477539063e-08f), 0x0001);
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie -> even
  EXPECT_EQ(float_to_half(1.0f + 3.0f / 2048), 0x3c02);  // tie -> even (up)
  // Every half value round-trips.
  for (uint32_t h = 0; h < 65536; ++h) {
    uint16_t v = static_cast<uint16_t>(h);
    if ((v & 0x7c00) == 0x7c00 && (v & 0x3ff)) continue;  // NaN payloads
    EXPECT_EQ(float_to_half(half_to_float(v)), v) << h;
  }
}

TEST(AtomicWrite, FailsCleanlyOnUnwritableFolder) {
  Status st = write_file_atomic("/proc/kaiwu_no_such_dir/x.bin", "abc");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/proc/kaiwu_no_such_dir/x.bin"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
