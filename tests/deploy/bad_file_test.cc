// Deployable model files that are missing, foreign, damaged or too new: a clear error naming the file, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "core/file_util.h"
#include "deploy/crc32c.h"
#include "deploy/deployable.h"
#include "deploy/model_compare.h"
#include "deploy/rich_model.h"

namespace kaiwu {
namespace {

class BadDeployable : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/kaiwu_deploy_bad_" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0755);
    model_ = test::rich_model();
    ASSERT_TRUE(deploy::serialize_deployable(model_, {"1", "generic", "{}"}, &good_).ok());
  }
  void TearDown() override {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  // Writes `bytes` and reads them back as a deployable.
  Status load(const std::string& bytes, ir::Model* m = nullptr) {
    std::remove(path_.c_str());  // a fresh file: truncating one in place makes ext4 flush it on close (slow)
    std::ofstream(path_, std::ios::binary).write(bytes.data(), bytes.size());
    ir::Model tmp;
    return deploy::read_deployable(path_, m ? m : &tmp, nullptr);
  }
  // Expects an error whose message names the file and contains `what`.
  void expect_error(const std::string& bytes, const std::string& what) {
    Status st = load(bytes);
    ASSERT_FALSE(st.ok()) << "expected: " << what;
    EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(what), std::string::npos) << st.message();
  }
  template <typename T> static void poke(std::string* s, size_t at, T v) { std::memcpy(&(*s)[at], &v, sizeof v); }
  // Recomputes both checksums, so that the parsers behind them see the damage.
  static void fix_checksums(std::string* s) {
    if (s->size() < 128) return;
    uint32_t hs;
    std::memcpy(&hs, s->data() + 12, 4);
    if (hs >= 128 && hs <= s->size()) poke<uint32_t>(s, 36, deploy::crc32c(s->data() + hs, s->size() - hs));
    poke<uint32_t>(s, 124, deploy::crc32c(s->data(), 124));
  }

  std::string dir_, path_ = "/tmp/kaiwu_deploy_bad_" + std::to_string(::getpid()) + "/m.kwm", good_;
  ir::Model model_;
};

TEST_F(BadDeployable, GoodBytesLoad) {
  ir::Model m;
  Status st = load(good_, &m);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(test::model_diff(model_, m), "");
}

TEST_F(BadDeployable, MissingFileAndDirectory) {
  ir::Model m;
  Status st = deploy::read_deployable(dir_ + "/nope.kwm", &m, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir_ + "/nope.kwm"), std::string::npos) << st.message();
  EXPECT_FALSE(deploy::is_deployable_file(dir_ + "/nope.kwm"));
  st = deploy::read_deployable(dir_, &m, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir_), std::string::npos) << st.message();
  EXPECT_FALSE(deploy::is_deployable_file(dir_));
}

TEST_F(BadDeployable, WrongMagic) {
  expect_error("", "not a Kaiwu deployable model");
  expect_error("KWM", "not a Kaiwu deployable model");
  std::string onnx = good_;
  onnx[0] = 0x08;
  expect_error(onnx, "not a Kaiwu deployable model");
  EXPECT_FALSE(deploy::is_deployable_file(path_));
}

TEST_F(BadDeployable, UnsupportedVersion) {
  std::string s = good_;
  poke<uint16_t>(&s, 8, 2);
  expect_error(s, "version 2.0");
  EXPECT_TRUE(deploy::is_deployable_file(path_));
  // A newer minor version of the same major is read.
  s = good_;
  poke<uint16_t>(&s, 10, 7);
  fix_checksums(&s);
  ir::Model m;
  ASSERT_TRUE(load(s, &m).ok());
  EXPECT_EQ(test::model_diff(model_, m), "");
  // Unknown required features.
  s = good_;
  poke<uint64_t>(&s, 16, 4);
  fix_checksums(&s);
  expect_error(s, "flags");
}

TEST_F(BadDeployable, Truncated) {
  expect_error(good_.substr(0, 100), "truncated");
  expect_error(good_.substr(0, good_.size() / 2), "truncated");
  expect_error(good_.substr(0, good_.size() - 1), "truncated");
  expect_error(good_ + "x", "corrupted");
}

TEST_F(BadDeployable, ChecksumMismatch) {
  std::string s = good_;
  s[s.size() - 70] ^= 0x10;  // inside the tensor data
  expect_error(s, "corrupted");
  expect_error(s, "checksum");
  s = good_;
  s[50] ^= 0x01;  // inside the header (a section offset)
  expect_error(s, "corrupted");
}

TEST_F(BadDeployable, SectionsOutOfBounds) {
  for (size_t field = 40; field < 104; field += 8) {
    std::string s = good_;
    poke<uint64_t>(&s, field, uint64_t(1) << 62);
    fix_checksums(&s);
    expect_error(s, "corrupted");
    expect_error(s, "outside the file");
  }
  std::string s = good_;
  poke<uint64_t>(&s, 48, 3);  // metadata cut short
  fix_checksums(&s);
  expect_error(s, "metadata");
  s = good_;
  poke<uint32_t>(&s, 12, 1u << 30);  // header size past the end
  fix_checksums(&s);
  expect_error(s, "header size");
}

TEST_F(BadDeployable, TruncatedAtEveryLength) {
  for (size_t n = 0; n < good_.size(); n += (n < 200 ? 1 : 7)) {
    Status st = load(good_.substr(0, n));
    ASSERT_FALSE(st.ok()) << "length " << n;
    EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
  }
}

// Every single-byte flip is an error: the header checksum covers the header, CRC-32C the rest.
TEST_F(BadDeployable, FlippedByteAtEveryPosition) {
  for (size_t i = 0; i < good_.size(); ++i) {
    std::string s = good_;
    s[i] ^= static_cast<char>(1u << (i % 8));
    Status st = load(s);
    ASSERT_FALSE(st.ok()) << "flip at " << i << " went unnoticed";
    EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
    // The same flip behind valid checksums reaches the parsers: an error naming the file, or a model.
    fix_checksums(&s);
    st = load(s);
    if (!st.ok()) {
      EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
    }
  }
}

// With the checksums recomputed the damage reaches the section parsers: random bytes at many places must give an
// error or a model, never a crash or a huge allocation.
TEST_F(BadDeployable, FuzzedSectionsWithValidChecksums) {
  std::mt19937 rng(1234);
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = good_;
    const int flips = 1 + iter % 4;
    for (int k = 0; k < flips; ++k) {
      size_t at = 8 + rng() % (s.size() - 8);
      s[at] = static_cast<char>(iter % 3 == 0 ? 0xFF : rng());
    }
    if (iter % 5 == 0) s.resize(128 + rng() % (s.size() - 128));
    if (iter % 5 == 0) poke<uint64_t>(&s, 24, s.size());
    fix_checksums(&s);
    ir::Model m;
    Status st = load(s, &m);
    if (st.ok()) {
      ++ok;
      (void)m.graph.verify();  // a wrong but well-formed model: verifying it must not crash either
    } else {
      ++failed;
      EXPECT_NE(st.message().find(path_), std::string::npos) << st.message();
    }
  }
  EXPECT_GT(failed, 1000);
  std::printf("[ fuzz ] %d loaded, %d refused\n", ok, failed);
}

}  // namespace
}  // namespace kaiwu
