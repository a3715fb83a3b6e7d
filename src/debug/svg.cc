#include "debug/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace kaiwu::debug::svg {

namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
std::string short_num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

struct Frame {
  Frame(int width, int height) : w(width), h(height) {}
  int w, h, left = 60, right = 20, top = 28, bottom = 40;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (w - left - right); }
  double py(double y) const { return h - bottom - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * (h - top - bottom); }
};

std::string open(const Frame& f, const std::string& title) {
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f.w << "\" height=\"" << f.h << "\" viewBox=\"0 0 "
     << f.w << " " << f.h << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
     << "<text x=\"" << f.w / 2 << "\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">" << escape(title)
     << "</text>\n";
  // Axes and y ticks.
  os << "<line x1=\"" << f.left << "\" y1=\"" << f.h - f.bottom << "\" x2=\"" << f.w - f.right << "\" y2=\""
     << f.h - f.bottom << "\" stroke=\"black\"/>\n";
  os << "<line x1=\"" << f.left << "\" y1=\"" << f.top << "\" x2=\"" << f.left << "\" y2=\"" << f.h - f.bottom
     << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double v = f.y0 + (f.y1 - f.y0) * i / 4.0;
    os << "<text x=\"" << f.left - 4 << "\" y=\"" << num(f.py(v) + 4) << "\" text-anchor=\"end\">" << short_num(v)
       << "</text>\n<line x1=\"" << f.left << "\" y1=\"" << num(f.py(v)) << "\" x2=\"" << f.w - f.right << "\" y2=\""
       << num(f.py(v)) << "\" stroke=\"#ddd\"/>\n";
  }
  return os.str();
}

