// Labelled evaluation data for `kaiwu eval`: an image folder with a labels file (ImageNet-style preprocessing) and
// IDX files (MNIST / Fashion-MNIST, optionally gzip-compressed). Samples are produced one at a time (streaming).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::eval {

// An 8-bit image, interleaved channels (RGB or gray), row-major.
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes a JPEG (libjpeg), binary PPM (P6) or PGM (P5) file; JPEG/PPM give RGB, PGM gray.
Status read_image(const std::string& path, Image* out);

// ImageNet evaluation preprocessing: resize the short side to `resize` (bilinear, area-weighted when shrinking,
// like PIL's antialiased bilinear), centre crop `crop` x `crop`, x / 255, (x - mean[c]) / std[c], NCHW float32
// [1, 3, crop, crop].
Tensor imagenet_preprocess(const Image& rgb, int resize = 256, int crop = 224,
                           const float mean[3] = nullptr, const float std[3] = nullptr);

// Per-channel normalization of images: (x / 255 - mean[c]) / std[c].
struct Normalization {
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};

struct Sample {
  Tensor input;
  int64_t label = -1;
  std::string name;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual Status get(size_t i, Sample* out) const = 0;
};

// Image folder + labels file: TSV/CSV with a header; columns `file` and `class_index` (or the first two columns).
// `skip_every` > 0 leaves out the images whose index i has i % skip_every == 0 (e.g. those used for calibration).
Status open_image_folder(const std::string& folder, const std::string& labels, int skip_every, size_t limit,
                         std::unique_ptr<Dataset>* out, const Normalization& norm = Normalization());
// IDX image and label files (.gz or raw): images [N, H, W] u8 -> float [1, 1, H, W] = (x / 255 - mean) / std.
Status open_idx(const std::string& images, const std::string& labels, float mean, float std, size_t limit,
                std::unique_ptr<Dataset>* out);

}  // namespace kaiwu::eval
