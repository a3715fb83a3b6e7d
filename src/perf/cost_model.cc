#include "perf/cost_model.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "ops/graph_shapes.h"

namespace kaiwu::perf {

TargetSpec builtin_target(const std::string& name) {
  TargetSpec t;
  t.name = name;
  t.efficiency = {{"conv_int8", 0.62}, {"conv_fp32", 0.80}, {"dwconv_int8", 0.12}, {"dwconv_fp32", 0.25},
                  {"deconv_fp32", 0.45}, {"gemm_int8", 0.35}, {"gemm_fp32", 0.55}, {"conv_int16", 0.05}};
  if (name == "x86-avx512vnni") return t;
  if (name == "x86-avx2") {  // no VNNI: int8 through 16-bit products, half the vector width
    t.int8_gmacs_per_core = 64.0;
    t.fp32_gmacs_per_core = 32.0;
    return t;
  }
  t.name = "generic";  // scalar-ish fallbacks
  t.int8_gmacs_per_core = 4.0;
  t.fp32_gmacs_per_core = 4.0;
  return t;
}

namespace {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

bool is_int(DType t) { return t == DType::kI8 || t == DType::kU8; }

struct NodeShapes {
  std::vector<const ops::TensorDesc*> in, out;
};

// MACs and kernel family of one node.
void classify(const ir::Node& n, const NodeShapes& s, int64_t* macs, std::string* kernel) {
  *macs = 0;
  auto in = [&](size_t i) -> const ops::TensorDesc* { return i < s.in.size() ? s.in[i] : nullptr; };
  const ops::TensorDesc* out = s.out.empty() ? nullptr : s.out[0];
  const std::string& op = n.op_type;
  const bool conv = op == "Conv" || op == "QLinearConv" || op == "ConvInteger";
  if (conv || op == "ConvTranspose") {
    const size_t wi = op == "QLinearConv" ? 3 : 1;
    const ops::TensorDesc *w = in(wi), *x = in(0);
    if (w && out && x && w->shape.size() >= 3) {
      int64_t k = 1;
      for (size_t i = 2; i < w->shape.size(); ++i) k *= w->shape[i];
      const int64_t group = n.attr_int("group", 1);
      if (conv) *macs = numel(out->shape) * w->shape[1] * k;
      else *macs = numel(x->shape) * w->shape[1] * k;
      const bool depthwise = conv && group > 1 && w->shape[1] == 1;
      const std::string t = is_int(x->dtype) ? "int8" : (x->dtype == DType::kI16 ? "int16" : "fp32");
      *kernel = std::string(op == "ConvTranspose" ? "deconv_" : (depthwise ? "dwconv_" : "conv_")) + t;
    }
    return;
  }
  if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul" || op == "MatMulInteger") {
    const ops::TensorDesc* a = in(0);
    if (a && out && !a->shape.empty()) {
      const int64_t k = op == "Gemm" && n.attr_int("transA", 0) ? a->shape[0] : a->shape.back();
      *macs = numel(out->shape) * k;
      *kernel = std::string("gemm_") + (is_int(a->dtype) ? "int8" : "fp32");
    }
    return;
  }
  static const std::set<std::string> movement = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat",
                                                 "Slice", "Split", "Gather", "Expand", "Tile", "Pad", "Identity",
                                                 "DepthToSpace", "SpaceToDepth", "Resize", "Shape", "Cast"};
  if (movement.count(op)) *kernel = "data_movement";
  else if (op.find("Pool") != std::string::npos) *kernel = "pool";
  else if (op.rfind("Reduce", 0) == 0 || op == "Softmax" || op == "LayerNormalization") *kernel = "reduce";
  else *kernel = "eltwise";
}

}  // namespace

