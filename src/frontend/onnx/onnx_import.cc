#include "frontend/onnx/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <set>

#include "core/file_util.h"
#include "frontend/onnx/onnx_tensor.h"
#include "ir/qdq.h"

namespace kaiwu::frontend {
namespace {

Status value_info_from_onnx(const onnx::ValueInfoProto& vp, ir::ValueInfo* v) {
  v->name = vp.name();
  if (!vp.has_type() || !vp.type().has_tensor_type()) return Status::Ok();  // untyped: inferred later
  const auto& tt = vp.type().tensor_type();
  v->dtype = dtype_from_onnx(tt.elem_type());
  if (tt.elem_type() != 0 && v->dtype == DType::kUndefined)
    return unsupported("value '" + vp.name() + "' has unsupported element type " + std::to_string(tt.elem_type()));
  if (tt.has_shape()) {
    v->has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) v->dims.push_back(ir::Dim::fixed(d.dim_value()));
      else v->dims.push_back(ir::Dim::symbol(d.dim_param()));
    }
  }
  return Status::Ok();
}

Status attribute_from_onnx(const onnx::AttributeProto& ap, const ir::Node& n, ir::Attribute* a) {
  using AP = onnx::AttributeProto;
  AP::AttributeType type = ap.type();
  if (type == AP::UNDEFINED) {  // old models omit the type: deduce from the populated field
    if (ap.has_f()) type = AP::FLOAT;
    else if (ap.has_i()) type = AP::INT;
    else if (ap.has_s()) type = AP::STRING;
    else if (ap.has_t()) type = AP::TENSOR;
    else if (ap.floats_size()) type = AP::FLOATS;
    else if (ap.ints_size()) type = AP::INTS;
    else if (ap.strings_size()) type = AP::STRINGS;
    else if (ap.has_g() || ap.graphs_size()) type = AP::GRAPH;
  }
  switch (type) {
    case AP::FLOAT: *a = ir::Attribute::make_float(ap.f()); return Status::Ok();
    case AP::INT: *a = ir::Attribute::make_int(ap.i()); return Status::Ok();
    case AP::STRING: *a = ir::Attribute::make_string(ap.s()); return Status::Ok();
    case AP::FLOATS: *a = ir::Attribute::make_floats({ap.floats().begin(), ap.floats().end()}); return Status::Ok();
    case AP::INTS: *a = ir::Attribute::make_ints({ap.ints().begin(), ap.ints().end()}); return Status::Ok();
    case AP::STRINGS: *a = ir::Attribute::make_strings({ap.strings().begin(), ap.strings().end()}); return Status::Ok();
    case AP::TENSOR: {
      Tensor t;
      KW_RETURN_IF_ERROR(tensor_from_onnx(ap.t(), "", &t).with_context(n.describe() + " attribute '" + ap.name() + "'"));
      *a = ir::Attribute::make_tensor(std::move(t));
      return Status::Ok();
    }
    case AP::GRAPH: case AP::GRAPHS:
      return unsupported(n.describe() + ": attribute '" + ap.name() + "' is a subgraph; control flow is not supported");
    default:
      return unsupported(n.describe() + ": attribute '" + ap.name() + "' has unsupported type " +
                         std::to_string(static_cast<int>(type)));
  }
}

}  // namespace

Status parse_onnx(const std::string& bytes, const std::string& origin, const std::string& base_dir, ir::Model* out) {
  auto bad = [&](const std::string& m) { return invalid_argument("'" + origin + "' is not a valid ONNX model: " + m); };
  if (bytes.empty()) return bad("the file is empty");
  onnx::ModelProto mp;
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return bad("larger than 2 GB; use external data");
  if (!mp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return bad("protobuf parsing failed (truncated or not an ONNX file)");
  if (!mp.has_graph()) return bad("it has no graph (truncated or not an ONNX file)");
  if (mp.ir_version() <= 0 || mp.ir_version() > 10) return bad("unsupported IR version " + std::to_string(mp.ir_version()));
  ir::Model m;
  m.ir_version = mp.ir_version();
  m.producer_name = mp.producer_name();
  m.producer_version = mp.producer_version();
  m.doc_string = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) m.metadata[kv.key()] = kv.value();
  for (const auto& os : mp.opset_import()) m.opsets[os.domain() == "ai.onnx" ? "" : os.domain()] = os.version();
  if (m.opsets.empty()) m.opsets[""] = 1;
  int64_t opset = m.opset();
  if (opset > 19) return unsupported("'" + origin + "' uses opset " + std::to_string(opset) + "; Kaiwu supports opsets up to 19");
  const onnx::GraphProto& gp = mp.graph();
  ir::Graph& g = m.graph;
  g.name = gp.name();
  for (const auto& tp : gp.initializer()) {
    Tensor t;
    KW_RETURN_IF_ERROR(tensor_from_onnx(tp, base_dir, &t).with_context("'" + origin + "'"));
    if (tp.name().empty()) return bad("an initializer has no name");
    g.initializers[tp.name()] = std::move(t);
  }
  if (gp.sparse_initializer_size()) return unsupported("'" + origin + "': sparse initializers are not supported");
  for (const auto& vp : gp.input()) {
    if (g.is_initializer(vp.name())) continue;  // IR < 4 lists initializers as inputs
    ir::ValueInfo v;
    KW_RETURN_IF_ERROR(value_info_from_onnx(vp, &v).with_context("'" + origin + "'"));
    g.inputs.push_back(std::move(v));
  }
  for (const auto& vp : gp.output()) {
    ir::ValueInfo v;
    KW_RETURN_IF_ERROR(value_info_from_onnx(vp, &v).with_context("'" + origin + "'"));
    g.outputs.push_back(std::move(v));
  }
  for (const auto& vp : gp.value_info()) {
    ir::ValueInfo v;
    if (value_info_from_onnx(vp, &v).ok()) g.value_info[v.name] = std::move(v);
  }
  std::set<std::string> names;
  int k = 0;
  for (const auto& np : gp.node()) {
    ir::Node n;
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    if (ir::is_qdq_node(n)) n.domain.clear();  // com.microsoft Q/DQ: same op in the IR (see ir/qdq.h)
    n.name = np.name();
    if (n.name.empty() || names.count(n.name)) n.name = (n.name.empty() ? n.op_type : n.name) + "_" + std::to_string(k);
    names.insert(n.name);
    ++k;
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& ap : np.attribute()) {
      ir::Attribute a;
      KW_RETURN_IF_ERROR(attribute_from_onnx(ap, n, &a).with_context("'" + origin + "'"));
      n.attrs[ap.name()] = std::move(a);
    }
    g.nodes.push_back(std::move(n));
  }
  if (g.outputs.empty()) return bad("the graph has no outputs");
  *out = std::move(m);
  return Status::Ok();
}

Status load_onnx(const std::string& path, ir::Model* out) {
  std::string bytes;
  KW_RETURN_IF_ERROR(read_file(path, &bytes));
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return parse_onnx(bytes, path, dir, out);
}

}  // namespace kaiwu::frontend

namespace kaiwu::frontend {
Status read_tensor_pb(const std::string& path, Tensor* out, std::string* name) {
  std::string bytes;
  KW_RETURN_IF_ERROR(read_file(path, &bytes));
  onnx::TensorProto tp;
  if (!tp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return invalid_argument("'" + path + "' is not a serialized ONNX TensorProto");
  if (name) *name = tp.name();
  return tensor_from_onnx(tp, "", out).with_context("'" + path + "'");
}
}  // namespace kaiwu::frontend
