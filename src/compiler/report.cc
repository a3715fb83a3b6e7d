#include "compiler/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace kaiwu::compiler {

void Log::info(const std::string& line) {
  text_ += line + "\n";
  if (echo_) std::cout << line << std::endl;
}

void Log::warn(const std::string& line) {
  text_ += "WARNING: " + line + "\n";
  std::cerr << "WARNING: " << line << std::endl;
}

namespace {

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t c = 0; c < header.size(); ++c) w[c] = header[c].size();
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) {
      s += cells[c] + std::string(w[c] - cells[c].size(), ' ');
      if (c + 1 < cells.size()) s += " | ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(header);
  size_t total = 0;
  for (size_t c = 0; c < w.size(); ++c) total += w[c] + (c + 1 < w.size() ? 3 : 0);
  out += std::string(total, '-') + "\n";
  for (const auto& r : rows) out += line(r);
  return out;
}

}  // namespace

std::string node_table(const std::vector<NodeRow>& rows) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows)
    cells.push_back({r.node, r.type, r.on, r.threshold, r.calibrated_cosine, r.quantized_cosine, r.dtype});
  return table({"Node", "NodeType", "ON", "Threshold", "Calibrated Cosine", "Quantized Cosine", "Output Data Type"}, cells);
}

std::string output_table(const std::vector<OutputRow>& rows) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) cells.push_back({r.tensor, r.calibrated_cosine, r.quantized_cosine});
  return table({"TensorName", "Calibrated Cosine", "Quantized Cosine"}, cells);
}

std::string check_table(const std::vector<NodeRow>& rows) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) cells.push_back({r.node, r.type, r.on, r.dtype, r.why});
  return table({"Node", "NodeType", "ON", "Output Data Type", "Reason"}, cells);
}

std::string node_csv(const std::vector<NodeRow>& rows) {
  auto esc = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out = "Node,NodeType,ON,Threshold,Calibrated Cosine,Quantized Cosine,Output Data Type\n";
  for (const auto& r : rows)
    out += esc(r.node) + "," + esc(r.type) + "," + r.on + "," + r.threshold + "," + r.calibrated_cosine + "," +
           r.quantized_cosine + "," + r.dtype + "\n";
  return out;
}

std::string quant_info_json(const std::vector<NodeRow>& rows, const std::vector<OutputRow>& outputs,
                            const std::string& method, size_t cosine_samples, const std::string& quantized_model) {
  nlohmann::ordered_json j;
  j["format"] = "kaiwu-quant-info";
  j["version"] = 1;
  j["calibration_method"] = method;
  j["cosine"] = {{"samples", cosine_samples}, {"aggregation", "cosine of the values concatenated over the samples"},
                 {"calibrated_model", "activations quantized only (weights float)"},
                 {"quantized_model", quantized_model}};
  for (const auto& r : rows)
    j["nodes"].push_back({{"node", r.node}, {"type", r.type}, {"on", r.on}, {"threshold", r.threshold},
                          {"calibrated_cosine", r.calibrated_cosine}, {"quantized_cosine", r.quantized_cosine},
                          {"output_data_type", r.dtype}});
  for (const auto& o : outputs)
    j["outputs"].push_back({{"tensor", o.tensor}, {"calibrated_cosine", o.calibrated_cosine},
                            {"quantized_cosine", o.quantized_cosine}});
  return j.dump(2) + "\n";
}

}  // namespace kaiwu::compiler
