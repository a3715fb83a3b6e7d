// kaiwu info MODEL [-v [-o VIEW.onnx]]: what an artifact is (the hb_model_info of Kaiwu). For a deployable .kwm the
// stored compile description (tool version, march/target, calibration method, yaml); for ONNX stage models their
// kaiwu.* metadata; then the NAME | TYPE | SHAPE | DATA_TYPE table of inputs and outputs, and the boundary nodes
// that `remove_node_type` / `remove_node_name` could remove (compiler::removable_boundary_nodes, the definition the
// removal uses), and for a removed model its deleted nodes with their qparams. LAYOUT / SOURCE of runtime inputs
// come from the "kaiwu.input.<name>" metadata of `kaiwu compile`. `-v` writes an ONNX view of the graph (for a
// .kwm: the fixed-point graph as optimized for the target) that Netron and onnx.checker open.
#include <iostream>
#include <memory>

#include "commands.h"
#include "compiler/remove_nodes.h"
#include "deploy/deployable.h"
#include "deploy/runtime_input.h"
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
    for (const auto& [k, v] : m.metadata)
      if (k != compiler::kDeletedNodesKey) std::cout << k << ": " << v << "\n";
  } else {
    KW_RETURN_IF_ERROR(frontend::load_onnx(a.model, &m));
    bool qdq = false, integer = false;
    for (const auto& n : m.graph.nodes) {
      qdq = qdq || n.op_type == "QuantizeLinear";
      integer = integer || (n.domain == "kaiwu" && n.op_type.rfind("Q", 0) == 0) || n.op_type == "QLinearConv";
    }
    std::cout << "kind: " << (integer ? "fixed-point ONNX" : (qdq ? "QDQ ONNX" : "float ONNX")) << " (opset "
              << m.opset() << ")\n";
    for (const auto& [k, v] : m.metadata)
      if (k != compiler::kDeletedNodesKey) std::cout << k << ": " << v << "\n";
  }
  std::unique_ptr<Session> s;
  KW_RETURN_IF_ERROR(Session::open(a.model, SessionOptions(), &s));
  std::cout << "############# input/output #############\n";
  std::printf("%-8s %-40s %-16s %-10s %-8s %s\n", "KIND", "NAME", "SHAPE", "DATA_TYPE", "LAYOUT", "SOURCE");
  for (const auto& io : s->inputs()) {
    // Source and layout of runtime inputs (frames, _y/_uv/_roi, split batches) from the compile metadata.
    const deploy::RuntimeInputDesc rt = deploy::runtime_input_desc(m.metadata, io.name);
    std::printf("%-8s %-40s %-16s %-10s %-8s %s\n", "input", io.name.c_str(), shape_text(io.shape).c_str(),
                dtype_name(io.dtype), rt.layout_or(io.layout).c_str(), rt.source_text().c_str());
  }
  for (const auto& io : s->outputs())
    std::printf("%-8s %-40s %-16s %-10s %-8s\n", "output", io.name.c_str(), shape_text(io.shape).c_str(),
                dtype_name(io.dtype), io.layout.c_str());
  // Removable boundary nodes: the definition the removal of `kaiwu compile` uses (compiler/remove_nodes.h).
  std::cout << "############# removable boundary nodes #############\n";
  const auto removable = compiler::removable_boundary_nodes(m.graph);
  for (const auto& b : removable)
    std::cout << b.name << " (" << b.op_type << ", " << (b.at_input ? "input " : "output ") << b.io << ")\n";
  if (removable.empty()) std::cout << "(none)\n";
  auto del = m.metadata.find(compiler::kDeletedNodesKey);
  if (del != m.metadata.end()) {
    std::cout << "############# deleted nodes #############\n";
    std::string text = del->second;
    if (text.size() >= 2 && text.front() == '[') text = text.substr(1, text.size() - 2);
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find("}, {", at);
      std::cout << text.substr(at, end == std::string::npos ? std::string::npos : end + 1 - at) << "\n";
      if (end == std::string::npos) break;
      at = end + 3;
    }
    std::cout << "(feed a removed Quantize's input as q = clamp(round(x / scale) + zero_point) in its dtype; "
                 "a removed Dequantize's output gives x = (q - zero_point) * scale)\n";
  }
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
