#include "deploy/deployable.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "core/file_util.h"
#include "deploy/crc32c.h"
#include "deploy/graph_codec.h"
#include "frontend/onnx/onnx_tensor.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .kwm reader and writer assume a little-endian host");

namespace kaiwu::deploy {
namespace {

constexpr uint32_t kChecksumCrc32c = 1;
constexpr size_t kHeaderCrcEnd = 124;  // the header checksum covers bytes [0, 124)

// Header field offsets.
enum : size_t {
  kOffMajor = 8, kOffMinor = 10, kOffHeaderSize = 12, kOffFlags = 16, kOffFileSize = 24, kOffChecksumKind = 32,
  kOffPayloadCrc = 36, kOffSections = 40, kOffHeaderCrc = 124
};
enum Section { kMeta = 0, kGraph, kTable, kData, kNumSections };
const char* const kSectionNames[kNumSections] = {"metadata", "graph", "tensor table", "tensor data"};

template <typename T> void put(std::string* s, size_t at, T v) { std::memcpy(&(*s)[at], &v, sizeof(T)); }
template <typename T> void append(std::string* s, T v) { s->append(reinterpret_cast<const char*>(&v), sizeof(T)); }
void append_str(std::string* s, const std::string& v) {
  append<uint32_t>(s, static_cast<uint32_t>(v.size()));
  s->append(v);
}
template <typename T> T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
uint64_t align_up(uint64_t v) { return (v + kDataAlignment - 1) / kDataAlignment * kDataAlignment; }

// Bounds-checked little-endian reader over one section.
struct Cursor {
  const uint8_t* p;
  uint64_t n, pos = 0;
  template <typename T> bool read(T* v) {
    if (n - pos < sizeof(T)) return false;
    std::memcpy(v, p + pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }
  bool read_str(std::string* s) {
    uint32_t len;
    if (!read(&len) || n - pos < len) return false;
    s->assign(reinterpret_cast<const char*>(p + pos), len);
    pos += len;
    return true;
  }
};

// The file mapping; tensors hold it through shared ownership.
struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, size);
  }
};

Status corrupted(const std::string& path, const std::string& what) {
  return invalid_argument("'" + path + "' is corrupted: " + what);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

int target_rank(const std::string& t) {
  if (t.empty() || t == "generic") return 0;
  if (t == "x86-avx2") return 1;
  if (t == "x86-avx512vnni") return 2;
  return -1;
}

Status read_meta(const std::string& path, Cursor c, DeployInfo* info) {
  uint32_t count;
  if (!c.read(&count)) return corrupted(path, "metadata section too short");
  for (uint32_t i = 0; i < count; ++i) {
    std::string k, v;
    if (!c.read_str(&k) || !c.read_str(&v)) return corrupted(path, "metadata entry " + std::to_string(i) + " cut short");
    if (k == "tool_version") info->tool_version = std::move(v);
    else if (k == "target") info->target = std::move(v);
    else if (k == "description") info->description = std::move(v);
  }
  return Status::Ok();
}

// Reads the tensor table and makes each entry a view into the data section.
Status read_tensors(const std::string& path, Cursor c, uint8_t* data, uint64_t data_size,
                    const std::shared_ptr<Mapping>& owner, std::map<std::string, Tensor>* out) {
  uint32_t count;
  if (!c.read(&count)) return corrupted(path, "tensor table too short");
  std::string prev;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    int32_t elem;
    uint32_t rank;
    const std::string where = "tensor table entry " + std::to_string(i);
    if (!c.read_str(&name) || !c.read(&elem) || !c.read(&rank)) return corrupted(path, where + " cut short");
    if (name.empty()) return corrupted(path, where + " has no name");
    if (i > 0 && !(prev < name)) return corrupted(path, where + " ('" + name + "') is out of order or repeated");
    DType dt = frontend::dtype_from_onnx(elem);
    if (dt == DType::kUndefined)
      return corrupted(path, "tensor '" + name + "' has unknown element type " + std::to_string(elem));
    if (rank > (c.n - c.pos) / 8) return corrupted(path, "tensor '" + name + "' rank " + std::to_string(rank) + " cut short");
    Shape shape(rank);
    uint64_t bytes = dtype_size(dt);
    bool overflow = false;
    for (uint32_t d = 0; d < rank; ++d) {
      c.read(&shape[d]);
      if (shape[d] < 0 || shape[d] > (int64_t(1) << 48))
        return corrupted(path, "tensor '" + name + "' has an invalid dimension " + std::to_string(shape[d]));
      uint64_t dim = static_cast<uint64_t>(shape[d]);
      if (dim != 0 && bytes > UINT64_MAX / dim) overflow = true;
      else bytes *= dim;
    }
    uint64_t offset, nbytes;
    if (!c.read(&offset) || !c.read(&nbytes)) return corrupted(path, where + " cut short");
    if (overflow && bytes != 0) bytes = UINT64_MAX;
    if (bytes != nbytes)
      return corrupted(path, "tensor '" + name + "' has " + std::to_string(nbytes) + " bytes for " + dtype_name(dt) +
                                 shape_to_string(shape));
    if (offset % kDataAlignment != 0 || offset > data_size || nbytes > data_size - offset)
      return corrupted(path, "tensor '" + name + "' data lies outside the tensor data section");
    (*out)[name] = Tensor::view_shared(dt, std::move(shape), data + offset, owner);
    prev = std::move(name);
  }
  return Status::Ok();
}

}  // namespace

