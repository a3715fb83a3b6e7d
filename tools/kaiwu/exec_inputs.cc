#include "exec_inputs.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "core/npy.h"
#include "deploy/deployable.h"
#include "frontend/onnx/onnx_import.h"
#include "ir/graph.h"

namespace kaiwu::cli::exec {
namespace {

bool parse_dims(const std::string& text, Shape* out) {
  out->clear();
  std::stringstream ss(text);
  std::string tok;
  while (std::getline(ss, tok, 'x')) {
    if (tok.empty()) return false;
    char* end = nullptr;
    long long v = std::strtoll(tok.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return false;
    out->push_back(v);
  }
  return !out->empty();
}

// Reads the next header token of a PNM file, skipping whitespace and '#' comments.
bool pnm_token(const std::string& b, size_t* pos, std::string* tok) {
  tok->clear();
  while (*pos < b.size()) {
    char c = b[*pos];
    if (c == '#') {
      while (*pos < b.size() && b[*pos] != '\n') ++*pos;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++*pos;
    } else {
      break;
    }
  }
  while (*pos < b.size() && !std::isspace(static_cast<unsigned char>(b[*pos])) && b[*pos] != '#') *tok += b[(*pos)++];
  return !tok->empty();
}

bool pnm_int(const std::string& b, size_t* pos, int* v) {
  std::string t;
  if (!pnm_token(b, pos, &t)) return false;
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (t.size() > 9) return false;
  *v = std::atoi(t.c_str());
  return true;
}

bool is_image_ext(const std::string& e) { return e == ".ppm" || e == ".pgm" || e == ".pnm"; }
bool is_foreign_image_ext(const std::string& e) {
  return e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp" || e == ".gif" || e == ".webp" || e == ".tif" ||
         e == ".tiff";
}

Status image_input(const std::string& path, const IoInfo& io, const Shape& shape, const ImageNorm& norm,
                   Tensor* out) {
  if (shape.size() != 4)
    return invalid_argument("input '" + io.name + "' has shape " + shape_to_string(shape) +
                            ": an image can only feed a 4-D (N, C, H, W or N, H, W, C) input");
  bool nhwc = io.layout == "NHWC" ||
              (io.layout.empty() && shape[1] != 1 && shape[1] != 3 && (shape[3] == 1 || shape[3] == 3));
  int64_t c = nhwc ? shape[3] : shape[1], h = nhwc ? shape[1] : shape[2], w = nhwc ? shape[2] : shape[3];
  if (shape[0] != 1) return invalid_argument("input '" + io.name + "': an image feeds a batch of 1, not " + shape_to_string(shape));
  if (c != 1 && c != 3)
    return invalid_argument("input '" + io.name + "' has " + std::to_string(c) + " channels (shape " +
                            shape_to_string(shape) + ", layout " + (nhwc ? "NHWC" : "NCHW") +
                            "): an image feeds 1 (gray) or 3 (RGB) channels");
  if (io.dtype != DType::kF32 && io.dtype != DType::kU8 && io.dtype != DType::kI8)
    return invalid_argument("input '" + io.name + "' is " + numpy_name(io.dtype) +
                            ": an image can feed a float32, uint8 or int8 input only");
  bool has_norm = !norm.mean.empty() || !norm.scale.empty();
  if (has_norm && io.dtype != DType::kF32)
    return invalid_argument("--mean_value/--scale_value apply to float32 inputs only; input '" + io.name + "' is " +
                            numpy_name(io.dtype));
  for (const auto* v : {&norm.mean, &norm.scale})
    if (v->size() > 1 && static_cast<int64_t>(v->size()) != c)
      return invalid_argument("--mean_value/--scale_value need 1 or " + std::to_string(c) + " values, got " +
                              std::to_string(v->size()));
  Image img;
  KW_RETURN_IF_ERROR(read_pnm(path, &img));
  // Channel conversion: gray -> RGB replicates, RGB -> gray with BT.601 luma.
  if (img.channels != c) {
    Image conv = img;
    conv.channels = static_cast<int>(c);
    size_t n = static_cast<size_t>(img.width) * img.height;
    conv.pixels.assign(n * c, 0);
    for (size_t i = 0; i < n; ++i) {
      if (c == 3) {
        for (int k = 0; k < 3; ++k) conv.pixels[i * 3 + k] = img.pixels[i];
      } else {
        const uint8_t* p = &img.pixels[i * 3];
        conv.pixels[i] = static_cast<uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]));
      }
    }
    img = std::move(conv);
  }
  std::vector<float> px;
  if (img.width == w && img.height == h) {
    px.assign(img.pixels.begin(), img.pixels.end());
  } else {
    px = resize_bilinear(img, static_cast<int>(w), static_cast<int>(h));
  }
  Tensor t = Tensor::empty(io.dtype, shape);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) {
        float v = px[(y * w + x) * c + k];
        int64_t dst = nhwc ? (y * w + x) * c + k : (k * h + y) * w + x;
        if (io.dtype == DType::kF32) {
          if (!norm.mean.empty()) v -= norm.mean.size() == 1 ? norm.mean[0] : norm.mean[k];
          if (!norm.scale.empty()) v *= norm.scale.size() == 1 ? norm.scale[0] : norm.scale[k];
          t.data<float>()[dst] = v;
        } else {
          int r = static_cast<int>(std::lround(std::min(255.f, std::max(0.f, v))));
          if (io.dtype == DType::kU8) t.data<uint8_t>()[dst] = static_cast<uint8_t>(r);
          else t.data<int8_t>()[dst] = static_cast<int8_t>(r - 128);
        }
      }
  *out = std::move(t);
  return Status::Ok();
}

}  // namespace

