// kaiwu eval: classification accuracy of models side by side on labelled data (an image folder with a labels file,
// ImageNet preprocessing; or IDX files such as Fashion-MNIST), and a generic mode comparing two models' outputs over
// a folder of .npy inputs.
//
//   kaiwu eval (-m MODEL ... | -w WORKING_DIR) (--images DIR --labels FILE [--skip-every N] |
//              --idx-images F --idx-labels F [--mean M --std S]) [--count N] [-t THREADS]
//   kaiwu eval --compare A B --data DIR [-t THREADS]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/npy.h"
#include "eval/dataset.h"
#include "kaiwu/session.h"

namespace kaiwu::cli {

namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::vector<std::string> models, compare;
  std::string working_dir, images, labels, idx_images, idx_labels, data;
  int skip_every = 0, threads = 0;
  size_t count = 0;
  std::vector<float> mean, std;  // IDX: one value; images: one or three (default: ImageNet mean/std)
};

// The stage models of a working_dir, in pipeline order.
std::vector<std::string> stage_models(const std::string& dir) {
  std::vector<std::string> out;
  std::string prefix;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    const std::string tag = "_original_float_model.onnx";
    if (f.size() > tag.size() && f.compare(f.size() - tag.size(), tag.size(), tag) == 0)
      prefix = f.substr(0, f.size() - tag.size());
  }
  if (prefix.empty()) return out;
  for (const char* s : {"_original_float_model.onnx", "_optimized_float_model.onnx", "_calibrated_model.onnx",
                        "_ptq_model.onnx", "_quantized_model.onnx", ".kwm"}) {
    const std::string p = dir + "/" + prefix + s;
    if (fs::exists(p)) out.push_back(p);
  }
  return out;
}

// Top-k class indices of a logits row (ties: lower index first).
std::vector<int64_t> top_k(const Tensor& t, int k) {
  const int64_t n = t.numel();
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  k = static_cast<int>(std::min<int64_t>(k, n));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int64_t a, int64_t b) { return t.get_f64(a) > t.get_f64(b) || (t.get_f64(a) == t.get_f64(b) && a < b); });
  idx.resize(k);
  return idx;
}

Status classify(const EvalArgs& a) {
  std::vector<std::string> models = a.models;
  if (!a.working_dir.empty()) {
    if (!fs::is_directory(a.working_dir)) return not_found("working_dir '" + a.working_dir + "' does not exist");
    models = stage_models(a.working_dir);
    if (models.empty()) return not_found("no stage models (P_original_float_model.onnx, ...) in '" + a.working_dir + "'");
  }
  if (models.empty()) return invalid_argument("give models with -m or a working_dir with -w");
  std::unique_ptr<eval::Dataset> data;
  if (!a.images.empty()) {
    if (a.labels.empty()) return invalid_argument("--images needs --labels");
    if ((a.mean.size() > 1 && a.mean.size() != 3) || (a.std.size() > 1 && a.std.size() != 3))
      return invalid_argument("--mean / --std for images take 1 or 3 values");
    eval::Normalization norm;
    for (int c = 0; c < 3; ++c) {
      if (!a.mean.empty()) norm.mean[c] = a.mean[a.mean.size() == 3 ? c : 0];
      if (!a.std.empty()) norm.std[c] = a.std[a.std.size() == 3 ? c : 0];
    }
    KW_RETURN_IF_ERROR(eval::open_image_folder(a.images, a.labels, a.skip_every, a.count, &data, norm));
  } else if (!a.idx_images.empty()) {
    if (a.idx_labels.empty()) return invalid_argument("--idx-images needs --idx-labels");
    KW_RETURN_IF_ERROR(eval::open_idx(a.idx_images, a.idx_labels, a.mean.empty() ? 0.f : a.mean[0],
                                      a.std.empty() ? 1.f : a.std[0], a.count, &data));
  } else {
    return invalid_argument("give the data: --images DIR --labels FILE, or --idx-images F --idx-labels F");
  }
  SessionOptions so;
  so.num_threads = a.threads;
  std::vector<std::unique_ptr<Session>> sessions(models.size());
  for (size_t m = 0; m < models.size(); ++m) KW_RETURN_IF_ERROR(Session::open(models[m], so, &sessions[m]));
  std::vector<int64_t> top1(models.size()), top5(models.size()), agree(models.size());
  std::vector<double> ms(models.size());
  const size_t n = data->size();
  for (size_t i = 0; i < n; ++i) {
    eval::Sample s;
    KW_RETURN_IF_ERROR(data->get(i, &s));
    int64_t first_top = -1;
    for (size_t m = 0; m < models.size(); ++m) {
      std::vector<Tensor> out;
      auto t0 = std::chrono::steady_clock::now();
      KW_RETURN_IF_ERROR(sessions[m]->run({{sessions[m]->inputs()[0].name, s.input}}, {}, &out)
                             .with_context(models[m] + ", sample " + s.name));
      ms[m] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (out.empty() || out[0].numel() < 1) return invalid_argument(models[m] + ": no output");
      const std::vector<int64_t> t = top_k(out[0], 5);
      top1[m] += t[0] == s.label;
      top5[m] += std::find(t.begin(), t.end(), s.label) != t.end();
      if (m == 0) first_top = t[0];
      agree[m] += t[0] == first_top;
    }
    if ((i + 1) % 100 == 0) std::fprintf(stderr, "\r%zu / %zu", i + 1, n);
  }
  if (n >= 100) std::fprintf(stderr, "\n");
  std::printf("%-60s %8s %8s %12s %10s\n", "model", "top-1", "top-5", "agree w/ 1st", "ms/sample");
  for (size_t m = 0; m < models.size(); ++m)
    std::printf("%-60s %7.2f%% %7.2f%% %11.2f%% %10.3f\n", fs::path(models[m]).filename().c_str(), 100.0 * top1[m] / n,
                100.0 * top5[m] / n, 100.0 * agree[m] / n, ms[m] / n);
  std::printf("samples: %zu\n", n);
  return Status::Ok();
}

