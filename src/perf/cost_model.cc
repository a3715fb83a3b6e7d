#include "perf/cost_model.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "ops/graph_shapes.h"

namespace kaiwu::perf {

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

int64_t round_up(int64_t v, int64_t m) { return v <= 0 ? v : (v + m - 1) / m * m; }

// MACs rescaled by the channel blocking of the kernels: oneDNN's convolutions compute output channels in blocks of
// 16 and the int8 (VNNI) ones input channels in groups of 4.
int64_t padded(int64_t macs, int64_t m, int64_t m_block, int64_t c, int64_t c_block) {
  if (macs <= 0 || m <= 0 || c <= 0) return macs;
  const double f = static_cast<double>(round_up(m, m_block)) / m * static_cast<double>(round_up(c, c_block)) / c;
  return static_cast<int64_t>(macs * f);
}

// Kernel family, MACs and padded MACs of one node.
void classify(const ir::Node& n, const NodeShapes& s, LayerCost* c) {
  c->macs = c->padded_macs = 0;
  auto in = [&](size_t i) -> const ops::TensorDesc* { return i < s.in.size() ? s.in[i] : nullptr; };
  const ops::TensorDesc* out = s.out.empty() ? nullptr : s.out[0];
  const std::string& op = n.op_type;
  const bool conv = op == "Conv" || op == "QLinearConv" || op == "ConvInteger";
  if (conv || op == "ConvTranspose" || op == "QLinearConvTranspose") {
    const size_t wi = op == "QLinearConv" || op == "QLinearConvTranspose" ? 3 : 1;
    const ops::TensorDesc *w = in(wi), *x = in(0);
    const std::string t = x && is_int(x->dtype) ? "int8" : (x && x->dtype == DType::kI16 ? "int16" : "fp32");
    c->kernel = (conv ? "conv_" : "deconv_") + t;
    if (w && out && x && w->shape.size() >= 3) {
      int64_t k = 1;
      for (size_t i = 2; i < w->shape.size(); ++i) k *= w->shape[i];
      const int64_t group = n.attr_int("group", 1);
      if (conv) {
        c->macs = numel(out->shape) * w->shape[1] * k;
        const bool depthwise = group > 1 && w->shape[1] == 1;
        if (depthwise) c->kernel = "dw" + c->kernel;
        const int64_t m = w->shape[0];
        // Output rows: NCHW [N, M, H, W] or NHWC [N, H, W, M] (the CPU passes' layout), told by where M is.
        const Shape& os = out->shape;
        if (os.size() == 4) {
          const bool nhwc = os[3] == m && os[1] != m;
          c->out_rows = os[0] * (nhwc ? os[1] : os[2]);
          c->row_blocks = c->out_rows * ((m + 15) / 16);
        }
        if (depthwise) c->padded_macs = padded(c->macs, m, 16, 1, 1);
        else c->padded_macs = padded(c->macs, m, 16, w->shape[1], t == "int8" ? 4 : 1);
      } else {
        c->macs = numel(x->shape) * w->shape[1] * k;
        c->padded_macs = padded(c->macs, w->shape[1] * group, 16, 1, 1);
      }
    }
    return;
  }
  if (op == "Gemm" || op == "MatMul" || op == "QLinearMatMul" || op == "MatMulInteger") {
    const ops::TensorDesc* a = in(0);
    c->kernel = std::string("gemm_") + (a && is_int(a->dtype) ? "int8" : "fp32");
    if (a && out && !a->shape.empty()) {
      const int64_t k = op == "Gemm" && n.attr_int("transA", 0) ? a->shape[0] : a->shape.back();
      c->macs = c->padded_macs = numel(out->shape) * k;
    }
    return;
  }
  static const std::set<std::string> views = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Shape",
                                              "Dropout", "Size"};
  static const std::set<std::string> transposes = {"Transpose", "DepthToSpace", "SpaceToDepth"};
  static const std::set<std::string> copies = {"Concat", "Slice", "Split", "Gather", "Expand", "Tile", "Pad", "Cast",
                                               "ConstantOfShape", "Range", "GatherElements", "ScatterND", "Where"};
  static const std::set<std::string> global_pools = {"GlobalAveragePool", "GlobalMaxPool", "QGlobalAveragePool",
                                                     "QLinearGlobalAveragePool"};
  static const std::set<std::string> transcendental = {"Sigmoid", "Tanh", "Exp", "Log", "Erf", "Gelu", "Softplus",
                                                       "Mish", "Pow", "Sin", "Cos", "Elu", "Selu", "Celu"};
  const bool int_out = out && (is_int(out->dtype) || out->dtype == DType::kI16);
  if (views.count(op)) c->kernel = "view";
  else if (transposes.count(op)) c->kernel = "transpose";
  else if (copies.count(op)) c->kernel = "copy";
  else if (op == "Resize" || op == "Upsample") c->kernel = int_out ? "resize_q" : "resize";
  else if (global_pools.count(op)) c->kernel = int_out ? "global_pool_q" : "global_pool";
  else if (op.find("Pool") != std::string::npos) c->kernel = n.domain.empty() && int_out ? "pool_q" : "pool";
  else if (op.rfind("Reduce", 0) == 0 || op == "Softmax" || op == "LogSoftmax" || op == "LayerNormalization" ||
           op == "InstanceNormalization" || op == "ArgMax" || op == "ArgMin")
    c->kernel = "reduce";
  else if (op == "QLut") c->kernel = in(0) && in(0)->dtype == DType::kI16 ? "lut16" : "lut";  // gathers vs byte permutes
  else if (n.domain == "kaiwu" || op == "QuantizeLinear" || op == "DequantizeLinear" || op.rfind("QLinear", 0) == 0 ||
           int_out)
    c->kernel = "eltwise_q";
  else if (transcendental.count(op)) c->kernel = "transcendental";
  else c->kernel = "eltwise";
}