Status estimate(const ir::Model& m, const std::map<std::string, Shape>& inputs, const TargetSpec& target, int threads,
                Report* out) {
  if (threads < 1) threads = 1;
  ops::GraphShapes gs = ops::infer_graph_shapes(m, inputs);
  if (!gs.complete) return failed_precondition("performance estimate: the shapes of the model could not be inferred");
  Report r;
  r.model = m.graph.name;
  r.target = target.name;
  r.threads = threads;
  const ir::Graph& g = m.graph;
  for (const auto& [name, t] : g.initializers) r.model_bytes += static_cast<int64_t>(t.nbytes());
  auto bytes_of = [&](const ops::TensorDesc* d) {
    return d ? numel(d->shape) * static_cast<int64_t>(dtype_size(d->dtype)) : 0;
  };
  // Liveness for the peak activation memory: a value lives from its producer to its last reader.
  std::map<std::string, size_t> last_use;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& v : g.nodes[i].inputs)
      if (!v.empty()) last_use[v] = i;
  for (const auto& o : g.outputs) last_use[o.name] = g.nodes.size();
  std::map<std::string, int64_t> live;
  int64_t live_bytes = 0;
  for (const auto& v : g.inputs) {
    auto it = gs.desc.find(v.name);
    if (it != gs.desc.end()) live[v.name] = bytes_of(&it->second), live_bytes += live[v.name];
  }
  const double speedup = 1.0 + (threads - 1) * target.thread_scaling;
  double total_1t = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    NodeShapes s;
    LayerCost c;
    c.name = n.name;
    c.op_type = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
    bool constant = true;
    for (const auto& v : n.inputs) {
      auto it = gs.desc.find(v);
      s.in.push_back(v.empty() || it == gs.desc.end() ? nullptr : &it->second);
      if (v.empty()) continue;
      const bool is_const = gs.constants.count(v) != 0;
      if (!is_const) constant = false;
      if (g.is_initializer(v)) c.weight_bytes += bytes_of(s.in.back());
      else if (!is_const) c.read_bytes += bytes_of(s.in.back());
    }
    for (const auto& v : n.outputs) {
      auto it = gs.desc.find(v);
      s.out.push_back(v.empty() || it == gs.desc.end() ? nullptr : &it->second);
      c.write_bytes += bytes_of(s.out.back());
    }
    if (constant && !n.inputs.empty()) continue;  // folded at plan time, never runs
    classify(n, s, &c.macs, &c.kernel);
    if (!s.out.empty() && s.out[0]) {
      c.shape = shape_str(s.out[0]->shape);
      c.dtype = dtype_name(s.out[0]->dtype);
    }
    // Reshape-like ops are views or plain copies; Shape reads nothing.
    if (n.op_type == "Shape") c.read_bytes = c.write_bytes = 0;
    c.read_bytes += c.weight_bytes;
    double eff = 1.0;
    auto e = target.efficiency.find(c.kernel);
    if (e != target.efficiency.end()) eff = e->second;
    const double peak = c.kernel.find("int8") != std::string::npos ? target.int8_gmacs_per_core
                                                                   : target.fp32_gmacs_per_core;
    const double compute_1t = c.macs > 0 ? c.macs / (peak * 1e9 * eff) * 1e3 : 0.0;
    const int64_t moved = c.read_bytes + c.write_bytes;
    const double bw = moved <= target.cache_bytes ? target.cache_gbytes_per_s : target.dram_gbytes_per_s;
    c.memory_ms = moved / (bw * 1e9) * 1e3;
    c.compute_ms = compute_1t / speedup;
    const double overhead = target.node_overhead_us * 1e-3;
    c.est_ms = std::max(c.compute_ms, c.memory_ms) + overhead;
    total_1t += std::max(compute_1t, c.memory_ms) + overhead;
    r.total_macs += c.macs;
    r.weight_bytes += c.weight_bytes;
    r.read_bytes += c.read_bytes;
    r.write_bytes += c.write_bytes;
    r.latency_ms += c.est_ms;
    // Memory: outputs become live, inputs read for the last time are freed.
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty()) live[n.outputs[k]] = bytes_of(s.out[k]), live_bytes += live[n.outputs[k]];
    r.peak_activation_bytes = std::max(r.peak_activation_bytes, live_bytes);
    for (const auto& v : n.inputs) {
      auto lu = last_use.find(v);
      auto lv = live.find(v);
      if (lv != live.end() && lu != last_use.end() && lu->second == i) live_bytes -= lv->second, live.erase(lv);
    }
    r.layers.push_back(std::move(c));
  }
  r.latency_1t_ms = total_1t;
  r.fps = r.latency_ms > 0 ? 1000.0 / r.latency_ms : 0;
  r.fps_parallel = total_1t > 0 ? threads * 1000.0 / total_1t : 0;
  *out = std::move(r);
  return Status::Ok();
}

