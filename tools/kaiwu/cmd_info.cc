// kaiwu info MODEL [-v [-o VIEW.onnx]]: what an artifact is (the hb_model_info of Kaiwu). For a deployable .kwm the
// stored compile description (tool version, march/target, calibration method, yaml); for ONNX stage models their
// kaiwu.* metadata; then the NAME | TYPE | SHAPE | DATA_TYPE table of inputs and outputs, and the boundary nodes
// that `remove_node_type` / `remove_node_name` could remove (Quantize, Dequantize, Transpose, Cast, Reshape, Softmax
// next to a graph input or output). `-v` writes an ONNX view of the graph (for a .kwm: the fixed-point graph as
// optimized for the target) that Netron and onnx.checker open.
#include <iostream>
#include <memory>
#include <set>

#include "commands.h"
#include "deploy/deployable.h"
#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "ir/graph_edit.h"
#include "kaiwu/session.h"

namespace kaiwu::cli {

namespace {

struct InfoArgs {
  std::string model, view;
  bool verbose = false;
};

std::string shape_text(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return r;
}

Status run_info(const InfoArgs& a) {
  ir::Model m;
  const bool kwm = deploy::is_deployable_file(a.model);
  std::cout << "############# model info #############\nmodel: " << a.model << "\n";
  if (kwm) {
    deploy::DeployInfo info;
    KW_RETURN_IF_ERROR(deploy::read_deployable(a.model, &m, &info));
    std::cout << "kind: deployable (.kwm)\ntool version: " << info.tool_version << "\ntarget: " << info.target
              << "\ndescription: " << info.description << "\n";
  } else {
    KW_RETURN_IF_ERROR(frontend::load_onnx(a.model, &m));
    bool qdq = false, integer = false;
    for (const auto& n : m.graph.nodes) {
      qdq = qdq || n.op_type == "QuantizeLinear";
      integer = integer || (n.domain == "kaiwu" && n.op_type.rfind("Q", 0) == 0) || n.op_type == "QLinearConv";
    }
    std::cout << "kind: " << (integer ? "fixed-point ONNX" : (qdq ? "QDQ ONNX" : "float ONNX")) << " (opset "
              << m.opset() << ")\n";
    for (const auto& [k, v] : m.metadata) std::cout << k << ": " << v << "\n";
  }
  std::unique_ptr<Session> s;
  KW_RETURN_IF_ERROR(Session::open(a.model, SessionOptions(), &s));
  std::cout << "############# input/output #############\n";
  std::printf("%-8s %-40s %-16s %-10s %-8s %s\n", "KIND", "NAME", "SHAPE", "DATA_TYPE", "LAYOUT", "SOURCE");
  for (const auto& io : s->inputs())
    std::printf("%-8s %-40s %-16s %-10s %-8s %s\n", "input", io.name.c_str(), shape_text(io.shape).c_str(),
                dtype_name(io.dtype), io.layout.c_str(), "ddr");
  for (const auto& io : s->outputs())
    std::printf("%-8s %-40s %-16s %-10s %-8s\n", "output", io.name.c_str(), shape_text(io.shape).c_str(),
                dtype_name(io.dtype), io.layout.c_str());
  // Removable boundary nodes: a node of a removable type reading a graph input or producing a graph output.
  static const std::set<std::string> kRemovable = {"QuantizeLinear", "DequantizeLinear", "Transpose", "Cast", "Reshape",
                                                   "Softmax"};
  std::set<std::string> inputs;
  for (const auto& v : m.graph.inputs) inputs.insert(v.name);
  std::cout << "############# removable boundary nodes #############\n";
  int removable = 0;
  for (const auto& n : m.graph.nodes) {
    if (!n.domain.empty() || !kRemovable.count(n.op_type)) continue;
    const bool at_input = !n.inputs.empty() && inputs.count(n.inputs[0]);
    const bool at_output = !n.outputs.empty() && ir::is_graph_output(m.graph, n.outputs[0]);
    if (!at_input && !at_output) continue;
    std::cout << n.name << " (" << n.op_type << ", " << (at_input ? "input " + n.inputs[0] : "output " + n.outputs[0])
              << ")\n";
    ++removable;
  }
  if (!removable) std::cout << "(none)\n";
  if (a.verbose) {
    const std::string view = a.view.empty() ? a.model + ".view.onnx" : a.view;
    KW_RETURN_IF_ERROR(frontend::save_onnx(m, view));
    std::cout << "wrote the ONNX view " << view << "\n";
  }
  return Status::Ok();
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto a = std::make_shared<InfoArgs>();
  CLI::App* c = app.add_subcommand("info", "Describe an artifact: compile description, inputs/outputs, removable nodes");
  c->add_option("model", a->model, "Model: .onnx (float, QDQ, fixed-point) or deployable .kwm")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_flag("-v,--verbose", a->verbose, "Also write an ONNX view of the graph (Netron, onnx.checker)");
  c->add_option("-o,--view", a->view, "Where -v writes the view (default: MODEL.view.onnx)");
  c->callback([a] {
    Status st = run_info(*a);
    if (!st.ok()) {
      std::cerr << "kaiwu info: " << st.to_string() << "\n";
      set_exit_code(1);
    }
  });
}

}  // namespace kaiwu::cli