double lookup(const std::map<std::string, double>& m, const std::string& k, double def) {
  auto it = m.find(k);
  return it == m.end() ? def : it->second;
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
  r.target_source = target.source;
  r.threads = threads;
  const ir::Graph& g = m.graph;
  for (const auto& [name, t] : g.initializers) r.model_bytes += static_cast<int64_t>(t.nbytes());
  const bool cold = r.model_bytes > target.cache_bytes;  // the layers evict each other's code and state
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
    classify(n, s, &c);
    if (!s.out.empty() && s.out[0]) {
      c.shape = shape_str(s.out[0]->shape);
      c.dtype = dtype_name(s.out[0]->dtype);
    }
    // Reshape-like ops are views; Shape reads nothing.
    if (c.kernel == "view") c.read_bytes = c.write_bytes = 0;
    c.read_bytes += c.weight_bytes;
    // One thread: the MAC part (scales with threads), the per-output part (requantize / store) and the memory
    // part (both memory work: they scale like memory-bound work when the layer moves more than big_bytes).
    double t1 = 0, mac_1t = 0, out_1t = 0, memory_1t = 0, overhead = target.view_overhead_us * 1e-3;
    if (c.kernel != "view") {
      overhead = target.node_overhead_us * 1e-3;
      const double gmacs = lookup(target.gmacs, c.kernel, 0);
      if (c.padded_macs > 0 && gmacs > 0) mac_1t = c.padded_macs / (gmacs * 1e6);
      const int64_t outs = s.out.empty() || !s.out[0] ? 0 : numel(s.out[0]->shape);
      out_1t = outs * lookup(target.out_ns, c.kernel, 0) * 1e-6;
      double gbytes = lookup(target.gbytes, c.kernel, 20.0);
      if (c.read_bytes + c.write_bytes > target.huge_bytes) gbytes = lookup(target.gbytes_big, c.kernel, gbytes);
      memory_1t = (c.read_bytes + c.write_bytes) / (gbytes * 1e6);
      t1 = std::max(mac_1t + out_1t, memory_1t);
    }
    // Threads: small layers gain little (fork/join and chunking dominate), memory-bound work shares the bandwidth.
    const double t1_us = t1 * 1e3, small = t1_us / (t1_us + target.parallel_us);
    const double sc = lookup(target.scaling, c.kernel, 0.0);
    const double sm = c.read_bytes + c.write_bytes > target.big_bytes ? lookup(target.scaling_big, c.kernel, sc) : sc;
    // A negative scaling (slower with threads: contention) is applied once, not per added thread.
    auto speedup = [&](double f) {
      return threads < 2 ? 1.0 : std::max(0.2, 1.0 + (f < 0 ? f : (threads - 1) * f) * small);
    };
    const double s_compute = speedup(sc), s_memory = speedup(sm);
    c.compute_ms = mac_1t / s_compute + out_1t / s_memory;
    c.memory_ms = memory_1t / s_memory;
    // The fixed cost of a call gains from threads as the layer's work does: not at all for tiny layers (an SE
    // block's 1x1-image convolutions), fully for big ones.
    double call = c.kernel == "view" ? 0.0 : lookup(target.call_us, c.kernel, 0.0) * 1e-3;
    if (cold) call += lookup(target.cold_call_us, c.kernel, 0.0) * 1e-3;
    call += c.row_blocks * lookup(target.row_ns, c.kernel, 0.0) * 1e-6;
    c.est_ms = std::max(c.compute_ms, c.memory_ms) + overhead + call / s_compute;
    if (threads > 1 && c.kernel != "view") c.est_ms += lookup(target.mt_overhead_us, c.kernel, 0.0) * 1e-3;
    total_1t += t1 + overhead + call;
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
    << ", \"target_source\": " << jstr(r.target_source) << ", \"threads\": " << r.threads << ", \"latency_ms\": " << num(r.latency_ms)
    << ", \"latency_1thread_ms\": " << num(r.latency_1t_ms) << ", \"fps\": " << num(r.fps, 2)
    << ", \"fps_1thread\": " << num(r.latency_1t_ms > 0 ? 1000.0 / r.latency_1t_ms : 0.0, 2)
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
      << ", \"output_shape\": " << jstr(l.shape) << ", \"output_dtype\": " << jstr(l.dtype) << ", \"macs\": " << l.macs << ", \"padded_macs\": " << l.padded_macs
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
  row("cost factors", r.target_source);
  row("threads", std::to_string(r.threads));
  row("latency (ms, one frame)", num(r.latency_ms, 3));
  row("latency on 1 thread (ms)", num(r.latency_1t_ms, 3));
  row("FPS (one frame at a time)", num(r.fps, 1));
  row("FPS on 1 thread", num(r.latency_1t_ms > 0 ? 1000.0 / r.latency_1t_ms : 0.0, 1));
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
      << "</text><rect class=\"bar\" x=\"300\" y=\"" << (k * 22 + 4) << "\" width=\"" << num(w, 1)
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
  // The script sorts the layer table on a header click (initially by estimated time, slowest first) and marks the
  // body data-ready="1" once done (data-js-error if anything threw), so that a headless browser test can check it.
  o << "</tbody></table>\n<script>\n"
       "window.addEventListener('error', function(e) { document.body.setAttribute('data-js-error', String(e.message)); });\n"
       "function sortLayers(col, asc) {\n"
       "  var body = document.querySelector('#layers tbody');\n"
       "  var rows = Array.prototype.slice.call(body.rows);\n"
       "  rows.sort(function(a, b) {\n"
       "    var x = a.cells[col].textContent, y = b.cells[col].textContent;\n"
       "    var nx = parseFloat(x), ny = parseFloat(y);\n"
       "    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);\n"
       "    return asc ? c : -c;\n"
       "  });\n"
       "  rows.forEach(function(r) { body.appendChild(r); });\n"
       "}\n"
       "var headers = document.querySelectorAll('#layers th');\n"
       "headers.forEach(function(th, col) {\n"
       "  th.addEventListener('click', function() {\n"
       "    var asc = th.getAttribute('data-asc') !== '1';\n"
       "    th.setAttribute('data-asc', asc ? '1' : '0');\n"
       "    sortLayers(col, asc);\n"
       "  });\n"
       "});\n"
       "sortLayers(headers.length - 1, false);\n"
       "document.body.setAttribute('data-ready', '1');\n"
       "</script></body></html>\n";
  return o.str();
}

}  // namespace kaiwu::perf