std::string numpy_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kF64: return "float64";
    case DType::kI8: return "int8";
    case DType::kU8: return "uint8";
    case DType::kI16: return "int16";
    case DType::kU16: return "uint16";
    case DType::kI32: return "int32";
    case DType::kU32: return "uint32";
    case DType::kI64: return "int64";
    case DType::kU64: return "uint64";
    case DType::kBool: return "bool";
    default: return dtype_name(t);
  }
}

std::string file_extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return e;
}

Status parse_input_shapes(const std::vector<std::string>& items, ShapeOverrides* out) {
  out->clear();
  for (const auto& item : items) {
    std::stringstream ss(item);
    std::string one;
    while (std::getline(ss, one, ';')) {
      if (one.empty()) continue;
      size_t colon = one.rfind(':');
      std::string name = colon == std::string::npos ? "" : one.substr(0, colon);
      Shape s;
      if (!parse_dims(colon == std::string::npos ? one : one.substr(colon + 1), &s))
        return invalid_argument("bad --input_shape '" + one + "' (want 1x3x224x224 or NAME:1x3x224x224)");
      out->emplace_back(name, s);
    }
  }
  return Status::Ok();
}

Status resolve_input_shape(const std::vector<IoInfo>& inputs, size_t index, const ShapeOverrides& overrides,
                           Shape* out) {
  const IoInfo& io = inputs[index];
  size_t positional = 0;
  for (const auto& [name, s] : overrides) {
    bool match = name.empty() ? positional == index : name == io.name;
    if (name.empty()) ++positional;
    if (!match) continue;
    if (s.size() != io.shape.size())
      return invalid_argument("--input_shape " + shape_to_string(s) + " for input '" + io.name + "' has rank " +
                              std::to_string(s.size()) + ", the model's input " + shape_to_string(io.shape) +
                              " has rank " + std::to_string(io.shape.size()));
    for (size_t d = 0; d < s.size(); ++d)
      if (io.shape[d] >= 0 && io.shape[d] != s[d])
        return invalid_argument("--input_shape " + shape_to_string(s) + " does not fit input '" + io.name + "' " +
                                shape_to_string(io.shape));
    *out = s;
    return Status::Ok();
  }
  for (const auto& [name, s] : overrides)
    if (!name.empty() && std::none_of(inputs.begin(), inputs.end(), [&](const IoInfo& i) { return i.name == name; }))
      return invalid_argument("--input_shape names '" + name + "', which is not an input of the model");
  *out = io.shape;
  for (size_t d = 0; d < out->size(); ++d) {
    if ((*out)[d] >= 0) continue;
    if (d == 0) {
      (*out)[d] = 1;  // free batch dimension: one frame
      continue;
    }
    return invalid_argument("input '" + io.name + "' has free dimensions " + shape_to_string(io.shape) +
                            ": give --input_shape " + io.name + ":1x...");
  }
  return Status::Ok();
}

