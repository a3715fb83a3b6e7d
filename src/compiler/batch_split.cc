#include "compiler/batch_split.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "ir/graph_edit.h"
#include "ir/qdq.h"
#include "kaiwu/batch_split.h"
#include "kaiwu/version.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "quant/fixed_point.h"

namespace kaiwu {
namespace compiler {
namespace {

ir::ValueInfo* find_graph_input(ir::Graph& g, const std::string& name) {
  for (auto& v : g.inputs)
    if (v.name == name) return &v;
  return nullptr;
}

std::string input_list(const ir::Graph& g) {
  std::string s;
  for (const auto& v : g.inputs) s += (s.empty() ? "" : ", ") + v.name;
  return s;
}

bool value_name_used(const ir::Graph& g, const std::string& name) {
  if (g.find_input(name) || g.is_initializer(name)) return true;
  for (const auto& n : g.nodes) {
    if (n.name == name) return true;
    for (const auto& o : n.outputs)
      if (o == name) return true;
  }
  return false;
}

// The per-tensor constant qparams of QuantizeLinear `q`: true when usable for the split parts.
bool per_tensor_const_q(const ir::Graph& g, const ir::Node& q) {
  if (!ir::is_quantize_linear(q) || q.outputs.size() != 1) return false;
  if (!q.has_input(1) || !g.is_initializer(q.inputs[1]) || g.initializers.at(q.inputs[1]).numel() != 1) return false;
  if (q.has_input(2) && (!g.is_initializer(q.inputs[2]) || g.initializers.at(q.inputs[2]).numel() != 1)) return false;
  return true;
}

std::string resolved_name(const config::CompileConfig& cfg, const config::InputParameters& in, const ir::Graph& g) {
  if (!in.name.empty()) return in.name;
  return cfg.inputs.size() == 1 && g.inputs.size() == 1 ? g.inputs[0].name : "";
}

}  // namespace

Status set_input_batch(ir::Model* m, const std::string& input, int64_t batch) {
  ir::Graph& g = m->graph;
  ir::ValueInfo* v = find_graph_input(g, input);
  if (!v) return not_found("input_batch: the model has no input '" + input + "' (inputs: " + input_list(g) + ")");
  if (!v->has_shape || v->dims.empty())
    return invalid_argument("input_batch: input '" + input + "' has no shape; set input_shape");
  v->dims[0] = ir::Dim::fixed(batch);
  for (auto& o : g.outputs)
    if (o.has_shape && !o.dims.empty() && (!o.dims[0].is_static() || o.dims[0].value == 1))
      o.dims[0] = ir::Dim::fixed(batch);
  g.value_info.clear();
  return Status::Ok();
}

Status split_input_batch(ir::Model* m, const std::string& input, const std::vector<std::string>& names,
                         std::vector<std::string>* log) {
  ir::Graph& g = m->graph;
  auto it = std::find_if(g.inputs.begin(), g.inputs.end(), [&](const ir::ValueInfo& v) { return v.name == input; });
  if (it == g.inputs.end())
    return not_found("batch split: the model has no input '" + input + "' (inputs: " + input_list(g) + ")");
  if (!it->has_shape || it->dims.empty() || !it->dims[0].is_static())
    return invalid_argument("batch split: input '" + input + "' has no static batch dim (shape " + it->shape_string() +
                            "); set input_shape / input_batch");
  const int64_t b = it->dims[0].value;
  if (b < 2) return invalid_argument("batch split: input '" + input + "' has batch " + std::to_string(b) + ", nothing to split");
  std::vector<std::string> parts = names;
  if (parts.empty())
    for (int64_t i = 0; i < b; ++i) parts.push_back(input + "_" + std::to_string(i));
  if (static_cast<int64_t>(parts.size()) != b)
    return invalid_argument("batch split: input '" + input + "' has batch " + std::to_string(b) + " but " +
                            std::to_string(parts.size()) + " names were given");
  std::set<std::string> seen;
  for (const auto& p : parts) {
    if (p.empty() || !seen.insert(p).second)
      return invalid_argument("batch split: the names of the parts of '" + input + "' must be unique and non-empty");
    if (p != input && value_name_used(g, p))
      return invalid_argument("batch split: the name '" + p + "' for a part of input '" + input +
                              "' is already used in the model");
  }
  ir::ValueInfo proto = *it;
  proto.dims[0] = ir::Dim::fixed(1);
  std::vector<ir::ValueInfo> new_inputs;
  for (const auto& p : parts) {
    ir::ValueInfo v = proto;
    v.name = p;
    new_inputs.push_back(v);
  }
  // The Concat produces the old input tensor (renamed when a part keeps the input's name).
  std::string joined = input;
  if (seen.count(input)) {
    joined = ir::unique_value_name(g, input + "_batch");
    ir::replace_uses(g, input, joined);
  }
  const long pos = it - g.inputs.begin();
  g.inputs.erase(it);
  g.inputs.insert(g.inputs.begin() + pos, new_inputs.begin(), new_inputs.end());
  ir::Node cat;
  cat.name = ir::unique_value_name(g, input + "_batch_concat");
  cat.op_type = "Concat";
  cat.inputs = parts;
  cat.outputs = {joined};
  cat.attrs["axis"] = ir::Attribute::make_int(0);
  g.nodes.insert(g.nodes.begin(), cat);
  g.value_info.erase(joined);
  if (log) log->push_back("Split input " + input + " with input_batch " + std::to_string(b) + " on dim 0");
  return g.verify();
}

int quantize_before_split_concat(ir::Model* m) {
  ir::Graph& g = m->graph;
  int rewritten = 0;
  auto uses = ir::uses_of(g);
  std::vector<ir::Node> added;
  for (auto& cat : g.nodes) {
    if (!cat.domain.empty() || cat.op_type != "Concat" || cat.attr_int("axis", 0) != 0 || cat.outputs.size() != 1)
      continue;
    bool all_inputs = !cat.inputs.empty();
    for (const auto& x : cat.inputs) all_inputs = all_inputs && g.find_input(x) != nullptr;
    auto u = uses.find(cat.outputs[0]);
    if (!all_inputs || u == uses.end() || u->second.size() != 1 || u->second[0].input != 0 ||
        ir::is_graph_output(g, cat.outputs[0]))
      continue;
    ir::Node& q = g.nodes[u->second[0].node];
    if (!per_tensor_const_q(g, q)) continue;
    std::vector<std::string> qparts;
    for (const auto& x : cat.inputs) {
      ir::Node qi = q;
      qi.name = ir::unique_value_name(g, q.name + "_" + x);
      qi.inputs[0] = x;
      qi.outputs = {ir::unique_value_name(g, x + "_quantized")};
      // Reserve the names before the next part picks its own.
      g.value_info[qi.outputs[0]] = ir::ValueInfo{qi.outputs[0]};
      qparts.push_back(qi.outputs[0]);
      added.push_back(qi);
    }
    cat.inputs = qparts;
    const std::string qout = q.outputs[0];
    q.op_type.clear();  // deleted (remove_dead_nodes)
    q.outputs.clear();
    cat.outputs = {qout};
    ++rewritten;
  }
  for (auto& a : added) g.value_info.erase(a.outputs[0]);
  g.nodes.insert(g.nodes.begin(), added.begin(), added.end());
  ir::remove_dead_nodes(g);
  g.topo_sort();
  return rewritten;
}

Status apply_input_batch(const config::CompileConfig& cfg, const ir::Model& ptq, ir::Model* fixed,
                         config::CompileConfig* pre_cfg, std::vector<std::string>* log) {
  *pre_cfg = cfg;
  const config::BatchParameters& b = cfg.batch;
  std::set<std::string> split(b.separate_name.begin(), b.separate_name.end());
  ir::Model batched = ptq;
  bool changed = false;
  std::vector<config::InputParameters> inputs;
  for (const auto& in : cfg.inputs) {
    const std::string name = resolved_name(cfg, in, ptq.graph);
    config::InputParameters ci = in;
    ci.name = name;
    int64_t batch = !in.shape.empty() ? in.shape[0] : 1;
    if (b.input_batch > 1) {
      KW_RETURN_IF_ERROR(set_input_batch(&batched, name, b.input_batch));
      batch = b.input_batch;
      if (!ci.shape.empty()) ci.shape[0] = batch;
      changed = true;
      if (log) log->push_back("input " + name + ": input_batch " + std::to_string(batch) +
                              " (the fixed-point and deployable models take batch " + std::to_string(batch) + ")");
    }
    if (b.separate_batch || split.count(name) || split.count(in.name)) {
      if (batch < 2) {
        if (log) log->push_back("input " + name + ": batch 1, nothing to split");
      } else {
        KW_RETURN_IF_ERROR(split_input_batch(&batched, name, {}, log));
        changed = true;
        for (int64_t i = 0; i < batch; ++i) {
          config::InputParameters part = ci;
          part.name = name + "_" + std::to_string(i);
          if (!part.shape.empty()) part.shape[0] = 1;
          inputs.push_back(part);
        }
        continue;
      }
    }
    inputs.push_back(ci);
  }
  if (!changed) return Status::Ok();
  pre_cfg->inputs = inputs;
  ir::Model lowered;
  KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(batched, &lowered, nullptr).with_context("input_batch"));
  const int q = quantize_before_split_concat(&lowered);
  if (q && log)
    log->push_back(std::to_string(q) + " split input(s): each part quantized before the Concat of the batch");
  lowered.metadata = fixed->metadata;
  *fixed = std::move(lowered);
  return Status::Ok();
}

void describe_runtime_inputs(const config::CompileConfig& cfg, const ir::Graph& g,
                             std::map<std::string, std::string>* metadata) {
  auto put = [&](const std::string& name, const std::string& source, const std::string& layout,
                 const std::string& type) {
    if (!g.find_input(name)) return;
    (*metadata)["kaiwu.input." + name] = "source=" + source + ";layout=" + layout + ";type=" + type;
  };
  for (const auto& in : cfg.inputs) {
    const std::string name = resolved_name(cfg, in, g);
    if (name.empty()) continue;
    if (in.type_rt == "featuremap") {
      put(name, "ddr", in.layout_train, "featuremap");
      continue;
    }
    const std::string source =
        !in.source.empty() ? in.source : (in.type_rt == "nv12" || in.type_rt == "gray") ? "pyramid" : "ddr";
    const bool nv12 = in.type_rt == "nv12";
    if (source == "ddr") {
      put(name, "ddr", "NHWC", in.type_rt);
    } else {
      put(name + "_y", source, "NHWC", in.type_rt + "_y");
      if (nv12) put(name + "_uv", source, "NHWC", "nv12_uv");
      if (source == "resizer") put(name + "_roi", "resizer", "", "roi");
    }
  }
}

}  // namespace compiler

