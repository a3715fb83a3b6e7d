// `kaiwu exec`: the measuring runner, after Horizon's hrt_model_exec: model_info / infer / perf on any artifact
// (float, QDQ and fixed-point ONNX, deployable .kwm). hrt_model_exec flag spellings (--model_file, --input_file,
// --frame_count, --thread_num, --profile_path, --perf_time) are accepted, with dash spellings as aliases.
// Choices where hrt_model_exec's behaviour is unconfirmed or does not apply:
//  - one model per file (--model_name is accepted and ignored); an input's layout and source come from the
//    "kaiwu.input.<name>" compile metadata (deploy/runtime_input.h, as `kaiwu info`), "ddr" without it;
//  - model_info prints hrt's header lines, an hb_model_info-style NAME | TYPE | SHAPE | DATA_TYPE | LAYOUT | SOURCE |
//    BYTE_SIZE table (free dims by name, byte size at batch 1) and, for a .kwm, its DeployInfo and description;
//  - infer writes outputs only with --output_dir; images are binary/ASCII PPM/PGM only (no image library);
//  - infer --roi "l,t,r,b[;...]" fills the resizer ROI inputs (<name>_roi int32 [N,4], docs/resizer.md), which then
//    take no --input_file; .npy inputs carry their shape, so free dims (a resizer's frame size) need no --input_shape;
//  - perf: --frame_count counts frames over all threads (a shared counter), the progress line every 200 frames gives
//    the cumulative average/max/min and FPS = frames / wall time so far; --thread_num N = N sessions of
//    --intra_threads K threads each; p50 is the median (mean of the middle two), p90/p99 nearest-rank (the timed
//    region, warm-up, allocator state and statistics are bench/kaiwu_bench's: perf/latency_stats.h); the final
//    FPS is frames / program run time (throughput); random inputs: N(0,1) float32 (as bench/kaiwu_bench), uniform
//    uint8/int8, zeros otherwise, seed --seed; --profile_path DIR writes DIR/profiler.json (or a .json path).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/npy.h"
#include "deploy/deployable.h"
#include "deploy/runtime_input.h"
#include "frontend/onnx/onnx_import.h"
#include "exec_inputs.h"
#include "exec_perf.h"
#include "kaiwu/session.h"

namespace kaiwu::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct ExecArgs {
  std::string model;
  std::vector<std::string> input_files;
  std::vector<std::string> input_shapes;
  std::string output_dir;
  int top_k = 5;
  bool cls_post = false;
  std::vector<float> mean, scale;
  int threads = 1;
  int print_max = 10;
  std::string model_name;  // accepted, unused (one model per file)
  int core_id = 0;         // accepted, unused (the OS schedules the threads)
  std::string roi;         // --roi "l,t,r,b;...": values of the resizer inputs <name>_roi, in input order
  bool roi_infer = false;  // accepted (hrt_model_exec's --roi_infer); --roi alone enables it
  exec::PerfOptions perf;
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string dims_text(const IoInfo& io) {
  std::string s = "(";
  for (size_t d = 0; d < io.shape.size(); ++d) {
    if (io.shape[d] >= 0) s += std::to_string(io.shape[d]);
    else s += d < io.dim_names.size() && !io.dim_names[d].empty() ? io.dim_names[d] : "?";
    s += ",";
  }
  return s + ")";
}

std::string table_row(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string r;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string c = cells[i];
    if (i + 1 < cells.size()) c.resize(std::max(c.size(), widths[i]), ' ');
    r += (i ? " | " : "") + c;
  }
  return r + "\n";
}

int fail(const std::string& sub, const Status& st) {
  std::cerr << "kaiwu exec " << sub << ": " << st.to_string() << "\n"
            << "Run `kaiwu exec " << sub << " --help` for usage.\n";
  return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 2 : 1;
}

// Prints the compile description stored in a .kwm: "key: value" lines for a JSON object (the yaml without its
// comments), else the text as it is.
void print_description(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::printf("description: %s\n", text.c_str());
    return;
  }
  std::printf("description:\n");
  for (const auto& [k, v] : j.items()) {
    if (k == "yaml" && v.is_string()) {
      std::printf("  yaml:\n");
      std::istringstream in(v.get<std::string>());
      std::string line;
      while (std::getline(in, line)) {
        size_t first = line.find_first_not_of(' ');
        if (first == std::string::npos || line[first] == '#') continue;
        std::printf("    %s\n", line.c_str());
      }
      continue;
    }
    std::string val = v.is_string() ? v.get<std::string>() : v.dump();
    std::printf("  %s: %s\n", k.c_str(), val.c_str());
  }
}

