// Deployable model files: exact round trip of every IR feature, zero-copy aligned initializers, determinism.
#include "deploy/deployable.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/file_util.h"
#include "deploy/crc32c.h"
#include "deploy/model_compare.h"
#include "deploy/rich_model.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string tmp_path(const std::string& name) {
  return "/tmp/kaiwu_deploy_" + std::to_string(::getpid()) + "_" + name;
}

TEST(Crc32c, KnownVector) {
  EXPECT_EQ(deploy::crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(deploy::crc32c("", 0), 0u);
  // Incremental == one shot, across the 8-byte fast path.
  std::string s(1000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31);
  EXPECT_EQ(deploy::crc32c(s.data() + 13, s.size() - 13, deploy::crc32c(s.data(), 13)), deploy::crc32c(s.data(), s.size()));
}

TEST(Deployable, RoundTripIsExact) {
  ir::Model m = test::rich_model();
  deploy::DeployInfo info{"0.1.0", "generic", "{\"march\": \"x\", \"note\": \"ü\"}"};
  const std::string path = tmp_path("rich.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, info, path).ok());
  EXPECT_TRUE(deploy::is_deployable_file(path));
  ir::Model back;
  deploy::DeployInfo info2;
  Status st = deploy::read_deployable(path, &back, &info2);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(test::model_diff(m, back), "");
  EXPECT_EQ(info2.tool_version, info.tool_version);
  EXPECT_EQ(info2.target, info.target);
  EXPECT_EQ(info2.description, info.description);
  // Written again from the read model: identical bytes.
  std::string a, b;
  ASSERT_TRUE(read_file(path, &a).ok());
  ASSERT_TRUE(deploy::serialize_deployable(back, info2, &b).ok());
  EXPECT_EQ(a, b);
  std::remove(path.c_str());
}

TEST(Deployable, InitializersAreAlignedViewsIntoTheMapping) {
  ir::Model m = test::rich_model();
  const std::string path = tmp_path("views.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, {}, path).ok());
  std::string bytes;
  ASSERT_TRUE(read_file(path, &bytes).ok());
  ir::Model back;
  ASSERT_TRUE(deploy::read_deployable(path, &back, nullptr).ok());
  std::remove(path.c_str());  // the mapping stays valid after unlink
  // All tensors lie in one mapping of the file: the distance between two tensors equals the distance of their bytes
  // in the file, and each tensor's bytes match the file at that place.
  const auto* big = static_cast<const uint8_t*>(back.graph.initializers.at("big").raw());
  size_t big_off = bytes.find(std::string(static_cast<const char*>(m.graph.initializers.at("big").raw()), 33 * 17 * 4));
  ASSERT_NE(big_off, std::string::npos);
  const uint8_t* base = big - big_off;
  for (const auto& [name, t] : back.graph.initializers) {
    const auto* p = static_cast<const uint8_t*>(t.raw());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << name;
    EXPECT_TRUE(t.owns_memory()) << name;  // shares ownership of the mapping
    ASSERT_GE(p, base) << name;
    ASSERT_LE(static_cast<size_t>(p - base) + t.nbytes(), bytes.size()) << name;
    EXPECT_EQ(std::memcmp(p, bytes.data() + (p - base), t.nbytes()), 0) << name;
  }
  // The data outlives the model: copy one tensor out, drop the model, read through the copy.
  Tensor keep = back.graph.initializers.at("big");
  back = ir::Model();
  EXPECT_EQ(std::memcmp(keep.raw(), m.graph.initializers.at("big").raw(), keep.nbytes()), 0);
  // Writing into a mapped tensor is private copy-on-write (no crash).
  keep.data<float>()[0] = 42.f;
  EXPECT_EQ(keep.data<float>()[0], 42.f);
}

TEST(Deployable, WritingTwiceGivesIdenticalBytes) {
  ir::Model m = test::rich_model();
  deploy::DeployInfo info{"v", "x86-avx2", "{}"};
  const std::string p1 = tmp_path("d1.kwm"), p2 = tmp_path("d2.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, info, p1).ok());
  ASSERT_TRUE(deploy::write_deployable(test::rich_model(), info, p2).ok());
  std::string a, b;
  ASSERT_TRUE(read_file(p1, &a).ok());
  ASSERT_TRUE(read_file(p2, &b).ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size() % 64, 0u);
  EXPECT_EQ(a.compare(0, 8, std::string("KWMODEL\0", 8)), 0);
  std::remove(p1.c_str());
  std::remove(p2.c_str());
}

TEST(Deployable, EmptyGraphAndNoInitializers) {
  ir::Model m;  // no opsets, no nodes, no initializers
  const std::string path = tmp_path("empty.kwm");
  ASSERT_TRUE(deploy::write_deployable(m, {}, path).ok());
  ir::Model back;
  back.opsets[""] = 9;  // overwritten
  deploy::DeployInfo info{"x", "y", "z"};
  ASSERT_TRUE(deploy::read_deployable(path, &back, &info).ok());
  EXPECT_EQ(test::model_diff(m, back), "");
  EXPECT_EQ(info.target, "");
  EXPECT_EQ(info.tool_version, "");
  std::remove(path.c_str());
}

TEST(Deployable, RefusesUnwritableModels) {
  ir::Model m;
  m.graph.initializers["u"] = Tensor();
  std::string bytes;
  Status st = deploy::serialize_deployable(m, {}, &bytes);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'u'"), std::string::npos) << st.message();
  ir::Model ok;
  st = deploy::write_deployable(ok, {}, "/nonexistent_dir/x.kwm");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent_dir/x.kwm"), std::string::npos) << st.message();
}

TEST(Deployable, TargetCheck) {
  deploy::DeployInfo vnni{"", "x86-avx512vnni", ""}, avx2{"", "x86-avx2", ""}, gen{"", "generic", ""}, any{};
  EXPECT_TRUE(deploy::check_target(vnni, "x86-avx512vnni", "m.kwm").ok());
  EXPECT_TRUE(deploy::check_target(avx2, "x86-avx512vnni", "m.kwm").ok());
  EXPECT_TRUE(deploy::check_target(gen, "generic", "m.kwm").ok());
  EXPECT_TRUE(deploy::check_target(any, "generic", "m.kwm").ok());
  Status st = deploy::check_target(vnni, "x86-avx2", "m.kwm");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'m.kwm'"), std::string::npos);
  EXPECT_NE(st.message().find("x86-avx512vnni"), std::string::npos);
  EXPECT_NE(st.message().find("x86-avx2"), std::string::npos) << st.message();
  EXPECT_FALSE(deploy::check_target(avx2, "generic", "m.kwm").ok());
  st = deploy::check_target(deploy::DeployInfo{"", "riscv-v", ""}, "x86-avx512vnni", "m.kwm");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("riscv-v"), std::string::npos);
}

}  // namespace
}  // namespace kaiwu
