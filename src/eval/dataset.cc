#include "eval/dataset.h"

#include <jpeglib.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace kaiwu::eval {

namespace {

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

Status read_jpeg(const std::string& path, const std::string& data, Image* out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return invalid_argument("'" + path + "': not a valid JPEG: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->height = cinfo.output_height;
  out->width = cinfo.output_width;
  out->channels = 3;
  out->pixels.assign(static_cast<size_t>(out->height * out->width * 3), 0);
  while (cinfo.output_scanline < cinfo.output_height) {
    unsigned char* row = out->pixels.data() + static_cast<size_t>(cinfo.output_scanline) * out->width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return Status::Ok();
}

Status read_pnm(const std::string& path, const std::string& data, Image* out) {
  std::istringstream is(data);
  std::string magic;
  int w = 0, h = 0, maxv = 0;
  is >> magic >> w >> h >> maxv;
  if ((magic != "P6" && magic != "P5") || w <= 0 || h <= 0 || maxv != 255)
    return invalid_argument("'" + path + "': only binary 8-bit PPM (P6) / PGM (P5) are supported");
  is.get();
  out->height = h;
  out->width = w;
  out->channels = magic == "P6" ? 3 : 1;
  const size_t n = static_cast<size_t>(w) * h * out->channels;
  const size_t at = static_cast<size_t>(is.tellg());
  if (data.size() < at + n) return invalid_argument("'" + path + "': truncated image data");
  out->pixels.assign(data.begin() + at, data.begin() + at + n);
  return Status::Ok();
}

Status read_all(const std::string& path, std::string* data) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found("'" + path + "': cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  *data = ss.str();
  return Status::Ok();
}

// Reads a whole file, gunzipping it when it starts with the gzip magic.
Status read_maybe_gz(const std::string& path, std::string* data) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return not_found("'" + path + "': cannot open");
  data->clear();
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) data->append(buf, n);
  const bool bad = n < 0;
  gzclose(f);
  if (bad) return invalid_argument("'" + path + "': corrupted gzip data");
  return Status::Ok();
}

// Separable resampling weights for one axis: output i covers [i*scale, (i+1)*scale) of the input (triangle filter
// widened by the scale when shrinking, as PIL does).
struct Taps {
  std::vector<int> start;
  std::vector<std::vector<float>> w;
};

Taps make_taps(int64_t in, int64_t out) {
  Taps t;
  const double scale = static_cast<double>(in) / out;
  const double support = std::max(1.0, scale);
  for (int64_t i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    int64_t lo = static_cast<int64_t>(std::floor(center - support)), hi = static_cast<int64_t>(std::ceil(center + support));
    lo = std::max<int64_t>(lo, 0);
    hi = std::min<int64_t>(hi, in);
    std::vector<float> w;
    double sum = 0;
    for (int64_t k = lo; k < hi; ++k) {
      const double d = std::fabs((k + 0.5 - center) / support);
      const double v = d < 1.0 ? 1.0 - d : 0.0;
      w.push_back(static_cast<float>(v));
      sum += v;
    }
    for (auto& v : w) v = static_cast<float>(v / (sum > 0 ? sum : 1));
    t.start.push_back(static_cast<int>(lo));
    t.w.push_back(std::move(w));
  }
  return t;
}

class ImageFolder : public Dataset {
 public:
  std::string folder;
  Normalization norm;
  std::vector<std::pair<std::string, int64_t>> items;
  size_t size() const override { return items.size(); }
  Status get(size_t i, Sample* out) const override {
    Image img;
    KW_RETURN_IF_ERROR(read_image(folder + "/" + items[i].first, &img));
    if (img.channels == 1) {  // gray -> rgb
      Image rgb{img.height, img.width, 3, std::vector<uint8_t>(img.pixels.size() * 3)};
      for (size_t k = 0; k < img.pixels.size(); ++k) rgb.pixels[3 * k] = rgb.pixels[3 * k + 1] = rgb.pixels[3 * k + 2] = img.pixels[k];
      img = std::move(rgb);
    }
    out->input = imagenet_preprocess(img, 256, 224, norm.mean, norm.std);
    out->label = items[i].second;
    out->name = items[i].first;
    return Status::Ok();
  }
};

class IdxData : public Dataset {
 public:
  std::string images, labels;
  int64_t n = 0, h = 0, w = 0;
  float mean = 0, std = 1;
  size_t size() const override { return static_cast<size_t>(n); }
  Status get(size_t i, Sample* out) const override {
    Tensor x = Tensor::empty(DType::kF32, {1, 1, h, w});
    const uint8_t* p = reinterpret_cast<const uint8_t*>(images.data()) + 16 + i * h * w;
    for (int64_t k = 0; k < h * w; ++k) x.data<float>()[k] = (p[k] / 255.0f - mean) / std;
    out->input = std::move(x);
    out->label = static_cast<uint8_t>(labels[8 + i]);
    out->name = "#" + std::to_string(i);
    return Status::Ok();
  }
};

uint32_t be32(const std::string& s, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + at;
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

Status read_image(const std::string& path, Image* out) {
  std::string data;
  KW_RETURN_IF_ERROR(read_all(path, &data));
  if (data.size() >= 3 && static_cast<uint8_t>(data[0]) == 0xFF && static_cast<uint8_t>(data[1]) == 0xD8)
    return read_jpeg(path, data, out);
  if (data.size() >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6')) return read_pnm(path, data, out);
  return invalid_argument("'" + path + "': unsupported image format (JPEG, PPM P6 and PGM P5 are supported)");
}

Tensor imagenet_preprocess(const Image& rgb, int resize, int crop, const float mean_in[3], const float std_in[3]) {
  static const float kMean[3] = {0.485f, 0.456f, 0.406f}, kStd[3] = {0.229f, 0.224f, 0.225f};
  const float* mean = mean_in ? mean_in : kMean;
  const float* stdv = std_in ? std_in : kStd;
  const int64_t h = rgb.height, w = rgb.width;
  const int64_t nh = h <= w ? resize : static_cast<int64_t>(static_cast<double>(resize) * h / w);
  const int64_t nw = h <= w ? static_cast<int64_t>(static_cast<double>(resize) * w / h) : resize;
  const Taps ty = make_taps(h, nh), tx = make_taps(w, nw);
  // Horizontal pass, then vertical only for the crop window.
  std::vector<float> tmp(static_cast<size_t>(h * nw * 3));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < nw; ++x)
      for (int c = 0; c < 3; ++c) {
        float s = 0;
        for (size_t k = 0; k < tx.w[x].size(); ++k) s += tx.w[x][k] * rgb.pixels[(y * w + tx.start[x] + k) * 3 + c];
        tmp[(y * nw + x) * 3 + c] = s;
      }
  const int64_t top = (nh - crop + 1) / 2, left = (nw - crop + 1) / 2;
  Tensor out = Tensor::empty(DType::kF32, {1, 3, crop, crop});
  float* o = out.data<float>();
  for (int64_t y = 0; y < crop; ++y)
    for (int64_t x = 0; x < crop; ++x)
      for (int c = 0; c < 3; ++c) {
        const int64_t sy = y + top, sx = x + left;
        float s = 0;
        for (size_t k = 0; k < ty.w[sy].size(); ++k) s += ty.w[sy][k] * tmp[((ty.start[sy] + k) * nw + sx) * 3 + c];
        const float v = std::min(255.f, std::max(0.f, std::nearbyint(s)));  // PIL rounds to 8 bits
        o[(c * crop + y) * crop + x] = (v / 255.f - mean[c]) / stdv[c];
      }
  return out;
}

Status open_image_folder(const std::string& folder, const std::string& labels, int skip_every, size_t limit,
                         std::unique_ptr<Dataset>* out, const Normalization& norm) {
  std::string text;
  KW_RETURN_IF_ERROR(read_all(labels, &text));
  auto d = std::make_unique<ImageFolder>();
  d->folder = folder;
  d->norm = norm;
  std::istringstream is(text);
  std::string line;
  int file_col = 0, label_col = 1;
  size_t line_no = 0, index = 0;
  while (std::getline(is, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const char sep = line.find('\t') != std::string::npos ? '\t' : ',';
    std::vector<std::string> cols;
    std::stringstream ls(line);
    std::string c;
    while (std::getline(ls, c, sep)) cols.push_back(c);
    if (line_no == 1) {
      auto f = std::find(cols.begin(), cols.end(), "file");
      auto l = std::find(cols.begin(), cols.end(), "class_index");
      if (f != cols.end() || l != cols.end()) {  // a header
        if (f != cols.end()) file_col = static_cast<int>(f - cols.begin());
        if (l != cols.end()) label_col = static_cast<int>(l - cols.begin());
        continue;
      }
    }
    if (static_cast<int>(cols.size()) <= std::max(file_col, label_col))
      return invalid_argument("'" + labels + "' line " + std::to_string(line_no) + ": expected a file and a label");
    int64_t label = 0;
    try {
      label = std::stoll(cols[label_col]);
    } catch (const std::exception&) {
      return invalid_argument("'" + labels + "' line " + std::to_string(line_no) + ": label '" + cols[label_col] +
                              "' is not an integer");
    }
    const size_t i = index++;
    if (skip_every > 0 && i % skip_every == 0) continue;
    d->items.emplace_back(cols[file_col], label);
    if (limit && d->items.size() >= limit) break;
  }
  if (d->items.empty()) return invalid_argument("'" + labels + "': no images listed");
  *out = std::move(d);
  return Status::Ok();
}

Status open_idx(const std::string& images, const std::string& labels, float mean, float std, size_t limit,
                std::unique_ptr<Dataset>* out) {
  auto d = std::make_unique<IdxData>();
  KW_RETURN_IF_ERROR(read_maybe_gz(images, &d->images));
  KW_RETURN_IF_ERROR(read_maybe_gz(labels, &d->labels));
  if (d->images.size() < 16 || be32(d->images, 0) != 0x803)
    return invalid_argument("'" + images + "': not an IDX image file (magic 0x00000803)");
  if (d->labels.size() < 8 || be32(d->labels, 0) != 0x801)
    return invalid_argument("'" + labels + "': not an IDX label file (magic 0x00000801)");
  d->n = be32(d->images, 4);
  d->h = be32(d->images, 8);
  d->w = be32(d->images, 12);
  if (d->images.size() < 16 + static_cast<size_t>(d->n * d->h * d->w))
    return invalid_argument("'" + images + "': truncated");
  if (be32(d->labels, 4) != static_cast<uint32_t>(d->n) || d->labels.size() < 8 + static_cast<size_t>(d->n))
    return invalid_argument("'" + labels + "': label count differs from the image count");
  if (limit && static_cast<int64_t>(limit) < d->n) d->n = static_cast<int64_t>(limit);
  d->mean = mean;
  d->std = std;
  *out = std::move(d);
  return Status::Ok();
}

}  // namespace kaiwu::eval
