// Small self-contained SVG charts for the debugger's report (no scripts, no external resources).
#pragma once
#include <string>
#include <vector>

namespace kaiwu::debug::svg {

struct Series {
  std::string label;
  std::vector<double> y;
};
struct Marker {
  std::string label;
  double x = 0;
};

// Escapes & < > " for XML text and attributes.
std::string escape(const std::string& s);
// Line chart: one polyline per series over x = 0..n-1; `xlabels` (may be empty) annotate a few ticks.
std::string line_chart(const std::string& title, const std::vector<std::string>& xlabels,
                       const std::vector<Series>& series, const std::string& ylabel, int width = 900,
                       int height = 320);
// Histogram (bars as steps) of several series over [lo, hi] with vertical markers; log-scale counts optional.
std::string histogram(const std::string& title, double lo, double hi, const std::vector<Series>& series,
                      const std::vector<Marker>& markers, bool log_counts, int width = 440, int height = 260);
// Per-channel ranges: one vertical bar from min to max per channel, with optional horizontal markers.
std::string channel_ranges(const std::string& title, const std::vector<float>& cmin, const std::vector<float>& cmax,
                           const std::vector<Marker>& hlines, int width = 900, int height = 260);

}  // namespace kaiwu::debug::svg
