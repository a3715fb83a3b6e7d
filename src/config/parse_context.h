// Internal: the state shared by the yaml reader (config_parser.cc) and the checks (config_validate.cc).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/compile_config.h"

namespace kaiwu::config::detail {

struct ParseContext {
  std::string origin;                               // file name for messages
  std::string base_dir;                             // absolute; relative paths resolve here
  std::vector<std::string>* warnings = nullptr;
  std::map<std::string, YAML::Mark> marks;          // "group" and "group.key" -> where it was written
  std::map<std::string, YAML::Node> values;         // "group.key" -> its value node

  // "origin:line:col" of `where` ("group.key" or "group"); just origin when unknown.
  std::string at(const std::string& where) const;
  std::string at_mark(const YAML::Mark& m) const;
  bool has(const std::string& key) const { return values.count(key) != 0; }
  // invalid_argument("<at>: <key>: <msg>").
  Status fail(const std::string& key, const std::string& msg) const;
  void warn(const std::string& key, const std::string& msg) const;
};

// Semantic checks and derived values after reading (defaults, broadcasts, node_info merge, input_source).
Status validate_config(ParseContext& ctx, CompileConfig* c);
// Absolute, normalized `p` relative to `base_dir`.
std::string resolve_path(const std::string& base_dir, const std::string& p);
// Shape checks of one input (4-D image shapes, channels vs layout, nv12 even sizes, input_batch); `who` prefixes messages.
Status check_input_shape(const ParseContext& ctx, const CompileConfig& c, const InputParameters& in, const std::string& who);
// Channels an input_type_train has (3 for rgb/bgr/yuv444, 1 for gray, 0 for featuremap/unknown).
int train_channels(const std::string& type_train);

}  // namespace kaiwu::config::detail
