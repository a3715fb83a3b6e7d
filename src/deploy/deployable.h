// Deployable model files (.kwm): a graph already optimized for a target, with its weights laid out for mmap.
//
// Format version 1.0 (all integers little-endian; docs/deployable_format.md has the same description):
//
//   Header, 128 bytes:
//     off  size  field
//       0     8  magic "KWMODEL\0"
//       8     2  format major version (1): a reader refuses any other major
//      10     2  format minor version (0): additions a 1.0 reader may ignore
//      12     4  header size in bytes (>= 128; the payload starts here)
//      16     8  flags: required features; a reader refuses any bit it does not know (none defined in 1.0)
//      24     8  file size in bytes
//      32     4  checksum kind (1 = CRC-32C)
//      36     4  payload checksum: CRC-32C of every byte after the header, [header size, file size)
//      40    16  metadata section: offset, size (u64 each; offsets are from the start of the file)
//      56    16  graph section: offset, size
//      72    16  tensor table section: offset, size
//      88    16  tensor data section: offset (a multiple of 64), size
//     104    20  reserved, zero
//     124     4  header checksum: CRC-32C of bytes [0, 124)
//   Metadata section: u32 count, then count x (u32 key length, key bytes, u32 value length, value bytes).
//     Keys written: "tool_version", "target", "description" (DeployInfo); unknown keys are ignored.
//   Graph section: ONNX ModelProto bytes of the model WITHOUT initializers (deploy/graph_codec.h): nodes (any
//     domain, exact names), attributes, inputs, outputs, value_info, opsets, model metadata.
//   Tensor table section: u32 count, then count x (u32 name length, name bytes, i32 ONNX element type,
//     u32 rank, rank x i64 dims, u64 offset (from the start of the data section, a multiple of 64), u64 byte size).
//     Entries are sorted by name; names are unique and non-empty; byte size == product(dims) * element size.
//   Tensor data section: each initializer's bytes at its offset; zero padding in between.
//
// Reading maps the file (MAP_PRIVATE: writes to a tensor stay private to the process) and makes every initializer a
// zero-copy view into the mapping, 64-byte aligned; the mapping lives as long as any of those tensors.
#pragma once
#include <cstdint>
#include <string>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::deploy {

constexpr char kMagic[8] = {'K', 'W', 'M', 'O', 'D', 'E', 'L', '\0'};
constexpr uint16_t kFormatMajor = 1;
constexpr uint16_t kFormatMinor = 0;
constexpr uint32_t kHeaderSize = 128;
constexpr uint64_t kDataAlignment = 64;

struct DeployInfo {
  std::string tool_version;  // Kaiwu version that wrote the file
  std::string target;        // "x86-avx512vnni", "x86-avx2" or "generic" (empty: runs anywhere)
  std::string description;   // free text (JSON of the compile description)
};

// Writes `m` (graph and initializers) with `info` to `path` atomically; the bytes depend only on the inputs.
Status write_deployable(const ir::Model& m, const DeployInfo& info, const std::string& path);
// Serializes to bytes in memory (what write_deployable writes).
Status serialize_deployable(const ir::Model& m, const DeployInfo& info, std::string* bytes);
// Maps `path` and reads the model; initializers are zero-copy views into the mapping. Errors name the file: missing,
// "not a Kaiwu deployable model", unsupported version, truncated, "corrupted" (checksum or section damage).
Status read_deployable(const std::string& path, ir::Model* m, DeployInfo* info);
// True when `path` is a readable file starting with the .kwm magic.
bool is_deployable_file(const std::string& path);
// Checks that a file built for info.target runs on a host whose best target is `host_target` (see
// kernels::host_target()): generic < x86-avx2 < x86-avx512vnni. `path` names the file in the message.
Status check_target(const DeployInfo& info, const std::string& host_target, const std::string& path);

}  // namespace kaiwu::deploy