Status split_batch(const std::string& model_path, const std::string& out_dir, const BatchSplitOptions& options,
                   BatchSplitResult* result) {
  *result = BatchSplitResult();
  ir::Model qdq;
  KW_RETURN_IF_ERROR(frontend::load_onnx(model_path, &qdq));
  bool has_q = false;
  for (const auto& n : qdq.graph.nodes) has_q = has_q || ir::is_quantize_linear(n);
  for (const auto& n : qdq.graph.nodes)
    if (n.domain == "kaiwu")
      return invalid_argument("'" + model_path + "' is a fixed-point model (kaiwu." + n.op_type +
                              "); give the QDQ model (P_ptq_model.onnx)");
  if (!has_q) return invalid_argument("'" + model_path + "' has no QuantizeLinear: give a QDQ model (P_ptq_model.onnx)");
  std::vector<std::string> inputs = options.inputs;
  if (options.batch == 1 || options.batch < 0)
    return invalid_argument("--batch must be >= 2, got " + std::to_string(options.batch));
  if (options.batch > 1) {
    if (inputs.empty())
      for (const auto& v : qdq.graph.inputs) inputs.push_back(v.name);
    for (const auto& in : inputs)
      KW_RETURN_IF_ERROR(compiler::set_input_batch(&qdq, in, options.batch).with_context(model_path));
  }
  if (inputs.empty()) {
    for (const auto& v : qdq.graph.inputs)
      if (v.has_shape && !v.dims.empty() && v.dims[0].is_static() && v.dims[0].value > 1) inputs.push_back(v.name);
    if (inputs.empty())
      return invalid_argument("'" + model_path + "': no input has a static batch > 1 (inputs: " +
                              compiler::input_list(qdq.graph) + ")");
  }
  if (!options.names.empty() && inputs.size() != 1)
    return invalid_argument("--names needs exactly one input to split (" + std::to_string(inputs.size()) + " chosen)");
  for (const auto& in : inputs)
    KW_RETURN_IF_ERROR(compiler::split_input_batch(&qdq, in, options.names, &result->log).with_context(model_path));
  ir::Model fixed;
  KW_RETURN_IF_ERROR(quant::lower_to_fixed_point(qdq, &fixed, nullptr).with_context(model_path));
  compiler::quantize_before_split_concat(&fixed);
  fixed.metadata = qdq.metadata;
  fixed.metadata["kaiwu.batch_split"] = "split from " + model_path;
  ir::Model deployable = fixed;
  KW_RETURN_IF_ERROR(passes::optimize_for_cpu(deployable).with_context("optimizing the deployable model"));

  std::string prefix = options.prefix;
  if (prefix.empty()) {
    prefix = std::filesystem::path(model_path).filename().string();
    for (const std::string suffix : {"_ptq_model.onnx", ".onnx"})
      if (prefix.size() > suffix.size() && prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0) {
        prefix.resize(prefix.size() - suffix.size());
        break;
      }
    prefix += "_split";
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return io_error("cannot create '" + out_dir + "': " + ec.message());
  const std::string base = out_dir + "/" + prefix;
  qdq.metadata["kaiwu.batch_split"] = fixed.metadata["kaiwu.batch_split"];
  KW_RETURN_IF_ERROR(frontend::save_onnx(qdq, base + "_ptq_model.onnx"));
  KW_RETURN_IF_ERROR(frontend::save_onnx(fixed, base + "_quantized_model.onnx"));
  const std::string target = kernels::host_target();
  deploy::DeployInfo info{KAIWU_VERSION_STRING, target,
                          "{\"tool\": \"kaiwu batch-split\", \"version\": \"" KAIWU_VERSION_STRING "\", \"target\": \"" +
                              target + "\", \"source\": \"" + model_path + "\"}"};
  KW_RETURN_IF_ERROR(deploy::write_deployable(deployable, info, base + ".kwm"));
  result->artifacts = {base + "_ptq_model.onnx", base + "_quantized_model.onnx", base + ".kwm"};
  return Status::Ok();
}

}  // namespace kaiwu