int model_info(const ExecArgs& a) {
  std::string kind, detail;
  Status st = exec::model_kind(a.model, &kind, &detail);
  if (!st.ok()) return fail("model_info", st);
  SessionOptions opt;
  opt.num_threads = 1;
  std::unique_ptr<Session> s;
  auto t0 = Clock::now();
  st = Session::open(a.model, opt, &s);
  double load_ms = ms_since(t0);
  if (!st.ok()) return fail("model_info", st);
  std::string name = std::filesystem::path(a.model).stem().string();
  std::printf("Load model to DDR cost %.3f ms.\n", load_ms);
  std::printf("This model file has 1 model:\n[%s]\n", name.c_str());
  std::printf("model kind: %s\n%s\n", kind.c_str(), detail.c_str());
  ir::Model m;  // its metadata gives the runtime inputs' layout and source (as `kaiwu info`)
  if (deploy::is_deployable_file(a.model)) {
    deploy::DeployInfo info;
    st = deploy::read_deployable(a.model, &m, &info);
    if (!st.ok()) return fail("model_info", st);
    std::printf("############# deployable model info #############\n");
    std::printf("tool_version: %s\ntarget: %s\n", info.tool_version.c_str(),
                info.target.empty() ? "(any)" : info.target.c_str());
    print_description(info.description);
  } else {
    st = frontend::load_onnx(a.model, &m);
    if (!st.ok()) return fail("model_info", st);
  }
  std::printf("############# Model input/output info #############\n");
  std::vector<std::vector<std::string>> rows = {{"NAME", "TYPE", "SHAPE", "DATA_TYPE", "LAYOUT", "SOURCE", "BYTE_SIZE"}};
  auto add = [&](const IoInfo& io, bool input) {
    int64_t n = 1;
    for (size_t d = 0; d < io.shape.size(); ++d) n *= io.shape[d] >= 0 ? io.shape[d] : (d == 0 ? 1 : -1);
    std::string bytes = n < 0 ? "dynamic" : std::to_string(n * static_cast<int64_t>(dtype_size(io.dtype)));
    if (n >= 0 && !io.shape.empty() && io.shape[0] < 0) bytes += " (batch 1)";
    // Inputs: layout and source from the compile metadata (frames from the pyramid/resizer are NHWC), the one
    // reader `kaiwu info` uses; the session's layout and "ddr" for inputs without metadata.
    const deploy::RuntimeInputDesc rt = deploy::runtime_input_desc(m.metadata, io.name);
    const std::string layout = input ? rt.layout_or(io.layout) : io.layout;
    rows.push_back({io.name, input ? "input" : "output", dims_text(io), exec::numpy_name(io.dtype),
                    layout.empty() ? "-" : layout, input ? rt.source_text() : "-", bytes});
  };
  for (const auto& io : s->inputs()) add(io, true);
  for (const auto& io : s->outputs()) add(io, false);
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  for (const auto& r : rows) std::printf("%s", table_row(r, w).c_str());
  return 0;
}

// Prints the top-k (index, value) of a classifier-like output ([1, K] or [1, K, 1, 1]; any output when forced).
void print_top_k(const Tensor& t, int k, bool force) {
  const Shape& s = t.shape();
  bool classifier = (s.size() == 2 && s[0] == 1 && s[1] > 1) ||
                    (s.size() == 4 && s[0] == 1 && s[1] > 1 && s[2] == 1 && s[3] == 1);
  if ((!classifier && !(force && t.numel() > 1)) || k <= 0) return;
  std::vector<int64_t> idx(t.numel());
  std::iota(idx.begin(), idx.end(), 0);
  int64_t n = std::min<int64_t>(k, t.numel());
  std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), [&](int64_t x, int64_t y) {
    double vx = t.get_f64(x), vy = t.get_f64(y);
    return vx > vy || (vx == vy && x < y);
  });
  std::printf("  top-%lld:\n", static_cast<long long>(n));
  for (int64_t i = 0; i < n; ++i) std::printf("    index %lld value %.6g\n", static_cast<long long>(idx[i]), t.get_f64(idx[i]));
}