Status read_pnm(const std::string& path, Image* out) {
  std::string e = file_extension(path);
  if (is_foreign_image_ext(e))
    return invalid_argument("'" + path + "': " + e.substr(1) +
                            " images are not decoded by kaiwu (no image library dependency); convert it to binary "
                            "PPM (color) or PGM (gray) first, e.g. `convert IN" + e + " OUT.ppm` (ImageMagick) or "
                            "`python3 -c \"from PIL import Image; Image.open('IN" + e + "').convert('RGB').save('OUT.ppm')\"`");
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("cannot open image '" + path + "'");
  std::string b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '2' && b[1] != '3' && b[1] != '5' && b[1] != '6'))
    return invalid_argument("'" + path + "' is not a PPM/PGM image (P2, P3, P5 or P6)");
  bool ascii = b[1] == '2' || b[1] == '3';
  int ch = (b[1] == '3' || b[1] == '6') ? 3 : 1;
  size_t pos = 2;
  int w = 0, h = 0, maxval = 0;
  if (!pnm_int(b, &pos, &w) || !pnm_int(b, &pos, &h) || !pnm_int(b, &pos, &maxval) || w <= 0 || h <= 0 || maxval <= 0)
    return invalid_argument("'" + path + "': bad PPM/PGM header");
  if (maxval > 255) return invalid_argument("'" + path + "': 16-bit PPM/PGM (maxval " + std::to_string(maxval) + ") is not supported");
  size_t n = static_cast<size_t>(w) * h * ch;
  out->width = w;
  out->height = h;
  out->channels = ch;
  out->pixels.assign(n, 0);
  if (ascii) {
    for (size_t i = 0; i < n; ++i) {
      int v;
      if (!pnm_int(b, &pos, &v)) return invalid_argument("'" + path + "': truncated PPM/PGM data");
      out->pixels[i] = static_cast<uint8_t>(std::min(255, v * 255 / maxval));
    }
  } else {
    ++pos;  // the single whitespace byte after maxval
    if (b.size() < pos + n)
      return invalid_argument("'" + path + "': truncated PPM/PGM data (" + std::to_string(b.size() - std::min(b.size(), pos)) +
                              " bytes of pixels, expected " + std::to_string(n) + ")");
    for (size_t i = 0; i < n; ++i) {
      int v = static_cast<uint8_t>(b[pos + i]);
      out->pixels[i] = static_cast<uint8_t>(maxval == 255 ? v : std::min(255, v * 255 / maxval));
    }
  }
  return Status::Ok();
}

