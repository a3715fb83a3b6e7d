#include <map>
#include <set>

#include "ops/op_def.h"

namespace kaiwu::ops {

#define KAIWU_OP(id, domain, name) extern const OpDef kOp_##id;
#include "ops/ops.def"
#undef KAIWU_OP

const std::vector<const OpDef*>& all_ops() {
  static const std::vector<const OpDef*> ops = {
#define KAIWU_OP(id, domain, name) &kOp_##id,
#include "ops/ops.def"
#undef KAIWU_OP
  };
  return ops;
}

const OpDef* find_op(const std::string& domain, const std::string& op_type) {
  static const std::map<std::pair<std::string, std::string>, const OpDef*> index = [] {
    std::map<std::pair<std::string, std::string>, const OpDef*> m;
    for (const OpDef* d : all_ops()) m[{d->domain, d->name}] = d;
    return m;
  }();
  const std::string dom = domain == "ai.onnx" ? "" : domain;
  auto it = index.find({dom, op_type});
  return it == index.end() ? nullptr : it->second;
}

Status check_supported(const ir::Graph& g) {
  std::map<std::string, std::vector<std::string>> missing;
  for (const auto& n : g.nodes)
    if (!find_op(n.domain, n.op_type))
      missing[(n.domain.empty() || n.domain == "ai.onnx" ? "" : n.domain + ".") + n.op_type].push_back(
          n.name.empty() ? "<unnamed>" : n.name);
  if (missing.empty()) return Status::Ok();
  std::string msg = std::to_string(missing.size()) + " unsupported op type(s):";
  for (const auto& [op, names] : missing) {
    msg += "\n  " + op + " (" + std::to_string(names.size()) + " node" + (names.size() > 1 ? "s" : "") + "): ";
    for (size_t i = 0; i < names.size() && i < 20; ++i) msg += (i ? ", " : "") + names[i];
    if (names.size() > 20) msg += ", ...";
  }
  return unsupported(msg);
}

}  // namespace kaiwu::ops