Status compare(const EvalArgs& a) {
  if (a.compare.size() != 2) return invalid_argument("--compare takes two models");
  if (a.data.empty() || !fs::is_directory(a.data)) return not_found("--data: '" + a.data + "' is not a folder of .npy inputs");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(a.data))
    if (e.path().extension() == ".npy") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) return not_found("--data: no .npy files in '" + a.data + "'");
  SessionOptions so;
  so.num_threads = a.threads;
  std::unique_ptr<Session> sa, sb;
  KW_RETURN_IF_ERROR(Session::open(a.compare[0], so, &sa));
  KW_RETURN_IF_ERROR(Session::open(a.compare[1], so, &sb));
  double dot = 0, na = 0, nb = 0, se = 0, max_abs = 0;
  int64_t elems = 0, same_top = 0;
  for (const auto& f : files) {
    Tensor x;
    KW_RETURN_IF_ERROR(read_npy(f, &x));
    std::vector<Tensor> oa, ob;
    KW_RETURN_IF_ERROR(sa->run({{sa->inputs()[0].name, x}}, {}, &oa).with_context(a.compare[0] + ", " + f));
    KW_RETURN_IF_ERROR(sb->run({{sb->inputs()[0].name, x}}, {}, &ob).with_context(a.compare[1] + ", " + f));
    if (oa[0].numel() != ob[0].numel()) return invalid_argument("the models' first outputs differ in size");
    for (int64_t i = 0; i < oa[0].numel(); ++i) {
      const double u = oa[0].get_f64(i), v = ob[0].get_f64(i);
      dot += u * v, na += u * u, nb += v * v, se += (u - v) * (u - v);
      max_abs = std::max(max_abs, std::fabs(u - v));
    }
    elems += oa[0].numel();
    same_top += top_k(oa[0], 1)[0] == top_k(ob[0], 1)[0];
  }
  std::printf("inputs: %zu\ncosine: %.6f\nmse: %.6g\nmax abs error: %.6g\ntop-1 agreement: %.2f%%\n", files.size(),
              dot / std::sqrt(na * nb + 1e-300), se / std::max<int64_t>(elems, 1), max_abs,
              100.0 * same_top / files.size());
  return Status::Ok();
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = app.add_subcommand("eval", "Accuracy of models (or every stage of a working_dir) on labelled data");
  c->add_option("-m,--model", a->models, "Model(s) to evaluate side by side");
  c->add_option("-w,--working-dir", a->working_dir, "Evaluate every stage model of this compile output");
  c->add_option("--images", a->images, "Image folder (JPEG/PPM/PGM; ImageNet preprocessing 256 -> 224)");
  c->add_option("--labels", a->labels, "Labels file (columns file, class_index)");
  c->add_option("--skip-every", a->skip_every, "Leave out image i when i % N == 0 (e.g. the calibration images)");
  c->add_option("--idx-images", a->idx_images, "IDX image file (.gz ok), e.g. t10k-images-idx3-ubyte.gz");
  c->add_option("--idx-labels", a->idx_labels, "IDX label file (.gz ok)");
  c->add_option("--mean", a->mean, "Normalization (x / 255 - mean) / std: IDX one value, images 1 or 3 "
                                   "(default 0.485,0.456,0.406)")->delimiter(',');
  c->add_option("--std", a->std, "Normalization std (images default 0.229,0.224,0.225)")->delimiter(',');
  c->add_option("--count", a->count, "At most this many samples");
  c->add_option("--compare", a->compare, "Generic mode: compare two models' outputs")->expected(2);
  c->add_option("--data", a->data, "Generic mode: folder of .npy inputs");
  c->add_option("-t,--threads", a->threads, "Threads (0: all cores)");
  c->callback([a] {
    Status st = a->compare.empty() ? classify(*a) : compare(*a);
    if (!st.ok()) {
      std::cerr << "kaiwu eval: " << st.to_string() << "\n";
      set_exit_code(1);
    }
  });
}

}  // namespace kaiwu::cli