std::vector<float> resize_bilinear(const Image& img, int out_w, int out_h) {
  const int c = img.channels;
  std::vector<float> out(static_cast<size_t>(out_w) * out_h * c);
  auto axis = [](int i, int in, int outn, int* i0, int* i1, float* f) {
    float s = (static_cast<float>(i) + 0.5f) * static_cast<float>(in) / static_cast<float>(outn) - 0.5f;
    if (s < 0) s = 0;
    if (s > in - 1) s = static_cast<float>(in - 1);
    *i0 = static_cast<int>(s);
    *i1 = std::min(*i0 + 1, in - 1);
    *f = s - static_cast<float>(*i0);
  };
  for (int y = 0; y < out_h; ++y) {
    int y0, y1;
    float fy;
    axis(y, img.height, out_h, &y0, &y1, &fy);
    for (int x = 0; x < out_w; ++x) {
      int x0, x1;
      float fx;
      axis(x, img.width, out_w, &x0, &x1, &fx);
      for (int k = 0; k < c; ++k) {
        auto p = [&](int yy, int xx) { return static_cast<float>(img.pixels[(static_cast<size_t>(yy) * img.width + xx) * c + k]); };
        float top = p(y0, x0) * (1 - fx) + p(y0, x1) * fx;
        float bot = p(y1, x0) * (1 - fx) + p(y1, x1) * fx;
        out[(static_cast<size_t>(y) * out_w + x) * c + k] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}

Status load_input(const std::string& path, const IoInfo& io, const Shape& shape, const ImageNorm& norm, Tensor* out) {
  std::string e = file_extension(path);
  Status st;
  if (e == ".npy") {
    st = read_npy(path, out);
  } else if (e == ".bin" || e == ".raw") {
    st = read_raw(path, io.dtype, shape, out);
  } else if (is_image_ext(e) || is_foreign_image_ext(e)) {
    st = image_input(path, io, shape, norm, out);
  } else {
    st = invalid_argument("'" + path + "': unknown input file type '" + e +
                          "' (use .npy, .bin/.raw raw bytes of the input's dtype and shape, or a .ppm/.pgm image)");
  }
  if (!st.ok()) return Status(st.code(), "input '" + io.name + "': " + st.message());
  return Status::Ok();
}

Tensor random_input(DType dtype, const Shape& shape, std::mt19937* rng) {
  Tensor t = Tensor::zeros(dtype, shape);
  int64_t n = t.numel();
  if (dtype == DType::kF32) {
    std::normal_distribution<float> nd(0.f, 1.f);
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = nd(*rng);
  } else if (dtype == DType::kU8 || dtype == DType::kI8) {
    std::uniform_int_distribution<int> ud(0, 255);
    uint8_t* p = static_cast<uint8_t*>(t.raw());
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(ud(*rng));
  }
  return t;
}

Status model_kind(const std::string& path, std::string* kind, std::string* detail) {
  ir::Model m;
  bool kwm = deploy::is_deployable_file(path);
  deploy::DeployInfo info;
  if (kwm) {
    KW_RETURN_IF_ERROR(deploy::read_deployable(path, &m, &info));
  } else {
    KW_RETURN_IF_ERROR(frontend::load_onnx(path, &m));
  }
  static const std::set<std::string> fixed_ops = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger",
                                                  "QLinearAdd", "QLinearMul"};
  bool fixed = false, qdq = false;
  std::set<std::string> domains;
  for (const auto& n : m.graph.nodes) {
    if (!n.domain.empty() && n.domain != "ai.onnx") {
      domains.insert(n.domain);
      if (n.domain.rfind("kaiwu", 0) == 0) fixed = true;
    }
    if (fixed_ops.count(n.op_type)) fixed = true;
    if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") qdq = true;
  }
  std::string graph_kind = fixed ? "fixed-point" : qdq ? "QDQ" : "float";
  *kind = kwm ? "deployable .kwm" : "onnx " + graph_kind;
  std::ostringstream d;
  d << (kwm ? "deployable model (" + graph_kind + " graph), " : "ONNX, ") << "opset " << m.opset() << ", "
    << m.graph.nodes.size() << " nodes";
  if (!domains.empty()) {
    d << ", domains:";
    for (const auto& s : domains) d << " " << s;
  }
  *detail = d.str();
  return Status::Ok();
}

}  // namespace kaiwu::cli::exec
