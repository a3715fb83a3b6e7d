#include "e2e/e2e_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/file_util.h"
#include "core/npy.h"
#include "test_util.h"

namespace kaiwu::e2e {

namespace {

std::string env(const char* k) {
  const char* v = std::getenv(k);
  return v && *v ? std::string(v) : std::string();
}

std::string parent(const std::string& p) {
  size_t s = p.find_last_of('/');
  return s == std::string::npos || s == 0 ? std::string("/") : p.substr(0, s);
}

}  // namespace

std::string source_dir() {
  std::string e = env("KAIWU_SOURCE");
  if (!e.empty()) return e;
  std::string f = __FILE__;  // <source>/tests/e2e/e2e_util.cc
  return f.empty() || f[0] != '/' ? test::source_dir() : parent(parent(parent(f)));
}

std::string shared_dir() {
  std::string e = env("KAIWU_SHARED");
  return e.empty() ? source_dir() + "/../shared" : e;
}

std::string build_dir() {
  std::string e = env("KAIWU_BUILD");
  if (!e.empty()) return e;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return test::build_dir();
  return parent(parent(std::string(buf, static_cast<size_t>(n))));  // <build>/tests/test_e2e
}

std::string python() {
  std::string e = env("KAIWU_PYTHON");
  if (!e.empty()) return e;
  std::string venv = source_dir() + "/.venv/bin/python";
  return test::file_exists(venv) ? venv : test::python();
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> k = {"fmnist",          "resnet18",  "resnet50",
                                             "mobilenet_v2",    "mobilenet_v3_small",
                                             "efficientnet_b0", "ppocr_det", "ppocr_rec", "ppocr_cls"};
  return k;
}

std::string models_dir() { return build_dir() + "/models"; }
std::string refs_dir() { return build_dir() + "/e2e"; }

std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Status model_path(const std::string& name, std::string* path) {
  const std::string shared = shared_dir();
  if (name == "fmnist") *path = shared + "/models/fmnist/fmnist_cnn.onnx";
  else if (name == "ppocr_det") *path = shared + "/models/ppocr/ch_PP-OCRv4_det_infer.onnx";
  else if (name == "ppocr_rec") *path = shared + "/models/ppocr/ch_PP-OCRv4_rec_infer.onnx";
  else if (name == "ppocr_cls") *path = shared + "/models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  else {
    const auto& all = model_names();
    if (std::find(all.begin(), all.end(), name) == all.end()) return not_found("unknown e2e model '" + name + "'");
    *path = models_dir() + "/" + name + ".onnx";
    if (!test::file_exists(*path)) {
      std::string out;
      std::string cmd = "sh " + sh_quote(source_dir() + "/scripts/export_models.sh") + " " +
                        sh_quote(models_dir()) + " " + sh_quote(shared);
      int rc = test::run_command(cmd, &out);
      if (rc != 0 || !test::file_exists(*path))
        return io_error("exporting the torchvision models failed (exit " + std::to_string(rc) + "): " + cmd + "\n" +
                        out);
    }
  }
  if (!test::file_exists(*path)) return not_found("model file '" + *path + "' is missing");
  return Status::Ok();
}