Status serialize_deployable(const ir::Model& m, const DeployInfo& info, std::string* bytes) {
  std::string meta;
  append<uint32_t>(&meta, 3);
  append_str(&meta, "tool_version");
  append_str(&meta, info.tool_version);
  append_str(&meta, "target");
  append_str(&meta, info.target);
  append_str(&meta, "description");
  append_str(&meta, info.description);

  std::string graph;
  KW_RETURN_IF_ERROR(encode_graph(m, &graph));

  std::string table;
  append<uint32_t>(&table, static_cast<uint32_t>(m.graph.initializers.size()));
  uint64_t data_size = 0;
  for (const auto& [name, t] : m.graph.initializers) {  // std::map: sorted by name
    if (name.empty()) return invalid_argument("cannot write a deployable model: an initializer has no name");
    if (!t.defined()) return invalid_argument("cannot write a deployable model: initializer '" + name + "' is undefined");
    append_str(&table, name);
    append<int32_t>(&table, frontend::dtype_to_onnx(t.dtype()));
    append<uint32_t>(&table, static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.shape()) append<int64_t>(&table, d);
    append<uint64_t>(&table, data_size);
    append<uint64_t>(&table, t.nbytes());
    data_size = align_up(data_size + t.nbytes());
  }

  uint64_t off[kNumSections], size[kNumSections] = {meta.size(), graph.size(), table.size(), data_size};
  off[kMeta] = kHeaderSize;
  off[kGraph] = off[kMeta] + size[kMeta];
  off[kTable] = off[kGraph] + size[kGraph];
  off[kData] = align_up(off[kTable] + size[kTable]);
  const uint64_t file_size = off[kData] + data_size;

  std::string& out = *bytes;
  out.assign(file_size, '\0');
  std::memcpy(&out[off[kMeta]], meta.data(), meta.size());
  std::memcpy(&out[off[kGraph]], graph.data(), graph.size());
  std::memcpy(&out[off[kTable]], table.data(), table.size());
  uint64_t pos = off[kData];
  for (const auto& [name, t] : m.graph.initializers) {
    if (t.nbytes()) std::memcpy(&out[pos], t.raw(), t.nbytes());
    pos = align_up(pos + t.nbytes());
  }

  std::memcpy(&out[0], kMagic, sizeof kMagic);
  put<uint16_t>(&out, kOffMajor, kFormatMajor);
  put<uint16_t>(&out, kOffMinor, kFormatMinor);
  put<uint32_t>(&out, kOffHeaderSize, kHeaderSize);
  put<uint64_t>(&out, kOffFlags, 0);
  put<uint64_t>(&out, kOffFileSize, file_size);
  put<uint32_t>(&out, kOffChecksumKind, kChecksumCrc32c);
  for (int s = 0; s < kNumSections; ++s) {
    put<uint64_t>(&out, kOffSections + 16 * s, off[s]);
    put<uint64_t>(&out, kOffSections + 16 * s + 8, size[s]);
  }
  put<uint32_t>(&out, kOffPayloadCrc, crc32c(out.data() + kHeaderSize, file_size - kHeaderSize));
  put<uint32_t>(&out, kOffHeaderCrc, crc32c(out.data(), kHeaderCrcEnd));
  return Status::Ok();
}

Status write_deployable(const ir::Model& m, const DeployInfo& info, const std::string& path) {
  std::string bytes;
  KW_RETURN_IF_ERROR(serialize_deployable(m, info, &bytes).with_context("'" + path + "'"));
  return write_file_atomic(path, bytes);
}

bool is_deployable_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  char buf[sizeof kMagic];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof buf) && std::memcmp(buf, kMagic, sizeof kMagic) == 0;
}

