#include "deploy/graph_codec.h"

#include <onnx/onnx_pb.h>

#include <climits>

#include "frontend/onnx/onnx_tensor.h"

namespace kaiwu::deploy {
namespace {

using AP = onnx::AttributeProto;

void encode_value(const ir::ValueInfo& v, onnx::ValueInfoProto* vp) {
  vp->set_name(v.name);
  if (v.dtype == DType::kUndefined && !v.has_shape) return;
  auto* tt = vp->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(frontend::dtype_to_onnx(v.dtype));
  if (!v.has_shape) return;
  auto* sh = tt->mutable_shape();
  for (const auto& d : v.dims) {
    auto* dp = sh->add_dim();
    if (d.value != -1) dp->set_dim_value(d.value);
    else dp->set_dim_param(d.param);
  }
}

Status decode_value(const onnx::ValueInfoProto& vp, ir::ValueInfo* v) {
  v->name = vp.name();
  if (!vp.has_type()) return Status::Ok();
  if (!vp.type().has_tensor_type()) return invalid_argument("value '" + vp.name() + "' is not a tensor");
  const auto& tt = vp.type().tensor_type();
  v->dtype = frontend::dtype_from_onnx(tt.elem_type());
  if (tt.elem_type() != 0 && v->dtype == DType::kUndefined)
    return invalid_argument("value '" + vp.name() + "' has unknown element type " + std::to_string(tt.elem_type()));
  if (!tt.has_shape()) return Status::Ok();
  v->has_shape = true;
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) v->dims.push_back(ir::Dim::fixed(d.dim_value()));
    else v->dims.push_back(ir::Dim::symbol(d.dim_param()));
  }
  return Status::Ok();
}

void encode_tensor(const Tensor& t, onnx::TensorProto* tp) {
  if (!t.defined()) return;  // data_type 0: an undefined tensor
  frontend::tensor_to_onnx(t, "", tp);
}

Status decode_tensor(const onnx::TensorProto& tp, Tensor* t) {
  if (tp.data_type() == 0 && tp.dims_size() == 0 && !tp.has_raw_data()) {
    *t = Tensor();
    return Status::Ok();
  }
  if (!tp.has_raw_data() || tp.data_location() != onnx::TensorProto::DEFAULT)
    return invalid_argument("a tensor attribute has no inline raw data");
  // Check the byte count before anything is allocated (a damaged shape must not request a huge buffer).
  DType dt = frontend::dtype_from_onnx(tp.data_type());
  if (dt == DType::kUndefined) return invalid_argument("a tensor attribute has unknown element type");
  uint64_t bytes = dtype_size(dt);
  for (int64_t d : tp.dims()) {
    if (d < 0) return invalid_argument("a tensor attribute has a negative dimension");
    if (d != 0 && bytes > tp.raw_data().size() / static_cast<uint64_t>(d) + 1) bytes = UINT64_MAX;
    else bytes *= static_cast<uint64_t>(d);
  }
  if (bytes != tp.raw_data().size()) return invalid_argument("a tensor attribute's data does not match its shape");
  return frontend::tensor_from_onnx(tp, "", t);
}

void encode_attr(const std::string& name, const ir::Attribute& a, AP* ap) {
  ap->set_name(name);
  switch (a.kind) {
    case ir::Attribute::Kind::kInt: ap->set_type(AP::INT); ap->set_i(a.i); break;
    case ir::Attribute::Kind::kFloat: ap->set_type(AP::FLOAT); ap->set_f(a.f); break;
    case ir::Attribute::Kind::kString: ap->set_type(AP::STRING); ap->set_s(a.s); break;
    case ir::Attribute::Kind::kInts:
      ap->set_type(AP::INTS);
      for (int64_t v : a.ints) ap->add_ints(v);
      break;
    case ir::Attribute::Kind::kFloats:
      ap->set_type(AP::FLOATS);
      for (float v : a.floats) ap->add_floats(v);
      break;
    case ir::Attribute::Kind::kStrings:
      ap->set_type(AP::STRINGS);
      for (const auto& v : a.strings) ap->add_strings(v);
      break;
    case ir::Attribute::Kind::kTensor:
      ap->set_type(AP::TENSOR);
      encode_tensor(a.t, ap->mutable_t());
      break;
  }
}

