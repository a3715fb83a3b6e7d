// Conversion report of `kaiwu compile`: the log, the node and output tables (console, log, csv, json).
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kaiwu::compiler {

// Log lines go to stdout (when echo) and are kept for working_dir/kaiwu_compile.log.
class Log {
 public:
  explicit Log(bool echo) : echo_(echo) {}
  void info(const std::string& line);
  void warn(const std::string& line);
  const std::string& text() const { return text_; }

 private:
  bool echo_;
  std::string text_;
};

struct NodeRow {
  std::string node, type, on, threshold, calibrated_cosine, quantized_cosine, dtype;
  std::string why;  // the quantizer's reason (check mode table)
};
struct OutputRow {
  std::string tensor, calibrated_cosine, quantized_cosine;
};

// Fixed-width tables in the J6 hb_compile shape.
std::string node_table(const std::vector<NodeRow>& rows);
std::string output_table(const std::vector<OutputRow>& rows);
// The check-mode table (no calibration data): Node | NodeType | ON | Output Data Type | Reason.
std::string check_table(const std::vector<NodeRow>& rows);
std::string node_csv(const std::vector<NodeRow>& rows);
// `cosine_samples`: the evaluation samples the cosines cover (cosine of the concatenated values);
// `quantized_model`: the file of the "Quantized Cosine" column.
std::string quant_info_json(const std::vector<NodeRow>& rows, const std::vector<OutputRow>& outputs,
                            const std::string& method, size_t cosine_samples = 0,
                            const std::string& quantized_model = "");

}  // namespace kaiwu::compiler
