// bind_model_inputs: the config's per-input parameters against the float model's actual inputs.
#include "config/compile_config.h"
#include "config/parse_context.h"
#include "config/value_syntax.h"

namespace kaiwu::config {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) o += (i ? "x" : "") + (s[i] > 0 ? std::to_string(s[i]) : std::string("?"));
  return o.empty() ? "scalar" : o;
}

}  // namespace

Status bind_model_inputs(const std::vector<ModelInput>& model_inputs, CompileConfig* c) {
  detail::ParseContext ctx;
  ctx.origin = c->origin.empty() ? "<config>" : c->origin;
  const std::string key = "input_parameters.input_name";
  std::vector<std::string> model_names;
  for (const auto& mi : model_inputs) model_names.push_back(mi.name);
  std::string listed;
  for (size_t i = 0; i < model_names.size(); ++i) listed += (i ? ", " : "") + model_names[i];
  if (model_inputs.empty()) return ctx.fail(key, "the model has no inputs");
  if (c->inputs.size() == 1 && c->inputs[0].name.empty()) {
    if (model_inputs.size() != 1)
      return ctx.fail(key, "the model has " + std::to_string(model_inputs.size()) + " inputs (" + listed +
                               "): name them all in input_name, separated by ';'");
    c->inputs[0].name = model_inputs[0].name;
  }
  for (auto& in : c->inputs) {
    const ModelInput* mi = nullptr;
    for (const auto& m : model_inputs)
      if (m.name == in.name) mi = &m;
    if (!mi)
      return ctx.fail(key, "'" + in.name + "' is not an input of the model (inputs: " + listed + ")" +
                               detail::suggest(in.name, model_names));
    std::string who = "input '" + in.name + "': ";
    bool dynamic = false;
    for (int64_t d : mi->shape) dynamic |= d <= 0;
    if (in.shape.empty()) {
      if (dynamic)
        return ctx.fail("input_parameters.input_shape", who + "the model's shape " + shape_str(mi->shape) +
                                                            " has dynamic dims: input_shape is required");
      in.shape = mi->shape;
    } else {
      if (in.shape.size() != mi->shape.size())
        return ctx.fail("input_parameters.input_shape", who + "input_shape " + shape_str(in.shape) + " has " +
                                                            std::to_string(in.shape.size()) + " dims, the model's " +
                                                            shape_str(mi->shape) + " has " + std::to_string(mi->shape.size()));
      for (size_t k = 0; k < in.shape.size(); ++k)
        if (mi->shape[k] > 0 && mi->shape[k] != in.shape[k])
          return ctx.fail("input_parameters.input_shape", who + "input_shape " + shape_str(in.shape) +
                                                              " does not match the model's " + shape_str(mi->shape) +
                                                              " at dim " + std::to_string(k));
    }
    KW_RETURN_IF_ERROR(detail::check_input_shape(ctx, *c, in, who));
  }
  for (const auto& m : model_inputs) {
    bool found = false;
    for (const auto& in : c->inputs) found |= in.name == m.name;
    if (!found)
      return ctx.fail(key, "model input '" + m.name + "' is not listed in input_name (every model input needs its parameters)");
  }
  return Status::Ok();
}

}  // namespace kaiwu::config
