#include "frontend/onnx/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <algorithm>

#include "core/file_util.h"
#include "frontend/onnx/onnx_tensor.h"
#include "ir/graph_edit.h"
#include "ir/qdq.h"

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

// Writes Q/DQ node n (already named, typed and wired in np) in the domain ir::qdq_onnx_domain() picks. In the
// com.microsoft domain only `axis` is kept (set explicitly for per-axis scales; the contrib ops have no saturate,
// block_size or output_dtype), and a QuantizeLinear without zero point gets one of its output_dtype.
// Returns the domain written.
std::string qdq_node_to_onnx(const ir::Graph& g, const ir::Node& n, int64_t opset, onnx::NodeProto* np,
                             onnx::GraphProto* gp) {
  const DType qt = ir::qdq_integer_type(g, n);
  const bool per_axis = ir::qdq_is_per_axis(g, n);
  const std::string dom = ir::qdq_onnx_domain(qt, per_axis, opset);
  if (dom.empty()) {
    np->clear_domain();
    for (const auto& [k, a] : n.attrs) attribute_to_onnx(k, a, np->add_attribute());
    return dom;
  }
  np->set_domain(dom);
  const bool scale_known = g.is_initializer(n.inputs.size() > 1 ? n.inputs[1] : std::string());
  if (per_axis || (!scale_known && n.has_attr("axis")))
    attribute_to_onnx("axis", ir::Attribute::make_int(n.attr_int("axis", 1)), np->add_attribute());
  const bool typed = qt == DType::kI8 || qt == DType::kI16 || qt == DType::kU16;
  if (ir::is_quantize_linear(n) && !n.has_input(2) && typed && n.has_input(1)) {
    const std::string zp = ir::unique_value_name(g, n.name + "_zero_point");
    tensor_to_onnx(Tensor::zeros(qt, {}), zp, gp->add_initializer());
    if (np->input_size() < 3) np->add_input(zp);
    else np->set_input(2, zp);
  }
  return dom;
}

// Adds the com.microsoft opset import when some node uses that domain, removes it when none does.
void set_ms_opset_import(bool used, onnx::ModelProto* mp) {
  auto* imports = mp->mutable_opset_import();
  for (int i = 0; i < imports->size(); ++i)
    if (imports->Get(i).domain() == ir::kMsDomain) {
      if (used) return;
      imports->DeleteSubrange(i, 1);
      return;
    }
  if (!used) return;
  auto* os = mp->add_opset_import();
  os->set_domain(ir::kMsDomain);
  os->set_version(ir::kMsDomainVersion);
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
  bool uses_ms = false;  // some node is written in com.microsoft (needs its opset import)
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    if (ir::is_qdq_node(n)) {
      uses_ms = qdq_node_to_onnx(g, n, m.opset(), np, gp) == ir::kMsDomain || uses_ms;
      continue;
    }
    uses_ms = uses_ms || n.domain == ir::kMsDomain;
    for (const auto& [k, a] : n.attrs) attribute_to_onnx(k, a, np->add_attribute());
  }
  set_ms_opset_import(uses_ms, &mp);
  if (!mp.SerializeToString(bytes)) return internal_error("ONNX serialization failed (model over 2 GB?)");
  return Status::Ok();
}

Status save_onnx(const ir::Model& m, const std::string& path) {
  std::string bytes;
  KW_RETURN_IF_ERROR(serialize_onnx(m, &bytes));
  return write_file_atomic(path, bytes);
}

}  // namespace kaiwu::frontend