namespace {

struct Meta {
  std::string model, input;
  int64_t model_size = -1;
  int n_cases = -1, n_outputs = -1;
  std::vector<std::string> sources;
};

Status read_meta(const std::string& meta_path, Meta* m) {
  std::string text;
  KW_RETURN_IF_ERROR(read_file(meta_path, &text));
  std::istringstream is(text);
  std::string line;
  while (std::getline(is, line)) {
    size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = line.substr(0, sp), val = line.substr(sp + 1);
    if (key == "model") m->model = val;
    else if (key == "model_size") m->model_size = std::atoll(val.c_str());
    else if (key == "input") m->input = val;
    else if (key == "outputs") m->n_outputs = std::atoi(val.c_str());
    else if (key == "cases") m->n_cases = std::atoi(val.c_str());
    else if (key == "source") m->sources.push_back(val.substr(val.find(' ') + 1));
  }
  if (m->n_cases <= 0 || m->n_outputs <= 0 || m->input.empty() || m->model.empty())
    return invalid_argument("'" + meta_path + "' is incomplete (delete the folder to remake it)");
  return Status::Ok();
}

int64_t file_size(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace

Status load_refs(const std::string& name, Refs* out) {
  std::string dir = refs_dir() + "/" + name, meta_path = dir + "/meta.txt";
  std::string model;
  KW_RETURN_IF_ERROR(model_path(name, &model));  // exports the torchvision models when needed
  Meta meta;
  bool fresh = test::file_exists(meta_path) && read_meta(meta_path, &meta).ok() &&
               meta.model_size == file_size(model);
  if (!fresh) {  // missing, incomplete, or made from another version of the model file
    std::string cmd = sh_quote(python()) + " " + sh_quote(source_dir() + "/scripts/make_e2e_refs.py") +
                      " --shared " + sh_quote(shared_dir()) + " --models " + sh_quote(models_dir()) + " --out " +
                      sh_quote(refs_dir()) + " " + name;
    std::string log;
    int rc = test::run_command(cmd, &log);
    if (rc != 0 || !test::file_exists(meta_path))
      return io_error("making the references of '" + name + "' failed (exit " + std::to_string(rc) + "): " + cmd +
                      "\n" + log);
    meta = Meta();
    KW_RETURN_IF_ERROR(read_meta(meta_path, &meta));
  }
  Refs r;
  r.model_path = model;  // not meta.model: the build tree may have moved since
  r.input_name = meta.input;
  for (int k = 0; k < meta.n_cases; ++k) {
    RefCase c;
    std::string pre = dir + "/case" + std::to_string(k);
    KW_RETURN_IF_ERROR(read_npy(pre + "_input.npy", &c.input));
    for (int j = 0; j < meta.n_outputs; ++j) {
      Tensor t;
      KW_RETURN_IF_ERROR(read_npy(pre + "_output" + std::to_string(j) + ".npy", &t));
      c.outputs.push_back(std::move(t));
    }
    if (k < static_cast<int>(meta.sources.size())) c.source = meta.sources[k];
    r.cases.push_back(std::move(c));
  }
  *out = std::move(r);
  return Status::Ok();
}

Status open_session(const std::string& path, int threads, std::unique_ptr<Session>* out) {
  SessionOptions opt;
  opt.num_threads = threads;
  return Session::open(path, opt, out);
}

Status run_session(Session& s, const std::string& input_name, const Tensor& input, std::vector<Tensor>* outs) {
  return s.run({{input_name, input}}, {}, outs);
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  return a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(t.get_f64(i)));
  return m;
}

std::string diff_summary(const Tensor& a, const Tensor& ref) {
  if (a.shape() != ref.shape()) return "shape " + shape_to_string(a.shape()) + " vs " + shape_to_string(ref.shape());
  const double scale = max_abs(ref);
  double max_d = 0, max_rel = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.get_f64(i), y = ref.get_f64(i), d = std::fabs(x - y);
    max_d = std::max(max_d, d);
    if (std::fabs(y) >= 1e-3 * scale && y != 0) max_rel = std::max(max_rel, d / std::fabs(y));
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "max|d| %.3g (%.3g of max|ref| %.4g), max rel %.3g where |ref| >= 1e-3*max|ref|",
                max_d, scale > 0 ? max_d / scale : 0.0, scale, max_rel);
  return buf;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/kaiwu_e2e_XXXXXX";
  char* p = ::mkdtemp(tmpl);
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  if (path_.rfind("/tmp/kaiwu_e2e_", 0) == 0) {
    std::string out;
    test::run_command("rm -rf " + sh_quote(path_), &out);
  }
}

Status write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return io_error("cannot write '" + path + "'");
  return Status::Ok();
}

Status read_idx_gz(const std::string& path, const std::string& tmp_dir, std::vector<int64_t>* dims,
                   std::string* data) {
  size_t slash = path.find_last_of('/');
  std::string raw = tmp_dir + "/" + path.substr(slash == std::string::npos ? 0 : slash + 1) + ".raw";
  std::string log;
  int rc = test::run_command("gzip -dc " + sh_quote(path) + " > " + sh_quote(raw), &log);
  if (rc != 0) return io_error("gzip -dc '" + path + "' failed (exit " + std::to_string(rc) + "): " + log);
  std::string b;
  KW_RETURN_IF_ERROR(read_file(raw, &b));
  auto bad = [&](const std::string& m) { return invalid_argument("'" + path + "' is not a u8 IDX file: " + m); };
  if (b.size() < 4 || b[0] != 0 || b[1] != 0) return bad("bad magic");
  if (static_cast<uint8_t>(b[2]) != 0x08) return bad("element type is not u8");
  int nd = static_cast<uint8_t>(b[3]);
  if (b.size() < 4 + 4 * static_cast<size_t>(nd)) return bad("truncated header");
  dims->clear();
  int64_t n = 1;
  for (int i = 0; i < nd; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(b.data() + 4 + 4 * i);
    int64_t d = (int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | p[3];
    dims->push_back(d);
    n *= d;
  }
  size_t off = 4 + 4 * static_cast<size_t>(nd);
  if (b.size() != off + static_cast<size_t>(n))
    return bad("size " + std::to_string(b.size()) + " does not match the header (" + std::to_string(off + n) + ")");
  *data = b.substr(off);
  return Status::Ok();
}

}  // namespace kaiwu::e2e