Status decode_attr(const AP& ap, ir::Attribute* a) {
  switch (ap.type()) {
    case AP::INT: *a = ir::Attribute::make_int(ap.i()); return Status::Ok();
    case AP::FLOAT: *a = ir::Attribute::make_float(ap.f()); return Status::Ok();
    case AP::STRING: *a = ir::Attribute::make_string(ap.s()); return Status::Ok();
    case AP::INTS: *a = ir::Attribute::make_ints({ap.ints().begin(), ap.ints().end()}); return Status::Ok();
    case AP::FLOATS: *a = ir::Attribute::make_floats({ap.floats().begin(), ap.floats().end()}); return Status::Ok();
    case AP::STRINGS:
      *a = ir::Attribute::make_strings({ap.strings().begin(), ap.strings().end()});
      return Status::Ok();
    case AP::TENSOR: {
      Tensor t;
      KW_RETURN_IF_ERROR(decode_tensor(ap.t(), &t));
      *a = ir::Attribute::make_tensor(std::move(t));
      return Status::Ok();
    }
    default:
      return invalid_argument("attribute '" + ap.name() + "' has unsupported type " + std::to_string(ap.type()));
  }
}

}  // namespace

Status encode_graph(const ir::Model& m, std::string* bytes) {
  onnx::ModelProto mp;
  mp.set_ir_version(m.ir_version);
  mp.set_producer_name(m.producer_name);
  mp.set_producer_version(m.producer_version);
  mp.set_doc_string(m.doc_string);
  for (const auto& [k, v] : m.metadata) {
    auto* p = mp.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  for (const auto& [dom, ver] : m.opsets) {
    auto* os = mp.add_opset_import();
    os->set_domain(dom);
    os->set_version(ver);
  }
  const ir::Graph& g = m.graph;
  auto* gp = mp.mutable_graph();
  gp->set_name(g.name);
  for (const auto& v : g.inputs) encode_value(v, gp->add_input());
  for (const auto& v : g.outputs) encode_value(v, gp->add_output());
  for (const auto& [name, v] : g.value_info) {
    auto* vp = gp->add_value_info();
    encode_value(v, vp);
    vp->set_name(name);  // the map key (equal to v.name in any well-formed graph)
  }
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& [k, a] : n.attrs) encode_attr(k, a, np->add_attribute());
  }
  if (!mp.SerializeToString(bytes)) return internal_error("graph serialization failed (graph over 2 GB?)");
  return Status::Ok();
}

Status decode_graph(const char* data, size_t size, const std::string& origin, ir::Model* out) {
  auto bad = [&](const std::string& what) {
    return invalid_argument("'" + origin + "' is corrupted: graph section: " + what);
  };
  onnx::ModelProto mp;
  if (size > static_cast<size_t>(INT_MAX)) return bad("larger than 2 GB");
  if (!mp.ParseFromArray(data, static_cast<int>(size))) return bad("not a valid ONNX ModelProto");
  if (!mp.has_graph()) return bad("no graph");
  ir::Model m;
  m.ir_version = mp.ir_version();
  m.producer_name = mp.producer_name();
  m.producer_version = mp.producer_version();
  m.doc_string = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) m.metadata[kv.key()] = kv.value();
  for (const auto& os : mp.opset_import()) m.opsets[os.domain()] = os.version();
  const onnx::GraphProto& gp = mp.graph();
  if (gp.initializer_size() || gp.sparse_initializer_size()) return bad("inline initializers are not allowed");
  ir::Graph& g = m.graph;
  g.name = gp.name();
  for (const auto& vp : gp.input()) {
    g.inputs.emplace_back();
    KW_RETURN_IF_ERROR(decode_value(vp, &g.inputs.back()).with_context("'" + origin + "' graph input"));
  }
  for (const auto& vp : gp.output()) {
    g.outputs.emplace_back();
    KW_RETURN_IF_ERROR(decode_value(vp, &g.outputs.back()).with_context("'" + origin + "' graph output"));
  }
  for (const auto& vp : gp.value_info()) {
    ir::ValueInfo v;
    KW_RETURN_IF_ERROR(decode_value(vp, &v).with_context("'" + origin + "' value_info"));
    g.value_info[vp.name()] = std::move(v);
  }
  g.nodes.reserve(gp.node_size());
  for (const auto& np : gp.node()) {
    ir::Node n;
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = np.domain();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (const auto& ap : np.attribute()) {
      ir::Attribute a;
      KW_RETURN_IF_ERROR(decode_attr(ap, &a).with_context("'" + origin + "' node '" + n.name + "'"));
      n.attrs[ap.name()] = std::move(a);
    }
    g.nodes.push_back(std::move(n));
  }
  *out = std::move(m);
  return Status::Ok();
}

}  // namespace kaiwu::deploy