Status read_deployable(const std::string& path, ir::Model* m, DeployInfo* info) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("'" + path + "' is not a regular file");
  }
  const uint64_t actual = static_cast<uint64_t>(st.st_size);
  char head[sizeof kMagic] = {};
  ssize_t got = ::pread(fd, head, sizeof head, 0);
  if (got != static_cast<ssize_t>(sizeof head) || std::memcmp(head, kMagic, sizeof kMagic) != 0) {
    ::close(fd);
    return invalid_argument("'" + path + "' is not a Kaiwu deployable model (no KWMODEL magic)");
  }
  if (actual < kHeaderSize) {
    ::close(fd);
    return invalid_argument("'" + path + "' is truncated: " + std::to_string(actual) + " bytes, less than the " +
                            std::to_string(kHeaderSize) + "-byte header");
  }
  auto map = std::make_shared<Mapping>();
  void* addr = ::mmap(nullptr, actual, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  ::close(fd);
  if (addr == MAP_FAILED) return io_error("cannot map '" + path + "': " + std::strerror(map_errno));
  map->addr = addr;
  map->size = actual;
  auto* base = static_cast<uint8_t*>(addr);

  const uint16_t major = get<uint16_t>(base + kOffMajor), minor = get<uint16_t>(base + kOffMinor);
  if (major != kFormatMajor)
    return unsupported("'" + path + "' has deployable format version " + std::to_string(major) + "." +
                       std::to_string(minor) + "; this Kaiwu reads version " + std::to_string(kFormatMajor) + ".x");
  const uint32_t header_size = get<uint32_t>(base + kOffHeaderSize);
  if (get<uint32_t>(base + kOffHeaderCrc) != crc32c(base, kHeaderCrcEnd))
    return corrupted(path, "header checksum mismatch");
  if (header_size < kHeaderSize || header_size > actual)
    return corrupted(path, "header size " + std::to_string(header_size) + " is invalid");
  const uint64_t flags = get<uint64_t>(base + kOffFlags);
  if (flags != 0)
    return unsupported("'" + path + "' needs format features (flags " + std::to_string(flags) +
                       ") that this Kaiwu does not know");
  const uint64_t file_size = get<uint64_t>(base + kOffFileSize);
  if (actual < file_size)
    return invalid_argument("'" + path + "' is truncated: " + std::to_string(actual) + " bytes, the header says " +
                            std::to_string(file_size));
  if (actual > file_size)
    return corrupted(path, std::to_string(actual) + " bytes, the header says " + std::to_string(file_size));
  const uint32_t kind = get<uint32_t>(base + kOffChecksumKind);
  if (kind != kChecksumCrc32c) return unsupported("'" + path + "' uses unknown checksum kind " + std::to_string(kind));
  const uint32_t stored = get<uint32_t>(base + kOffPayloadCrc);
  const uint32_t computed = crc32c(base + header_size, file_size - header_size);
  if (stored != computed)
    return corrupted(path, "payload checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) + ")");

  uint64_t off[kNumSections], size[kNumSections];
  for (int s = 0; s < kNumSections; ++s) {
    off[s] = get<uint64_t>(base + kOffSections + 16 * s);
    size[s] = get<uint64_t>(base + kOffSections + 16 * s + 8);
    if (off[s] < header_size || off[s] > file_size || size[s] > file_size - off[s])
      return corrupted(path, std::string(kSectionNames[s]) + " section [" + std::to_string(off[s]) + ", +" +
                                 std::to_string(size[s]) + ") lies outside the file");
  }
  if (off[kData] % kDataAlignment != 0) return corrupted(path, "tensor data section is not 64-byte aligned");

  DeployInfo di;
  KW_RETURN_IF_ERROR(read_meta(path, Cursor{base + off[kMeta], size[kMeta]}, &di));
  ir::Model model;
  KW_RETURN_IF_ERROR(decode_graph(reinterpret_cast<const char*>(base + off[kGraph]), size[kGraph], path, &model));
  KW_RETURN_IF_ERROR(read_tensors(path, Cursor{base + off[kTable], size[kTable]}, base + off[kData], size[kData], map,
                                  &model.graph.initializers));
  *m = std::move(model);
  if (info) *info = std::move(di);
  return Status::Ok();
}

Status check_target(const DeployInfo& info, const std::string& host_target, const std::string& path) {
  const int need = target_rank(info.target);
  if (need < 0)
    return unsupported("'" + path + "' was built for target '" + info.target + "', which this Kaiwu does not know");
  const int have = std::max(target_rank(host_target), 0);
  if (have < need)
    return unsupported("'" + path + "' was built for target '" + info.target + "', which this machine cannot run (" +
                       "its best target is '" + host_target + "'); compile the model again for this machine");
  return Status::Ok();
}

}  // namespace kaiwu::deploy
