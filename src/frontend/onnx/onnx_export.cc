#include "frontend/onnx/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <algorithm>

#include "core/file_util.h"
#include "frontend/onnx/onnx_tensor.h"

namespace kaiwu::frontend {
namespace {

void value_info_to_onnx(const ir::ValueInfo& v, onnx::ValueInfoProto* vp) {
  vp->set_name(v.name);
  if (v.dtype == DType::kUndefined) return;
  auto* tt = vp->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(v.dtype));
  if (!v.has_shape) return;
  auto* sh = tt->mutable_shape();
  for (const auto& d : v.dims) {
    auto* dp = sh->add_dim();
    if (d.is_static()) dp->set_dim_value(d.value);
    else if (!d.param.empty()) dp->set_dim_param(d.param);
  }
}

void attribute_to_onnx(const std::string& name, const ir::Attribute& a, onnx::AttributeProto* ap) {
  using AP = onnx::AttributeProto;
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
      tensor_to_onnx(a.t, "", ap->mutable_t());
      break;
  }
}

}  // namespace

Status serialize_onnx(const ir::Model& m, std::string* bytes) {
  onnx::ModelProto mp;
  mp.set_ir_version(std::max<int64_t>(m.ir_version, 7));
  mp.set_producer_name(m.producer_name.empty() ? "kaiwu" : m.producer_name);
  mp.set_producer_version(m.producer_version);
  if (!m.doc_string.empty()) mp.set_doc_string(m.doc_string);
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
  gp->set_name(g.name.empty() ? "kaiwu_graph" : g.name);
  for (const auto& v : g.inputs) value_info_to_onnx(v, gp->add_input());
  for (const auto& v : g.outputs) value_info_to_onnx(v, gp->add_output());
  for (const auto& [name, v] : g.value_info) value_info_to_onnx(v, gp->add_value_info());
  for (const auto& [name, t] : g.initializers) tensor_to_onnx(t, name, gp->add_initializer());
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    for (const auto& [k, a] : n.attrs) attribute_to_onnx(k, a, np->add_attribute());
  }
  if (!mp.SerializeToString(bytes)) return internal_error("ONNX serialization failed (model over 2 GB?)");
  return Status::Ok();
}

Status save_onnx(const ir::Model& m, const std::string& path) {
  std::string bytes;
  KW_RETURN_IF_ERROR(serialize_onnx(m, &bytes));
  return write_file_atomic(path, bytes);
}

}  // namespace kaiwu::frontend
