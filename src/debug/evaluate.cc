// Metrics, the debugger's data and the Evaluator (float reference vs partially quantized models, streaming).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/npy.h"
#include "debug/debugger.h"
#include "frontend/onnx/onnx_import.h"

namespace kaiwu::debug {

namespace fs = std::filesystem;

Status parse_metric(const std::string& name, Metric* out) {
  if (name == "cosine-similarity" || name == "cosine") *out = Metric::kCosine;
  else if (name == "mse") *out = Metric::kMse;
  else if (name == "mre") *out = Metric::kMre;
  else if (name == "sqnr") *out = Metric::kSqnr;
  else if (name == "chebyshev") *out = Metric::kChebyshev;
  else if (name == "mae") *out = Metric::kMae;
  else if (name == "top1" || name == "top1-agreement") *out = Metric::kTop1;
  else if (name == "iou") *out = Metric::kIou;
  else
    return invalid_argument("unknown metric '" + name +
                            "' (cosine-similarity, mse, mre, sqnr, chebyshev, mae, top1, iou)");
  return Status::Ok();
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kCosine: return "cosine-similarity";
    case Metric::kMse: return "mse";
    case Metric::kMre: return "mre";
    case Metric::kSqnr: return "sqnr";
    case Metric::kChebyshev: return "chebyshev";
    case Metric::kTop1: return "top1";
    case Metric::kIou: return "iou";
    default: return "mae";
  }
}

bool higher_is_better(Metric m) {
  return m == Metric::kCosine || m == Metric::kSqnr || m == Metric::kTop1 || m == Metric::kIou;
}

bool ErrorStats::add(const Tensor& ref, const Tensor& test) {
  if (ref.dtype() != DType::kF32 || test.dtype() != DType::kF32 || ref.numel() != test.numel()) return false;
  const float* a = ref.data<float>();
  const float* b = test.data<float>();
  const int64_t n = ref.numel();
  double d = 0, x = 0, y = 0, s = 0, ad = 0, ar = 0, mx = max_abs;
  const float t = binarize;
  int64_t in = 0, un = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double u = a[i], v = b[i], e = u - v;
    d += u * v, x += u * u, y += v * v, s += e * e, ad += std::fabs(e), ar += std::fabs(u);
    mx = std::max(mx, std::fabs(e));
    const bool p = a[i] > t, q = b[i] > t;
    in += p && q, un += p || q;
  }
  dot += d, na += x, nb += y, sq += s, abs_diff += ad, abs_ref += ar, max_abs = mx;
  count += n, inter += in, uni += un;
  const int64_t c = ref.shape().empty() ? n : std::max<int64_t>(1, ref.shape().back());
  for (int64_t r = 0; r + c <= n; r += c) {
    const int64_t ia = std::max_element(a + r, a + r + c) - (a + r), ib = std::max_element(b + r, b + r + c) - (b + r);
    agree += ia == ib, ++rows;
  }
  return true;
}

double ErrorStats::value(Metric m) const {
  switch (m) {
    case Metric::kCosine:
      if (na == 0 && nb == 0) return 1.0;
      if (na == 0 || nb == 0) return 0.0;
      return dot / std::sqrt(na * nb);
    case Metric::kMse: return count ? sq / count : 0.0;
    case Metric::kMae: return count ? abs_diff / count : 0.0;
    case Metric::kMre: return abs_ref > 0 ? abs_diff / abs_ref : (abs_diff > 0 ? 1.0 : 0.0);
    case Metric::kSqnr:
      if (sq == 0) return 200.0;  // identical: report a large finite value
      return na > 0 ? 10.0 * std::log10(na / sq) : -200.0;
    case Metric::kTop1: return rows ? double(agree) / rows : 1.0;
    case Metric::kIou: return uni ? double(inter) / uni : 1.0;
    default: return max_abs;
  }
}

