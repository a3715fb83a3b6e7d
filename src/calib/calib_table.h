// The calibration artifact: per-tensor ranges as JSON plus a fingerprint of the graph they were computed on.
#pragma once
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::calib {

struct CalibrationEntry {
  float min = 0.f, max = 0.f, threshold = 0.f;
  std::string method;
  // The observed min/max over the calibration data (before any clipping by the method); NaN when unknown (tables
  // written before it was recorded). int16 tensors use it (quant::TensorRange::observed_min).
  float observed_min = std::numeric_limits<float>::quiet_NaN();
  float observed_max = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> channel_min, channel_max;  // per-channel ranges (empty unless collected)
  int channel_axis = -1;
};

struct CalibrationTable {
  std::string fingerprint;       // graph_fingerprint of the float graph
  std::string calibration_type;  // free text, e.g. "kl", "max", "default"
  size_t num_samples = 0;
  std::map<std::string, CalibrationEntry> tensors;
};

// A stable hash ("fnv1a64:<16 hex digits>") of the graph structure: input names/dtypes/shapes, every node's op
// type, domain, name, inputs and outputs in order, and the output names. Weights' values are not hashed.
std::string graph_fingerprint(const ir::Graph& g);

// Writes the table as JSON, atomically. Errors: non-finite values (named by tensor), I/O errors (named by path).
Status save_calibration(const std::string& path, const CalibrationTable& table);
// Reads a table written by save_calibration. Errors name the file and the bad key / tensor.
Status load_calibration(const std::string& path, CalibrationTable* out);
// Ok when the table was computed on a graph with the same fingerprint; otherwise an error naming both.
Status check_fingerprint(const CalibrationTable& table, const ir::Graph& g, const std::string& path = "");

}  // namespace kaiwu::calib
