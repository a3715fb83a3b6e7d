// Source, layout and frame type of a model's runtime inputs, read back from the "kaiwu.input.<name>" metadata that
// `kaiwu compile` writes (compiler::describe_runtime_inputs: "source=pyramid;layout=NHWC;type=nv12_y"). The one
// reader that `kaiwu info` and `kaiwu exec model_info` share, so both print the same LAYOUT and SOURCE.
#pragma once
#include <map>
#include <string>

namespace kaiwu::deploy {

struct RuntimeInputDesc {
  std::string source, layout, type;  // empty when the model has no metadata for the input

  // LAYOUT cell: the compile-time layout, else `fallback` (e.g. the session's guess from the shape).
  std::string layout_or(const std::string& fallback) const { return layout.empty() ? fallback : layout; }
  // SOURCE cell: "pyramid (nv12_y)", "resizer (roi)", "ddr (featuremap)"; "ddr" without metadata.
  std::string source_text() const {
    if (source.empty()) return "ddr";
    return type.empty() ? source : source + " (" + type + ")";
  }
};

// The description of input `name` from a model's metadata (all fields empty when there is none).
RuntimeInputDesc runtime_input_desc(const std::map<std::string, std::string>& metadata, const std::string& name);

}  // namespace kaiwu::deploy
