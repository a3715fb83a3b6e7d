#include "core/npy.h"

#include <cstring>
#include <sstream>

#include "core/file_util.h"

namespace kaiwu {
namespace {

DType dtype_from_descr(const std::string& d, std::string* why) {
  if (d.find('O') != std::string::npos) { *why = "object arrays are not supported (save a numeric array)"; return DType::kUndefined; }
  if (d.size() < 3) { *why = "unrecognized dtype '" + d + "'"; return DType::kUndefined; }
  char order = d[0];
  std::string code = d.substr(1);
  if (order == '>' && code != "i1" && code != "u1" && code != "b1") { *why = "big-endian data is not supported"; return DType::kUndefined; }
  if (code == "f4") return DType::kF32;
  if (code == "f2") return DType::kF16;
  if (code == "f8") return DType::kF64;
  if (code == "i1") return DType::kI8;
  if (code == "u1") return DType::kU8;
  if (code == "i2") return DType::kI16;
  if (code == "u2") return DType::kU16;
  if (code == "i4") return DType::kI32;
  if (code == "u4") return DType::kU32;
  if (code == "i8") return DType::kI64;
  if (code == "u8") return DType::kU64;
  if (code == "b1") return DType::kBool;
  if (code[0] == 'O') *why = "object arrays are not supported (save a numeric array)";
  else *why = "unsupported dtype '" + d + "'";
  return DType::kUndefined;
}

const char* descr_of(DType t) {
  switch (t) {
    case DType::kF32: return "<f4";
    case DType::kF16: return "<f2";
    case DType::kF64: return "<f8";
    case DType::kI8: return "|i1";
    case DType::kU8: return "|u1";
    case DType::kI16: return "<i2";
    case DType::kU16: return "<u2";
    case DType::kI32: return "<i4";
    case DType::kU32: return "<u4";
    case DType::kI64: return "<i8";
    case DType::kU64: return "<u8";
    case DType::kBool: return "|b1";
    default: return "";
  }
}

// Finds the value text following 'key': in a python dict literal.
bool dict_value(const std::string& h, const std::string& key, std::string* v) {
  size_t p = h.find("'" + key + "'");
  if (p == std::string::npos) return false;
  p = h.find(':', p);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t e = p;
  if (h[p] == '\'') {
    e = h.find('\'', p + 1);
    if (e == std::string::npos) return false;
    *v = h.substr(p + 1, e - p - 1);
  } else if (h[p] == '(') {
    e = h.find(')', p);
    if (e == std::string::npos) return false;
    *v = h.substr(p + 1, e - p - 1);
  } else {
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    *v = h.substr(p, e - p);
  }
  return true;
}

}  // namespace

Status parse_npy(const std::string& b, const std::string& origin, Tensor* out) {
  auto bad = [&](const std::string& m) { return invalid_argument("'" + origin + "' is not a valid .npy file: " + m); };
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) return bad("missing \\x93NUMPY magic");
  int major = static_cast<unsigned char>(b[6]);
  size_t hlen, hstart;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return bad("truncated header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    hstart = 12;
  } else {
    return bad("unsupported format version " + std::to_string(major));
  }
  if (b.size() < hstart + hlen) return bad("truncated header");
  std::string h = b.substr(hstart, hlen);
  std::string descr, fortran, shape_s, why;
  if (!dict_value(h, "descr", &descr) || !dict_value(h, "fortran_order", &fortran) || !dict_value(h, "shape", &shape_s))
    return bad("header lacks descr, fortran_order or shape");
  if (fortran.find("True") != std::string::npos)
    return bad("Fortran-ordered arrays are not supported (save np.ascontiguousarray(a))");
  DType dt = dtype_from_descr(descr, &why);
  if (dt == DType::kUndefined) return bad(why);
  Shape shape;
  std::stringstream ss(shape_s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find_first_not_of(" "), z = item.find_last_not_of(" L");
    if (a == std::string::npos) continue;
    std::string num = item.substr(a, z - a + 1);
    char* end = nullptr;
    long long v = std::strtoll(num.c_str(), &end, 10);
    if (end == num.c_str() || v < 0) return bad("bad shape '(" + shape_s + ")'");
    shape.push_back(v);
  }
  size_t need = static_cast<size_t>(shape_numel(shape)) * dtype_size(dt);
  size_t have = b.size() - hstart - hlen;
  if (have < need)
    return bad("data truncated: shape " + shape_to_string(shape) + " of " + dtype_name(dt) + " needs " +
               std::to_string(need) + " bytes, file has " + std::to_string(have));
  Tensor t = Tensor::empty(dt, shape);
  if (need) std::memcpy(t.raw(), b.data() + hstart + hlen, need);
  *out = std::move(t);
  return Status::Ok();
}

Status read_npy(const std::string& path, Tensor* out) {
  std::string bytes;
  KW_RETURN_IF_ERROR(read_file(path, &bytes));
  return parse_npy(bytes, path, out);
}

std::string npy_bytes(const Tensor& t) {
  std::string h = std::string("{'descr': '") + descr_of(t.dtype()) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.shape().size(); ++i) h += std::to_string(t.shape()[i]) + (t.shape().size() == 1 ? "," : (i + 1 < t.shape().size() ? ", " : ""));
  h += "), }";
  size_t total = 10 + h.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  h += std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  out += h;
  out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

Status write_npy(const std::string& path, const Tensor& t) { return write_file_atomic(path, npy_bytes(t)); }

Status read_raw(const std::string& path, DType dtype, const Shape& shape, Tensor* out) {
  std::string bytes;
  KW_RETURN_IF_ERROR(read_file(path, &bytes));
  size_t need = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (bytes.size() != need)
    return invalid_argument("'" + path + "' has " + std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(need) + " for shape " + shape_to_string(shape) + " of " + dtype_name(dtype));
  Tensor t = Tensor::empty(dtype, shape);
  if (need) std::memcpy(t.raw(), bytes.data(), need);
  *out = std::move(t);
  return Status::Ok();
}

}  // namespace kaiwu