Status open_data(const ir::Model& m, const std::string& dir, const std::string& cal_data_type, size_t data_num,
                 calib::CalibrationDataset* out, std::vector<size_t>* samples) {
  std::vector<calib::InputSpec> specs;
  for (const auto& in : m.graph.inputs) {
    auto shape = in.static_shape();
    if (!shape) {
      // Symbolic dims: take them from the first .npy sample of this input (same rank, or without the batch
      // dim); otherwise batch 1 and the rest must be static.
      Shape s;
      for (const auto& d : in.dims) s.push_back(d.is_static() ? d.value : 1);
      shape = s;
      const std::string sub = !dir.empty() && fs::is_directory(dir + "/" + in.name) ? dir + "/" + in.name : dir;
      if (!dir.empty() && fs::is_directory(sub)) {
        std::vector<std::string> npys;
        for (const auto& e : fs::directory_iterator(sub))
          if (e.path().extension() == ".npy") npys.push_back(e.path().string());
        std::sort(npys.begin(), npys.end());
        Tensor t;
        if (!npys.empty() && read_npy(npys[0], &t).ok()) {
          Shape ts = t.shape();
          if (ts.size() + 1 == in.dims.size()) ts.insert(ts.begin(), 1);
          bool fits = ts.size() == in.dims.size();
          for (size_t k = 0; fits && k < ts.size(); ++k)
            fits = !in.dims[k].is_static() || in.dims[k].value == ts[k];
          if (fits) shape = ts;
        }
      }
    }
    specs.push_back({in.name, in.dtype == DType::kUndefined ? DType::kF32 : in.dtype, *shape});
  }
  if (specs.empty()) return invalid_argument("the model has no inputs");
  if (dir.empty()) {
    *out = calib::CalibrationDataset::random(specs, data_num ? data_num : 10, 0);
  } else {
    if (!fs::is_directory(dir)) return not_found("calibration data '" + dir + "' is not a folder");
    std::vector<std::string> dirs;
    for (const auto& s : specs) {
      const std::string sub = dir + "/" + s.name;
      if (fs::is_directory(sub)) dirs.push_back(sub);
      else if (specs.size() == 1) dirs.push_back(dir);
      else
        return not_found("calibration data '" + dir + "': no folder '" + s.name +
                         "' for model input '" + s.name + "' (one subfolder per input)");
    }
    KW_RETURN_IF_ERROR(calib::CalibrationDataset::open(specs, dirs, cal_data_type, out));
  }
  const size_t n = data_num ? std::min(data_num, out->size()) : out->size();
  samples->clear();
  for (size_t i = 0; i < n; ++i) samples->push_back(i);
  return Status::Ok();
}

Status make_executor(const ir::Model& m, int threads, std::unique_ptr<runtime::GraphExecutor>* out) {
  SessionOptions so;
  so.optimize = false;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(m, so, out));
  (*out)->set_num_threads(std::max(1, threads));
  return Status::Ok();
}

Status Evaluator::create(const ir::Model& float_model, const calib::CalibrationDataset* data,
                         std::vector<size_t> samples, std::vector<std::string> outputs, int threads,
                         std::unique_ptr<Evaluator>* out, size_t cache_bytes) {
  std::unique_ptr<Evaluator> e(new Evaluator());
  e->data_ = data;
  e->samples_ = std::move(samples);
  e->threads_ = std::max(1, threads);
  if (outputs.empty())
    for (const auto& o : float_model.graph.outputs) outputs.push_back(o.name);
  e->outputs_ = std::move(outputs);
  if (e->samples_.empty()) return invalid_argument("no data samples to evaluate on");
  KW_RETURN_IF_ERROR(make_executor(float_model, e->threads_, &e->float_exec_));
  // Cache the float outputs when they fit.
  std::vector<Tensor> first;
  KW_RETURN_IF_ERROR(e->float_outputs(0, &first));
  size_t bytes = 0;
  for (const auto& t : first) bytes += t.nbytes();
  if (bytes * e->samples_.size() <= cache_bytes) {
    e->cache_.resize(e->samples_.size());
    e->cache_[0] = std::move(first);
    for (size_t k = 1; k < e->samples_.size(); ++k) KW_RETURN_IF_ERROR(e->float_outputs(k, &e->cache_[k]));
    e->cached_ = true;
  }
  *out = std::move(e);
  return Status::Ok();
}

Status Evaluator::float_outputs(size_t k, std::vector<Tensor>* out) {
  if (cached_) {
    *out = cache_[k];
    return Status::Ok();
  }
  NamedTensors feeds;
  KW_RETURN_IF_ERROR(data_->sample(samples_[k], &feeds));
  std::vector<Tensor> r;
  KW_RETURN_IF_ERROR(float_exec_->run(feeds, outputs_, &r).with_context("float model"));
  for (auto& t : r) t = t.owns_memory() ? t : t.clone();
  *out = std::move(r);
  return Status::Ok();
}

Status Evaluator::evaluate(const ir::Model& m, std::vector<ErrorStats>* out) {
  std::unique_ptr<runtime::GraphExecutor> ex;
  KW_RETURN_IF_ERROR(make_executor(m, threads_, &ex));
  ErrorStats empty;
  empty.binarize = binarize_;
  out->assign(outputs_.size(), empty);
  for (size_t k = 0; k < samples_.size(); ++k) {
    std::vector<Tensor> ref, got;
    KW_RETURN_IF_ERROR(float_outputs(k, &ref));
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(data_->sample(samples_[k], &feeds));
    KW_RETURN_IF_ERROR(ex->run(feeds, outputs_, &got));
    for (size_t i = 0; i < outputs_.size(); ++i) (*out)[i].add(ref[i], got[i]);
  }
  return Status::Ok();
}