std::string legend(const Frame& f, const std::vector<Series>& series) {
  std::ostringstream os;
  int x = f.left + 8;
  for (size_t i = 0; i < series.size(); ++i) {
    os << "<rect x=\"" << x << "\" y=\"" << f.top + 2 << "\" width=\"10\" height=\"10\" fill=\"" << kColors[i % 8]
       << "\"/><text x=\"" << x + 14 << "\" y=\"" << f.top + 11 << "\">" << escape(series[i].label) << "</text>\n";
    x += 24 + 7 * static_cast<int>(series[i].label.size());
  }
  return os.str();
}

}  // namespace

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string line_chart(const std::string& title, const std::vector<std::string>& xlabels,
                       const std::vector<Series>& series, const std::string& ylabel, int width, int height) {
  size_t n = 0;
  double lo = 1e300, hi = -1e300;
  for (const auto& s : series) {
    n = std::max(n, s.y.size());
    for (double v : s.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5 * std::max(1e-6, std::fabs(lo)), hi += 0.5 * std::max(1e-6, std::fabs(hi));
  Frame f(width, height);
  f.x0 = 0, f.x1 = n > 1 ? n - 1.0 : 1.0, f.y0 = lo, f.y1 = hi;
  std::ostringstream os;
  os << open(f, title);
  os << "<text x=\"12\" y=\"" << height / 2 << "\" transform=\"rotate(-90 12 " << height / 2
     << ")\" text-anchor=\"middle\">" << escape(ylabel) << "</text>\n";
  const size_t step = std::max<size_t>(1, n / 8);
  for (size_t i = 0; i < xlabels.size() && i < n; i += step)
    os << "<text x=\"" << num(f.px(i)) << "\" y=\"" << height - f.bottom + 14 << "\" text-anchor=\"middle\">"
       << escape(xlabels[i].size() > 18 ? xlabels[i].substr(0, 18) : xlabels[i]) << "</text>\n";
  for (size_t si = 0; si < series.size(); ++si) {
    os << "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" << kColors[si % 8] << "\" points=\"";
    for (size_t i = 0; i < series[si].y.size(); ++i)
      if (std::isfinite(series[si].y[i])) os << num(f.px(i)) << "," << num(f.py(series[si].y[i])) << " ";
    os << "\"><title>" << escape(series[si].label) << "</title></polyline>\n";
  }
  os << legend(f, series) << "</svg>\n";
  return os.str();
}

std::string histogram(const std::string& title, double lo, double hi, const std::vector<Series>& series,
                      const std::vector<Marker>& markers, bool log_counts, int width, int height) {
  double top = 0;
  auto tr = [&](double c) { return log_counts ? std::log10(1.0 + c) : c; };
  for (const auto& s : series)
    for (double c : s.y) top = std::max(top, tr(c));
  if (hi <= lo) hi = lo + 1;
  Frame f(width, height);
  f.x0 = lo, f.x1 = hi, f.y0 = 0, f.y1 = top > 0 ? top : 1;
  std::ostringstream os;
  os << open(f, title);
  for (int i = 0; i <= 4; ++i) {
    const double x = lo + (hi - lo) * i / 4.0;
    os << "<text x=\"" << num(f.px(x)) << "\" y=\"" << height - f.bottom + 14 << "\" text-anchor=\"middle\">"
       << short_num(x) << "</text>\n";
  }
  if (log_counts)
    os << "<text x=\"" << width - f.right << "\" y=\"" << height - 6 << "\" text-anchor=\"end\">log10(1+count)</text>\n";
  for (size_t si = 0; si < series.size(); ++si) {
    const auto& y = series[si].y;
    if (y.empty()) continue;
    const double bw = (hi - lo) / y.size();
    os << "<polyline fill=\"none\" stroke-width=\"1.2\" stroke=\"" << kColors[si % 8] << "\" points=\"";
    os << num(f.px(lo)) << "," << num(f.py(0)) << " ";
    for (size_t i = 0; i < y.size(); ++i)
      os << num(f.px(lo + i * bw)) << "," << num(f.py(tr(y[i]))) << " " << num(f.px(lo + (i + 1) * bw)) << ","
         << num(f.py(tr(y[i]))) << " ";
    os << num(f.px(hi)) << "," << num(f.py(0)) << "\"/>\n";
  }
  for (size_t mi = 0; mi < markers.size(); ++mi) {
    const double x = markers[mi].x;
    if (!(x >= lo && x <= hi)) continue;
    os << "<line x1=\"" << num(f.px(x)) << "\" y1=\"" << f.top << "\" x2=\"" << num(f.px(x)) << "\" y2=\""
       << height - f.bottom << "\" stroke=\"#444\" stroke-dasharray=\"4,3\"/><text x=\"" << num(f.px(x) + 2)
       << "\" y=\"" << f.top + 24 + 12 * (mi % 3) << "\" fill=\"#444\">" << escape(markers[mi].label) << "</text>\n";
  }
  os << legend(f, series) << "</svg>\n";
  return os.str();
}

std::string channel_ranges(const std::string& title, const std::vector<float>& cmin, const std::vector<float>& cmax,
                           const std::vector<Marker>& hlines, int width, int height) {
  const size_t n = std::min(cmin.size(), cmax.size());
  double lo = 0, hi = 0;
  for (size_t i = 0; i < n; ++i) lo = std::min<double>(lo, cmin[i]), hi = std::max<double>(hi, cmax[i]);
  for (const auto& m : hlines) lo = std::min(lo, m.x), hi = std::max(hi, m.x);
  if (hi <= lo) hi = lo + 1;
  Frame f(width, height);
  f.x0 = 0, f.x1 = n > 0 ? static_cast<double>(n) : 1.0, f.y0 = lo, f.y1 = hi;
  std::ostringstream os;
  os << open(f, title);
  const double bw = std::max(1.0, (width - f.left - f.right) / std::max<double>(1.0, n) * 0.7);
  for (size_t i = 0; i < n; ++i) {
    const double x = f.px(i + 0.5) - bw / 2, y = f.py(cmax[i]), h = std::max(1.0, f.py(cmin[i]) - f.py(cmax[i]));
    os << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(bw) << "\" height=\"" << num(h)
       << "\" fill=\"#1f77b4\" fill-opacity=\"0.7\"><title>channel " << i << ": [" << short_num(cmin[i]) << ", "
       << short_num(cmax[i]) << "]</title></rect>\n";
  }
  for (const auto& m : hlines)
    os << "<line x1=\"" << f.left << "\" y1=\"" << num(f.py(m.x)) << "\" x2=\"" << width - f.right << "\" y2=\""
       << num(f.py(m.x)) << "\" stroke=\"#d62728\" stroke-dasharray=\"4,3\"/><text x=\"" << width - f.right
       << "\" y=\"" << num(f.py(m.x) - 3) << "\" text-anchor=\"end\" fill=\"#d62728\">" << escape(m.label)
       << "</text>\n";
  os << "<text x=\"" << width / 2 << "\" y=\"" << height - 8 << "\" text-anchor=\"middle\">channel (" << n
     << ")</text>\n</svg>\n";
  return os.str();
}

}  // namespace kaiwu::debug::svg