// A resizer ROI input: int32 <name>_roi [N,4] (left, top, right, bottom), see src/ops/kw_roi_resize.cc.
bool is_roi_input(const IoInfo& io) {
  const std::string suffix = "_roi";
  return io.dtype == DType::kI32 && io.shape.size() == 2 && io.shape[1] == 4 && io.name.size() > suffix.size() &&
         io.name.compare(io.name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// --roi "l,t,r,b;l,t,r,b" (hrt_model_exec): one group of 4 integers per ROI input of the model, in input order.
Status parse_rois(const std::string& text, const std::vector<IoInfo>& infos, std::vector<std::pair<size_t, Tensor>>* out) {
  std::vector<size_t> targets;
  for (size_t i = 0; i < infos.size(); ++i)
    if (is_roi_input(infos[i])) targets.push_back(i);
  if (targets.empty()) return invalid_argument("--roi given but the model has no resizer ROI input (<name>_roi int32 [N,4])");
  std::vector<std::string> groups;
  std::stringstream ss(text);
  for (std::string g; std::getline(ss, g, ';');)
    if (!g.empty()) groups.push_back(g);
  if (groups.size() != targets.size())
    return invalid_argument("--roi '" + text + "' has " + std::to_string(groups.size()) + " ROI(s), the model has " +
                            std::to_string(targets.size()) + " ROI input(s) (';' between them)");
  for (size_t k = 0; k < groups.size(); ++k) {
    std::vector<int32_t> v;
    std::stringstream gs(groups[k]);
    for (std::string tok; std::getline(gs, tok, ',');) {
      size_t b = tok.find_first_not_of(" \t"), e = tok.find_last_not_of(" \t");
      tok = b == std::string::npos ? "" : tok.substr(b, e - b + 1);
      char* end = nullptr;
      long long x = std::strtoll(tok.c_str(), &end, 10);
      if (tok.empty() || *end != '\0' || x < INT32_MIN || x > INT32_MAX)
        return invalid_argument("--roi '" + groups[k] + "': '" + tok + "' is not an integer (want left,top,right,bottom)");
      v.push_back(static_cast<int32_t>(x));
    }
    if (v.size() != 4)
      return invalid_argument("--roi '" + groups[k] + "' needs 4 values left,top,right,bottom, got " + std::to_string(v.size()));
    const IoInfo& io = infos[targets[k]];
    const int64_t n = io.shape[0] > 0 ? io.shape[0] : 1;
    Tensor t = Tensor::empty(DType::kI32, {n, 4});
    for (int64_t r = 0; r < n; ++r) std::copy(v.begin(), v.end(), t.data<int32_t>() + 4 * r);  // same ROI per frame
    out->emplace_back(targets[k], std::move(t));
  }
  return Status::Ok();
}

int infer(const ExecArgs& a) {
  SessionOptions opt;
  opt.num_threads = a.threads;
  std::unique_ptr<Session> s;
  auto t0 = Clock::now();
  Status st = Session::open(a.model, opt, &s);
  if (!st.ok()) return fail("infer", st);
  std::printf("Load model cost %.3f ms.\n", ms_since(t0));
  const auto& infos = s->inputs();
  std::vector<std::pair<size_t, Tensor>> rois;  // resizer ROI inputs filled from --roi (no --input_file for them)
  if (!a.roi.empty()) {
    st = parse_rois(a.roi, infos, &rois);
    if (!st.ok()) return fail("infer", st);
  }
  if (a.input_files.size() + rois.size() != infos.size())
    return fail("infer", invalid_argument("the model has " + std::to_string(infos.size()) + " input(s), " +
                                          std::to_string(a.input_files.size()) + " --input_file given" +
                                          (rois.empty() ? std::string() : " besides the --roi inputs")));
  exec::ShapeOverrides shapes;
  st = exec::parse_input_shapes(a.input_shapes, &shapes);
  if (!st.ok()) return fail("infer", st);
  exec::ImageNorm norm{a.mean, a.scale};
  NamedTensors feeds;
  size_t file = 0;
  for (size_t i = 0; i < infos.size(); ++i) {
    auto roi = std::find_if(rois.begin(), rois.end(), [&](const auto& r) { return r.first == i; });
    if (roi != rois.end()) {
      const int32_t* v = roi->second.data<int32_t>();
      std::printf("input[%zu] %s: int32%s from --roi %d,%d,%d,%d\n", i, infos[i].name.c_str(),
                  shape_to_string(roi->second.shape()).c_str(), v[0], v[1], v[2], v[3]);
      feeds.emplace_back(infos[i].name, roi->second);
      continue;
    }
    const std::string& path = a.input_files[file++];
    Shape shape;
    st = exec::resolve_input_shape(infos, i, shapes, &shape);
    // A .npy file carries its shape: free dimensions (e.g. a resizer's frame size) need no --input_shape.
    if (!st.ok() && exec::file_extension(path) != ".npy") return fail("infer", st);
    Tensor t;
    st = exec::load_input(path, infos[i], shape, norm, &t);
    if (!st.ok()) return fail("infer", st);
    std::printf("input[%zu] %s: %s%s from %s\n", i, infos[i].name.c_str(), exec::numpy_name(t.dtype()).c_str(),
                shape_to_string(t.shape()).c_str(), path.c_str());
    feeds.emplace_back(infos[i].name, std::move(t));
  }
  std::vector<Tensor> outs;
  t0 = Clock::now();
  st = s->run(feeds, {}, &outs);
  double run_ms = ms_since(t0);
  if (!st.ok()) return fail("infer", st);
  std::printf("Infer cost %.3f ms.\n", run_ms);
  if (!a.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.output_dir, ec);
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string& name = s->outputs()[i].name;
    const Tensor& t = outs[i];
    std::printf("output[%zu] %s: %s%s = [", i, name.c_str(), exec::numpy_name(t.dtype()).c_str(), shape_to_string(t.shape()).c_str());
    int64_t n = std::min<int64_t>(t.numel(), a.print_max);
    for (int64_t j = 0; j < n; ++j) std::printf("%s%.6g", j ? ", " : "", t.get_f64(j));
    std::printf("%s]\n", t.numel() > n ? ", ..." : "");
    if (!a.output_dir.empty()) {
      std::string safe = name;
      std::replace(safe.begin(), safe.end(), '/', '_');
      std::string path = a.output_dir + "/" + safe + ".npy";
      st = write_npy(path, t);
      if (!st.ok()) return fail("infer", st);
      std::printf("  written to %s\n", path.c_str());
    }
    print_top_k(t, a.top_k, a.cls_post);
  }
  return 0;
}

void add_model_option(CLI::App* c, ExecArgs* a) {
  c->add_option("--model_file,--model-file,-m", a->model, "Model file: .onnx (float, QDQ, fixed-point) or .kwm")
      ->required()
      ->check(CLI::ExistingFile);
}

void add_input_options(CLI::App* c, ExecArgs* a, bool perf) {
  c->add_option("--core_id", a->core_id, "Accepted for hrt_model_exec compatibility and ignored");
  c->add_option("--input_file,--input-file,-i", a->input_files,
                perf ? "Input files in input order, comma-separated (default: seeded random data)"
                     : "Input files in input order, comma-separated: .npy, .bin/.raw (raw bytes of the input's dtype "
                       "and shape) or a .ppm/.pgm image")
      ->delimiter(',');
  c->add_option("--input_shape,--input-shape", a->input_shapes,
                "Shape of inputs with free dimensions: [NAME:]1x3x224x224, ';'-separated (a free batch dim is 1)");
}

}  // namespace

