#include "config/value_syntax.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kaiwu::config::detail {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string strip_quotes(const std::string& s) {
  std::string t = trim(s);
  if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) return t.substr(1, t.size() - 2);
  return t;
}

std::vector<std::optional<std::string>> split_input_list(const std::string& text) {
  std::string t = strip_quotes(text);
  if (!t.empty() && t.back() == ';') t.pop_back();
  std::vector<std::optional<std::string>> out;
  size_t start = 0;
  while (true) {
    size_t p = t.find(';', start);
    std::string item = strip_quotes(t.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (item.empty() || item == "None") out.push_back(std::nullopt);
    else out.push_back(item);
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text, const std::string& sep_chars) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : strip_quotes(text)) {
    if (std::isspace(static_cast<unsigned char>(c)) || sep_chars.find(c) != std::string::npos) {
      if (!cur.empty()) out.push_back(strip_quotes(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(strip_quotes(cur));
  return out;
}

bool parse_numbers(const std::string& text, std::vector<double>* out, std::string* bad) {
  out->clear();
  for (const std::string& w : split_words(text, ",")) {
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(w.c_str(), &end);
    if (end == w.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) {
      if (bad) *bad = w;
      return false;
    }
    out->push_back(v);
  }
  return true;
}

bool parse_int64(const std::string& text, int64_t* out) {
  std::string t = strip_quotes(text);
  if (t.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *out = v;
  return true;
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 1 << 30;
  for (const std::string& c : candidates) {
    int d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // Reasonably close: at most a third of the longer word (and at least 2 edits allowed for short words).
  int limit = std::max<int>(2, static_cast<int>(std::max(word.size(), best.size())) / 3);
  return best_d <= limit ? best : std::string();
}

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string c = closest(word, candidates);
  return c.empty() ? std::string() : "; did you mean '" + c + "'?";
}

static std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      case '\r': o += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

static std::string json_scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json_string(s);  // quoted in the yaml: always a string
  bool b;
  if (YAML::convert<bool>::decode(n, b)) return b ? "true" : "false";
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return "null";
  int64_t i;
  if (parse_int64(s, &i)) return std::to_string(i);
  std::vector<double> v;
  if (s.find_first_of(", \t") == std::string::npos && parse_numbers(s, &v, nullptr) && v.size() == 1)
    return format_number(v[0]);
  return json_string(s);
}

std::string yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      std::string o = "{";
      bool first = true;
      for (const auto& kv : node) {
        if (!first) o += ",";
        first = false;
        o += json_string(kv.first.Scalar()) + ":" + yaml_to_json(kv.second);
      }
      return o + "}";
    }
    case YAML::NodeType::Sequence: {
      std::string o = "[";
      for (size_t i = 0; i < node.size(); ++i) o += (i ? "," : "") + yaml_to_json(node[i]);
      return o + "]";
    }
    case YAML::NodeType::Scalar: return json_scalar(node);
    default: return "null";
  }
}

std::string format_number(double v) {
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string yaml_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "''";
    else o += c;
  }
  return o + "'";
}

}  // namespace kaiwu::config::detail