namespace {

std::string jstr(const std::string& v) {
  std::string o = "\"";
  for (char ch : v) {
    if (ch == '"' || ch == '\\') o += '\\', o += ch;
    else if (static_cast<unsigned char>(ch) < 0x20) o += ' ';
    else o += ch;
  }
  return o + "\"";
}

std::string num(double v, int prec = 4) {
  std::ostringstream os;
  os.precision(prec);
  os << std::fixed << v;
  return os.str();
}

std::string html_escape(const std::string& v) {
  std::string o;
  for (char ch : v) {
    if (ch == '<') o += "&lt;";
    else if (ch == '>') o += "&gt;";
    else if (ch == '&') o += "&amp;";
    else if (ch == '"') o += "&quot;";
    else o += ch;
  }
  return o;
}

std::map<std::string, double> time_by_op(const Report& r) {
  std::map<std::string, double> m;
  for (const auto& l : r.layers) m[l.op_type] += l.est_ms;
  return m;
}

}  // namespace

std::string to_json(const Report& r) {
  std::ostringstream o;
  o << "{\n  \"summary\": {\"model\": " << jstr(r.model) << ", \"target\": " << jstr(r.target)
    << ", \"threads\": " << r.threads << ", \"latency_ms\": " << num(r.latency_ms)
    << ", \"latency_1thread_ms\": " << num(r.latency_1t_ms) << ", \"fps\": " << num(r.fps, 2)
    << ", \"fps_parallel_frames\": " << num(r.fps_parallel, 2) << ", \"macs\": " << r.total_macs
    << ", \"ddr_bytes_read_per_frame\": " << r.read_bytes << ", \"ddr_bytes_written_per_frame\": " << r.write_bytes
    << ", \"peak_activation_bytes\": " << r.peak_activation_bytes << ", \"model_bytes\": " << r.model_bytes
    << ", \"layers\": " << r.layers.size() << "},\n  \"by_op_type\": {";
  bool first = true;
  for (const auto& [op, ms] : time_by_op(r)) {
    o << (first ? "" : ", ") << jstr(op) << ": " << num(ms);
    first = false;
  }
  o << "},\n  \"layers\": [\n";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerCost& l = r.layers[i];
    o << "    {\"name\": " << jstr(l.name) << ", \"op_type\": " << jstr(l.op_type) << ", \"kernel\": " << jstr(l.kernel)
      << ", \"output_shape\": " << jstr(l.shape) << ", \"output_dtype\": " << jstr(l.dtype) << ", \"macs\": " << l.macs
      << ", \"weight_bytes\": " << l.weight_bytes << ", \"read_bytes\": " << l.read_bytes
      << ", \"write_bytes\": " << l.write_bytes << ", \"compute_ms\": " << num(l.compute_ms, 5)
      << ", \"memory_ms\": " << num(l.memory_ms, 5) << ", \"est_ms\": " << num(l.est_ms, 5) << "}"
      << (i + 1 < r.layers.size() ? "," : "") << "\n";
  }
  o << "  ]\n}\n";
  return o.str();
}

