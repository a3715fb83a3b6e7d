// Helpers of the end-to-end tests: where the real models are, their cached onnxruntime references (made by
// scripts/make_e2e_refs.py), running a kaiwu::Session on them, temp folders and Fashion-MNIST IDX files.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kaiwu/session.h"
#include "kaiwu/status.h"
#include "kaiwu/tensor.h"

namespace kaiwu::e2e {

// Paths. Each is taken from its environment variable (KAIWU_SHARED, KAIWU_SOURCE, KAIWU_BUILD, KAIWU_PYTHON) when
// set, else derived: the source tree from this file's compiled-in path, the build tree from the test binary's
// location (<build>/tests/test_e2e), the venv python and ../shared beside the source tree.
std::string shared_dir();
std::string source_dir();
std::string build_dir();
std::string python();

// The models of the e2e suite, by short name: fmnist, resnet18, resnet50, mobilenet_v2, mobilenet_v3_small,
// efficientnet_b0, ppocr_det, ppocr_rec, ppocr_cls.
const std::vector<std::string>& model_names();
// Folder of the exported torchvision models ($KAIWU_BUILD/models) and of the references ($KAIWU_BUILD/e2e).
std::string models_dir();
std::string refs_dir();
// Path of the ONNX file of model `name`; exports the torchvision models first (scripts/export_models.sh) if missing.
Status model_path(const std::string& name, std::string* path);

struct RefCase {
  Tensor input;
  std::vector<Tensor> outputs;  // onnxruntime's, in graph-output order
  std::string source;           // image the input was made from
};
struct Refs {
  std::string model_path;
  std::string input_name;
  std::vector<RefCase> cases;
};
// Loads the references of model `name`, making them first (scripts/make_e2e_refs.py) when the cache is missing.
Status load_refs(const std::string& name, Refs* out);

// Opens `path` with `threads` threads (0: all cores).
Status open_session(const std::string& path, int threads, std::unique_ptr<Session>* out);
// Runs all graph outputs on one named input.
Status run_session(Session& s, const std::string& input_name, const Tensor& input, std::vector<Tensor>* outs);

// Same dtype, shape and bytes.
bool bit_equal(const Tensor& a, const Tensor& b);
// Largest |x| of a tensor (as double).
double max_abs(const Tensor& t);

// "max|d| 1.2e-06 (3.4e-07 of max|ref| 3.5), max rel 2e-06 where |ref| >= 1e-3*max|ref|" for reports.
std::string diff_summary(const Tensor& a, const Tensor& ref);

// Milliseconds since an arbitrary epoch (steady clock).
double now_ms();
// Quotes a string for /bin/sh.
std::string sh_quote(const std::string& s);

// A fresh folder under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes bytes to a file (non-atomic; for test fixtures).
Status write_bytes(const std::string& path, const std::string& bytes);

// Reads a gzip-compressed IDX file (MNIST layout: magic 0x0000 type ndims, big-endian u32 dims, u8 data) by
// decompressing it with `gzip -dc` into `tmp_dir`. Only the u8 element type (0x08) is accepted.
Status read_idx_gz(const std::string& path, const std::string& tmp_dir, std::vector<int64_t>* dims,
                   std::string* data);

}  // namespace kaiwu::e2e