Status Evaluator::for_each_sample(
    const std::vector<const ir::Model*>& models, const std::vector<std::string>& names,
    const std::function<Status(size_t, const std::vector<Tensor>&, const std::vector<std::vector<Tensor>>&)>& f) {
  std::vector<std::unique_ptr<runtime::GraphExecutor>> ex(models.size());
  for (size_t i = 0; i < models.size(); ++i) KW_RETURN_IF_ERROR(make_executor(*models[i], threads_, &ex[i]));
  for (size_t k = 0; k < samples_.size(); ++k) {
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(data_->sample(samples_[k], &feeds));
    std::vector<Tensor> ref;
    KW_RETURN_IF_ERROR(float_exec_->run(feeds, names, &ref).with_context("float model"));
    std::vector<std::vector<Tensor>> got(models.size());
    for (size_t i = 0; i < models.size(); ++i) KW_RETURN_IF_ERROR(ex[i]->run(feeds, names, &got[i]));
    KW_RETURN_IF_ERROR(f(k, ref, got));
  }
  return Status::Ok();
}

Status Evaluator::evaluate_tensors(const std::vector<const ir::Model*>& models, const std::vector<std::string>& names,
                                   std::vector<std::map<std::string, ErrorStats>>* out) {
  out->assign(models.size(), {});
  return for_each_sample(models, names, [&](size_t, const std::vector<Tensor>& ref,
                                            const std::vector<std::vector<Tensor>>& got) {
    for (size_t i = 0; i < got.size(); ++i)
      for (size_t j = 0; j < names.size(); ++j)
        if (ref[j].dtype() == DType::kF32) {
          ErrorStats& e = (*out)[i][names[j]];
          e.binarize = binarize_;
          e.add(ref[j], got[i][j]);
        }
    return Status::Ok();
  });
}

double Evaluator::mean(const std::vector<ErrorStats>& s, Metric m) {
  if (s.empty()) return 0;
  double v = 0;
  for (const auto& e : s) v += e.value(m);
  return v / s.size();
}

}  // namespace kaiwu::debug

namespace kaiwu::debug {

namespace {

// The prefix P of a working_dir (from P_ptq_model.onnx), or "".
std::string working_dir_prefix(const std::string& wd) {
  std::error_code ec;
  const std::string tag = "_ptq_model.onnx";
  for (const auto& e : fs::directory_iterator(wd, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() > tag.size() && f.compare(f.size() - tag.size(), tag.size(), tag) == 0)
      return f.substr(0, f.size() - tag.size());
  }
  return "";
}

}  // namespace

Status open_debug_session(const SessionSpec& spec, std::unique_ptr<DebugSession>* out) {
  auto s = std::make_unique<DebugSession>();
  s->model_path = spec.model;
  s->float_path = spec.float_model;
  if (!spec.working_dir.empty()) {
    if (!fs::is_directory(spec.working_dir)) return not_found("working_dir '" + spec.working_dir + "' is not a folder");
    const std::string p = working_dir_prefix(spec.working_dir);
    if (p.empty()) return not_found("working_dir '" + spec.working_dir + "' has no *_ptq_model.onnx (run kaiwu compile)");
    const std::string base = spec.working_dir + "/" + p;
    if (s->model_path.empty()) s->model_path = base + (spec.calibrated ? "_calibrated_model.onnx" : "_ptq_model.onnx");
    if (s->float_path.empty() && fs::exists(base + "_optimized_float_model.onnx"))
      s->float_path = base + "_optimized_float_model.onnx";
  }
  if (s->model_path.empty()) return invalid_argument("give the QDQ model (-m) or a working_dir (-w)");
  if (!fs::exists(s->model_path)) return not_found("model '" + s->model_path + "' does not exist");
  ir::Model qdq, flt;
  KW_RETURN_IF_ERROR(frontend::load_onnx(s->model_path, &qdq));
  if (!s->float_path.empty()) {
    if (!fs::exists(s->float_path)) return not_found("float model '" + s->float_path + "' does not exist");
    KW_RETURN_IF_ERROR(frontend::load_onnx(s->float_path, &flt));
  }
  KW_RETURN_IF_ERROR(analyze_qdq(qdq, s->float_path.empty() ? nullptr : &flt, &s->analysis).with_context(s->model_path));
  std::vector<size_t> samples;
  KW_RETURN_IF_ERROR(open_data(qdq, spec.data_dir, spec.cal_data_type, spec.data_num, &s->data, &samples));
  ir::Model ref;
  KW_RETURN_IF_ERROR(build_partial(s->analysis, mask_none(s->analysis), &ref));
  for (const auto& o : spec.outputs) {
    bool found = false;
    for (const auto& n : ref.graph.nodes)
      for (const auto& v : n.outputs) found = found || v == o;
    if (!found) return not_found("output '" + o + "': no such tensor in the float model");
  }
  KW_RETURN_IF_ERROR(Evaluator::create(ref, &s->data, samples, spec.outputs, spec.threads, &s->ev));
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace kaiwu::debug