void add_exec_command(CLI::App& app) {
  auto a = std::make_shared<ExecArgs>();
  CLI::App* ex = app.add_subcommand(
      "exec", "Measuring runner (like hrt_model_exec): model_info, infer, perf on .onnx and .kwm models");
  ex->require_subcommand(1);

  CLI::App* mi = ex->add_subcommand("model_info", "Inputs/outputs (name, shape, dtype, layout, source) and model kind");
  add_model_option(mi, a.get());
  mi->add_option("--model_name", a->model_name, "Accepted for hrt_model_exec compatibility (one model per file)");
  mi->callback([a] { set_exit_code(model_info(*a)); });

  CLI::App* in = ex->add_subcommand("infer", "Run one frame on input files; write outputs as .npy, print top-k");
  add_model_option(in, a.get());
  add_input_options(in, a.get(), false);
  in->get_option("--input_file")->required();
  in->add_option("--output_dir,--output-dir,-o", a->output_dir, "Write each output as <dir>/<name>.npy");
  in->add_option("--top_k,--top-k", a->top_k, "Top-k printed for classifier outputs ([1,K] or [1,K,1,1])")
      ->capture_default_str();
  in->add_flag("--enable_cls_post_process", a->cls_post, "Print top-k for every output (flattened)");
  in->add_option("--mean_value", a->mean, "Image inputs (float32): subtract per channel (comma list)")->delimiter(',');
  in->add_option("--scale_value", a->scale, "Image inputs (float32): then multiply per channel (comma list)")
      ->delimiter(',');
  in->add_option("--thread_num,--thread-num,-t", a->threads, "Threads of the session (0: all cores)")->capture_default_str();
  in->add_option("--print_max", a->print_max, "Values printed per output")->capture_default_str();
  in->add_option("--roi", a->roi,
                 "Resizer models: ROI \"left,top,right,bottom\" (inclusive pixels) for each <name>_roi input, ';' "
                 "between inputs; those inputs then take no --input_file");
  in->add_flag("--roi_infer,--roi-infer", a->roi_infer, "Accepted for hrt_model_exec compatibility (use --roi)");
  in->callback([a] { set_exit_code(infer(*a)); });

  CLI::App* pf = ex->add_subcommand("perf", "Latency/throughput over many frames, per-layer profile");
  add_model_option(pf, a.get());
  add_input_options(pf, a.get(), true);
  pf->add_option("--frame_count,--frame-count,-n", a->perf.frame_count, "Timed frames in total over all threads")
      ->capture_default_str();
  pf->add_option("--thread_num,--thread-num,-t", a->perf.thread_num,
                 "Independent sessions run in parallel, one thread each (throughput)")
      ->capture_default_str();
  pf->add_option("--intra_threads,--intra-threads", a->perf.intra_threads,
                 "Threads per session: one frame across K threads (latency)")
      ->capture_default_str();
  pf->add_option("--warmup,--warm_up", a->perf.warmup, "Untimed frames per session first")->capture_default_str();
  auto ptm = std::make_shared<double>(0);
  pf->add_option("--perf_time", *ptm, "Run for this many minutes instead of --frame_count (hrt_model_exec)");
  auto pts = std::make_shared<double>(0);
  pf->add_option("--perf_time_in_seconds", *pts, "Run for this many seconds instead of --frame_count");
  pf->add_option("--seed", a->perf.seed, "Seed of the random inputs")->capture_default_str();
  pf->add_option("--profile_path,--profile-path", a->perf.profile_path,
                 "Write the per-layer profile as JSON: DIR/profiler.json, or the given .json file");
  pf->add_flag("--both_modes,--both-modes", a->perf.both_modes,
               "With T = thread_num x intra_threads > 1: measure T sessions x 1 thread AND 1 session x T threads");
  pf->add_option("--progress_every", a->perf.progress_every, "Progress line every N frames (0: none)")
      ->capture_default_str();
  pf->callback([a, ptm, pts] {
    exec::PerfOptions o = a->perf;
    o.model = a->model;
    o.input_files = a->input_files;
    o.input_shapes = a->input_shapes;
    o.perf_time_s = *pts > 0 ? *pts : *ptm * 60;
    set_exit_code(exec::run_perf(o));
  });

  // Parse errors inside `exec` print the message and the usage of the (sub)command at fault; other commands keep
  // the default short message.
  app.failure_message([ex, mi, in, pf](const CLI::App* root, const CLI::Error& e) -> std::string {
    if (!ex->parsed()) return CLI::FailureMessage::simple(root, e);  // CLI11's default for the other commands
    const CLI::App* at = ex;
    for (const CLI::App* s : {mi, in, pf})
      if (s->parsed()) at = s;
    return std::string("kaiwu exec: ") + e.what() + "\n\n" + at->help(at == ex ? "kaiwu" : "kaiwu exec");
  });
}

}  // namespace kaiwu::cli