std::string to_html(const Report& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Kaiwu performance estimate: "
    << html_escape(r.model) << "</title><style>body{font-family:sans-serif;margin:20px}"
       "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
       "th{background:#eee;cursor:pointer}td.l{text-align:left}</style></head><body>\n";
  o << "<h1>Performance estimate</h1><table id=\"summary\">";
  auto row = [&](const std::string& k, const std::string& v) {
    o << "<tr><td class=\"l\">" << html_escape(k) << "</td><td>" << html_escape(v) << "</td></tr>";
  };
  row("model", r.model);
  row("target", r.target);
  row("threads", std::to_string(r.threads));
  row("latency (ms, one frame)", num(r.latency_ms, 3));
  row("latency on 1 thread (ms)", num(r.latency_1t_ms, 3));
  row("FPS (one frame at a time)", num(r.fps, 1));
  row("FPS (" + std::to_string(r.threads) + " frames in parallel)", num(r.fps_parallel, 1));
  row("GMACs", num(r.total_macs / 1e9, 4));
  row("DDR MB read / written per frame", num(r.read_bytes / 1e6, 2) + " / " + num(r.write_bytes / 1e6, 2));
  row("peak activation MB", num(r.peak_activation_bytes / 1e6, 2));
  row("model MB", num(r.model_bytes / 1e6, 2));
  o << "</table>\n";
  // Top layers bar chart.
  std::vector<size_t> idx(r.layers.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return r.layers[a].est_ms > r.layers[b].est_ms; });
  const size_t top = std::min<size_t>(15, idx.size());
  const double max_ms = top ? std::max(r.layers[idx[0]].est_ms, 1e-9) : 1.0;
  o << "<h2>Slowest layers</h2><svg id=\"top_layers\" width=\"900\" height=\"" << (top * 22 + 10)
    << "\" xmlns=\"http://www.w3.org/2000/svg\">";
  for (size_t k = 0; k < top; ++k) {
    const LayerCost& l = r.layers[idx[k]];
    const double w = 500.0 * l.est_ms / max_ms;
    o << "<text x=\"0\" y=\"" << (k * 22 + 16) << "\" font-size=\"12\">" << html_escape(l.name.substr(0, 40))
      << "</text><rect x=\"300\" y=\"" << (k * 22 + 4) << "\" width=\"" << num(w, 1)
      << "\" height=\"16\" fill=\"#4a7ebb\"/><text x=\"" << num(305 + w, 1) << "\" y=\"" << (k * 22 + 16)
      << "\" font-size=\"12\">" << num(l.est_ms, 3) << " ms</text>";
  }
  o << "</svg>\n<h2>Time by op type</h2><table id=\"by_op\"><tr><th>op type</th><th>ms</th><th>share</th></tr>";
  const std::map<std::string, double> by_op = time_by_op(r);
  std::vector<std::pair<std::string, double>> ops(by_op.begin(), by_op.end());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [op, ms] : ops)
    o << "<tr><td class=\"l\">" << html_escape(op) << "</td><td>" << num(ms, 3) << "</td><td>"
      << num(r.latency_ms > 0 ? 100.0 * ms / r.latency_ms : 0, 1) << "%</td></tr>";
  o << "</table>\n<h2>Layers</h2><p>Click a column header to sort.</p><table id=\"layers\"><thead><tr>";
  for (const char* h : {"#", "name", "op type", "kernel", "output shape", "dtype", "MACs", "weight bytes",
                        "read bytes", "write bytes", "compute ms", "memory ms", "est ms"})
    o << "<th>" << h << "</th>";
  o << "</tr></thead><tbody>";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerCost& l = r.layers[i];
    o << "<tr><td>" << i << "</td><td class=\"l\">" << html_escape(l.name) << "</td><td class=\"l\">"
      << html_escape(l.op_type) << "</td><td class=\"l\">" << html_escape(l.kernel) << "</td><td class=\"l\">"
      << html_escape(l.shape) << "</td><td class=\"l\">" << html_escape(l.dtype) << "</td><td>" << l.macs << "</td><td>"
      << l.weight_bytes << "</td><td>" << l.read_bytes << "</td><td>" << l.write_bytes << "</td><td>"
      << num(l.compute_ms, 4) << "</td><td>" << num(l.memory_ms, 4) << "</td><td>" << num(l.est_ms, 4) << "</td></tr>";
  }
  o << "</tbody></table>\n<script>\n"
       "document.querySelectorAll('#layers th').forEach(function(th, col) {\n"
       "  th.addEventListener('click', function() {\n"
       "    var body = document.querySelector('#layers tbody');\n"
       "    var rows = Array.prototype.slice.call(body.rows);\n"
       "    var asc = th.getAttribute('data-asc') !== '1';\n"
       "    th.setAttribute('data-asc', asc ? '1' : '0');\n"
       "    rows.sort(function(a, b) {\n"
       "      var x = a.cells[col].textContent, y = b.cells[col].textContent;\n"
       "      var nx = parseFloat(x), ny = parseFloat(y);\n"
       "      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);\n"
       "      return asc ? c : -c;\n"
       "    });\n"
       "    rows.forEach(function(r) { body.appendChild(r); });\n"
       "  });\n"
       "});\n</script></body></html>\n";
  return o.str();
}

}  // namespace kaiwu::perf
