// kaiwu.QLinearConv with an int16 output + a clamp table -> the convolution with y_min / y_max (see passes.h).
#include <algorithm>
#include <cstdint>

#include "ir/graph_edit.h"
#include "passes/passes.h"

namespace kaiwu::passes {
namespace {

// True if `t` (65536 int16 entries, indexed by x + 32768) is clamp(x, lo, hi) for some lo <= hi; sets them.
bool is_clamp_table(const Tensor& t, int64_t* lo, int64_t* hi) {
  if (t.dtype() != DType::kI16 || t.numel() != 65536) return false;
  const int16_t* v = t.data<int16_t>();
  *lo = v[0];
  *hi = v[65535];
  if (*lo > *hi) return false;
  for (int64_t i = 0; i < 65536; ++i) {
    const int64_t x = i - 32768;
    if (v[i] != (x < *lo ? *lo : (x > *hi ? *hi : x))) return false;
  }
  return true;
}

}  // namespace

Status fuse_quantized_clamp(ir::Model& m, bool* changed) {
  ir::Graph& g = m.graph;
  *changed = false;
  auto uses = ir::uses_of(g);
  auto prod = g.producers();
  std::vector<bool> drop(g.nodes.size(), false);
  for (size_t li = 0; li < g.nodes.size(); ++li) {
    const ir::Node& lut = g.nodes[li];
    if (lut.domain != "kaiwu" || lut.op_type != "QLut" || lut.inputs.size() != 2 || lut.outputs.size() != 1) continue;
    auto t = g.initializers.find(lut.inputs[1]);
    int64_t lo = 0, hi = 0;
    if (t == g.initializers.end() || !is_clamp_table(t->second, &lo, &hi)) continue;
    auto p = prod.find(lut.inputs[0]);
    if (p == prod.end() || drop[p->second]) continue;
    ir::Node& conv = g.nodes[p->second];
    if (conv.domain != "kaiwu" || conv.op_type != "QLinearConv" || conv.outputs.size() != 1) continue;
    if (uses[conv.outputs[0]].size() != 1 || ir::is_graph_output(g, conv.outputs[0])) continue;
    // Clamps compose: an earlier fused one narrows further.
    lo = std::max(lo, conv.attr_int("y_min", lo));
    hi = std::min(hi, conv.attr_int("y_max", hi));
    if (lo > hi) continue;
    conv.attrs["y_min"] = ir::Attribute::make_int(lo);
    conv.attrs["y_max"] = ir::Attribute::make_int(hi);
    conv.outputs[0] = lut.outputs[0];
    drop[li] = true;
    *changed = true;
  }
  if (!*changed) return Status::Ok();
  std::vector<ir::Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  return Status::Ok();
}

}  // namespace kaiwu::passes
