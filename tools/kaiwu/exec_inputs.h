// Inputs of `kaiwu exec`: shapes of a model's inputs, loading .npy / raw .bin / PPM-PGM image files, seeded random
// data, and what kind of artifact a model file is.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kaiwu/session.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::cli::exec {

// Per-input shape overrides, by input name ("" = the input at that position, see parse_input_shapes).
using ShapeOverrides = std::vector<std::pair<std::string, Shape>>;

// Parses "1x3x224x224" or "NAME:1x3x224x224" items separated by ';' (or given as several strings).
Status parse_input_shapes(const std::vector<std::string>& items, ShapeOverrides* out);

// The concrete shape to use for input `index`: the override if any, else the model's shape with a free leading
// (batch) dimension set to 1. Any other free dimension is an error naming the input.
Status resolve_input_shape(const std::vector<IoInfo>& inputs, size_t index, const ShapeOverrides& overrides,
                           Shape* out);

// Optional normalization of image inputs: float value = (pixel - mean[c]) * scale[c] (one value = all channels).
struct ImageNorm {
  std::vector<float> mean, scale;
};

// An 8-bit image, interleaved HWC (c = 1 or 3, RGB order).
struct Image {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Reads a PNM image: P5/P6 (binary) or P2/P3 (ASCII), maxval <= 255. Other image formats (.jpg, .png, ...) are
// refused with a message telling how to convert them.
Status read_pnm(const std::string& path, Image* out);
// Bilinear resize with half-pixel centers (as OpenCV INTER_LINEAR / ONNX Resize linear, no antialias), float result.
std::vector<float> resize_bilinear(const Image& img, int out_w, int out_h);

// Loads one input of the model from `path` by extension: .npy (as stored), .bin/.raw (raw bytes of the input's
// dtype and `shape`; the size must match), .ppm/.pgm/.pnm (decoded, resized to the input's HxW, NCHW or NHWC per the
// input's layout; float32 keeps 0..255 then applies `norm`, uint8 as is, int8 as pixel - 128).
Status load_input(const std::string& path, const IoInfo& io, const Shape& shape, const ImageNorm& norm, Tensor* out);

// Seeded random data of `shape`: N(0,1) for float32 (the bench harness's rule), uniform over the range for
// uint8/int8, zeros for other types.
Tensor random_input(DType dtype, const Shape& shape, std::mt19937* rng);

// Kind of artifact: "deployable .kwm", "onnx fixed-point", "onnx QDQ" or "onnx float"; `detail` gets a short
// description (opset, node count, domains).
Status model_kind(const std::string& path, std::string* kind, std::string* detail);

// numpy spelling of a dtype: "float32", "uint8", ...
std::string numpy_name(DType t);

// Lower-case extension with the dot (".npy"), "" when none.
std::string file_extension(const std::string& path);

}  // namespace kaiwu::cli::exec
