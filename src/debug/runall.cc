// runall: weight and activation sensitivity, accumulated error (all / weight-only / activation-only), the top-N
// nodes' distributions and channel ranges, as files under save_dir and one self-contained HTML report.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/file_util.h"
#include "debug/debugger.h"
#include "debug/svg.h"

namespace kaiwu::debug {

namespace fs = std::filesystem;

std::string accumulated_svg(const AccumulatedError& r) {
  std::vector<svg::Series> s;
  for (size_t i = 0; i < r.labels.size(); ++i) s.push_back({r.labels[i], r.values[i]});
  return svg::line_chart("accumulated error along the graph (" + std::string(metric_name(r.metric)) + ")", r.layers,
                         s, metric_name(r.metric));
}

namespace {

std::string html_table(const std::vector<SensitivityRow>& rows, const std::vector<Metric>& metrics, size_t limit) {
  std::ostringstream os;
  os << "<table><tr><th>#</th><th>node</th><th>type</th>";
  for (Metric m : metrics) os << "<th>" << metric_name(m) << "</th>";
  os << "</tr>\n";
  char b[32];
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    os << "<tr><td>" << i + 1 << "</td><td>" << svg::escape(rows[i].name) << "</td><td>"
       << svg::escape(rows[i].op_type) << "</td>";
    for (double v : rows[i].values) {
      std::snprintf(b, sizeof b, "%.6g", v);
      os << "<td>" << b << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table>\n";
  if (rows.size() > limit) os << "<p>(" << rows.size() - limit << " more rows in the .log files)</p>\n";
  return os.str();
}

Status mkdirs(const std::string& d) {
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) return io_error("cannot create '" + d + "': " + ec.message());
  return Status::Ok();
}

std::string safe_file(const std::string& s) {
  std::string o;
  for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return o;
}

}  // namespace

Status runall(const QdqAnalysis& a, Evaluator& ev, const std::string& save_dir, const RunallOptions& opt,
              std::string* html_path, const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  for (const char* sub : {"node_sensitivity", "accumulate_error", "data_distribution", "channelwise_distribution"})
    KW_RETURN_IF_ERROR(mkdirs(save_dir + "/" + sub));
  std::ostringstream html;
  html << "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Kaiwu precision debug report</title><style>"
          "body{font-family:sans-serif;margin:20px;max-width:1100px}table{border-collapse:collapse;font-size:12px}"
          "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}svg{margin:4px}"
          "</style></head><body>\n<h1>Kaiwu precision debug report</h1>\n";
  html << "<p>" << a.edges.size() << " quantized edges: " << a.nodes.size() << " nodes, " << a.weights.size()
       << " weights, " << a.activations.size() << " activations; " << ev.num_samples()
       << " samples; compared outputs:";
  for (const auto& o : ev.outputs()) html << " " << svg::escape(o);
  html << ". Sensitivity: " << (opt.all_but_one ? "all but one item quantized" : "one item quantized at a time")
       << ", model outputs vs the float model.</p>\n";
  for (const auto& w : a.warnings) html << "<p>warning: " << svg::escape(w) << "</p>\n";

  // Sensitivity of weights, activations and nodes.
  std::vector<SensitivityRow> node_rows;
  for (const std::string kind : {"weight", "activation", "node"}) {
    say("sensitivity of " + kind + "s (" + std::to_string(a.items(kind).size()) + ")");
    SensitivityOptions so;
    so.metrics = opt.metrics;
    so.node_type = kind;
    so.all_but_one = opt.all_but_one;
    std::vector<SensitivityRow> rows;
    KW_RETURN_IF_ERROR(node_sensitivity(a, ev, so, &rows));
    const std::string table = sensitivity_table(rows, opt.metrics, kind);
    KW_RETURN_IF_ERROR(write_file_atomic(save_dir + "/node_sensitivity/sensitivity_of_" + kind + ".log", table));
    html << "<h2>Sensitivity of " << kind << "s</h2>\n" << html_table(rows, opt.metrics, 30);
    if (kind == "node") node_rows = rows;
  }

  // Accumulated error.
  say("accumulated error");
  AccumulatedError acc;
  KW_RETURN_IF_ERROR(accumulate_error(a, ev, standard_sets(a), Metric::kCosine, false, &acc));
  const std::string acc_svg = accumulated_svg(acc);
  KW_RETURN_IF_ERROR(write_file_atomic(save_dir + "/accumulate_error/accumulate_error.txt", accumulated_table(acc)));
  KW_RETURN_IF_ERROR(write_file_atomic(save_dir + "/accumulate_error/accumulate_error.svg", acc_svg));
  html << "<h2>Accumulated error</h2>\n<p>Cosine of each layer's output, float vs: all quantized, weights only, "
          "activations only (layers in topological order).</p>\n" << acc_svg;

  // Distributions of the top-N nodes.
  std::vector<std::string> top;
  for (const auto& r : node_rows)
    if (static_cast<int>(top.size()) < opt.top) top.push_back(r.name);
  say("distributions of " + std::to_string(top.size()) + " nodes");
  std::vector<NodeDistribution> dists;
  KW_RETURN_IF_ERROR(distributions(a, ev, top, opt.bins, &dists));
  html << "<h2>Distributions of the " << top.size() << " most sensitive nodes</h2>\n";
  std::string chan_html;
  for (const auto& d : dists) {
    const std::string f = safe_file(d.node);
    const std::string ds = distribution_svg(d), cs = channel_range_svg(d);
    KW_RETURN_IF_ERROR(write_file_atomic(save_dir + "/data_distribution/" + f + ".html",
                                         "<html><body>" + ds + "</body></html>\n"));
    if (!cs.empty())
      KW_RETURN_IF_ERROR(write_file_atomic(save_dir + "/channelwise_distribution/" + f + ".html",
                                           "<html><body>" + cs + "</body></html>\n"));
    html << "<h3>" << svg::escape(d.node) << "</h3><p>" << svg::escape(distribution_text(d)) << "</p>\n" << ds;
    chan_html += "<h3>" + svg::escape(d.node) + "</h3>\n" + cs;
  }
  html << "<h2>Channel ranges</h2>\n" << chan_html << "</body></html>\n";
  *html_path = save_dir + "/report.html";
  return write_file_atomic(*html_path, html.str());
}

}  // namespace kaiwu::debug
