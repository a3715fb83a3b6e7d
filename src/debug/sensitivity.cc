// Sensitivity of nodes (quantize one item at a time, or all but one) and accumulated error along the graph.
#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "debug/debugger.h"
#include "ir/qdq.h"

namespace kaiwu::debug {

Status node_sensitivity(const QdqAnalysis& a, Evaluator& ev, const SensitivityOptions& opt,
                        std::vector<SensitivityRow>* rows, const Progress& progress) {
  rows->clear();
  if (opt.metrics.empty()) return invalid_argument("no metric given");
  const std::string& kind = opt.node_type;
  if (kind != "node" && kind != "weight" && kind != "activation")
    return invalid_argument("node_type '" + kind + "' (node, weight, activation)");
  std::vector<std::string> items = opt.interested.empty() ? a.items(kind) : opt.interested;
  std::vector<std::string> unknown;
  for (const auto& it : items)
    if (a.edges_of(kind, it).empty()) unknown.push_back(it);
  if (!unknown.empty()) {
    std::string list;
    for (size_t i = 0; i < unknown.size() && i < 10; ++i) list += (i ? ", '" : "'") + unknown[i] + "'";
    return not_found("interested_nodes: no quantized " + kind + " named " + list);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<bool> mask = opt.all_but_one ? mask_all(a) : mask_none(a);
    for (size_t e : a.edges_of(kind, items[i])) mask[e] = !opt.all_but_one;
    ir::Model m;
    KW_RETURN_IF_ERROR(build_partial(a, mask, &m));
    std::vector<ErrorStats> st;
    KW_RETURN_IF_ERROR(ev.evaluate(m, &st).with_context(kind + " '" + items[i] + "'"));
    SensitivityRow r;
    r.name = items[i];
    auto ot = a.op_type.find(items[i]);
    r.op_type = kind == "node" ? (ot != a.op_type.end() ? ot->second : "") : kind;
    for (Metric mt : opt.metrics) r.values.push_back(Evaluator::mean(st, mt));
    rows->push_back(r);
    if (progress) progress(i + 1, items.size());
  }
  // Worst first: single -> the worst metric value; all_but_one -> the best value (leaving the item float helps most).
  const Metric m0 = opt.metrics[0];
  const bool worst_is_low = higher_is_better(m0) != opt.all_but_one;
  std::stable_sort(rows->begin(), rows->end(), [&](const SensitivityRow& x, const SensitivityRow& y) {
    return worst_is_low ? x.values[0] < y.values[0] : x.values[0] > y.values[0];
  });
  return Status::Ok();
}

std::string sensitivity_table(const std::vector<SensitivityRow>& rows, const std::vector<Metric>& metrics,
                              const std::string& title) {
  size_t w = 4;
  for (const auto& r : rows) w = std::max(w, r.name.size());
  std::ostringstream os;
  const std::string bar(26, '=');
  os << bar << title << bar << "\n";
  char buf[64];
  std::string head = "Node" + std::string(w - 4 + 2, ' ');
  for (Metric m : metrics) {
    std::snprintf(buf, sizeof buf, "%-20s", metric_name(m));
    head += buf;
  }
  while (!head.empty() && head.back() == ' ') head.pop_back();
  os << head << "\n" << std::string(head.size(), '-') << "\n";
  for (const auto& r : rows) {
    std::string line = r.name + std::string(w - r.name.size() + 2, ' ');
    for (double v : r.values) {
      std::snprintf(buf, sizeof buf, "%-20.6g", v);
      line += buf;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
  return os.str();
}

std::vector<QuantSetSpec> standard_sets(const QdqAnalysis& a) {
  return {{"all", mask_all(a)}, {"weight", mask_kind(a, true)}, {"activation", mask_kind(a, false)}};
}

Status accumulate_error(const QdqAnalysis& a, Evaluator& ev, const std::vector<QuantSetSpec>& sets, Metric metric,
                        bool average_mode, AccumulatedError* out) {
  *out = AccumulatedError();
  out->metric = metric;
  if (sets.empty()) return invalid_argument("no quantization set to compare");
  // Layers: compute nodes with a float first output, topological order (the analysis sorted the graph).
  ir::Model ref;
  KW_RETURN_IF_ERROR(build_partial(a, mask_none(a), &ref));
  std::set<std::string> in_ref;
  for (const auto& n : ref.graph.nodes)
    for (const auto& o : n.outputs) in_ref.insert(o);
  for (const auto& n : a.qdq.graph.nodes) {
    if (ir::is_qdq_node(n)) continue;
    if (n.outputs.empty() || n.outputs[0].empty() || !in_ref.count(n.outputs[0])) continue;
    out->layers.push_back(n.name);
    out->tensors.push_back(n.outputs[0]);
  }
  std::vector<ir::Model> models(sets.size());
  std::vector<const ir::Model*> ptrs;
  for (size_t i = 0; i < sets.size(); ++i) {
    KW_RETURN_IF_ERROR(build_partial(a, sets[i].active, &models[i]));
    ptrs.push_back(&models[i]);
    out->labels.push_back(sets[i].label);
  }
  std::vector<std::map<std::string, ErrorStats>> st;
  KW_RETURN_IF_ERROR(ev.evaluate_tensors(ptrs, out->tensors, &st));
  // Drop layers whose output is not float (shapes, indices).
  std::vector<std::string> layers, tensors;
  for (size_t l = 0; l < out->tensors.size(); ++l)
    if (st[0].count(out->tensors[l]) && st[0][out->tensors[l]].count > 0) {
      layers.push_back(out->layers[l]);
      tensors.push_back(out->tensors[l]);
    }
  out->layers = layers;
  out->tensors = tensors;
  out->values.assign(sets.size(), {});
  for (size_t i = 0; i < sets.size(); ++i) {
    double sum = 0;
    for (size_t l = 0; l < tensors.size(); ++l) {
      const double v = st[i][tensors[l]].value(metric);
      sum += v;
      out->values[i].push_back(average_mode ? sum / (l + 1) : v);
    }
  }
  return Status::Ok();
}

std::string accumulated_table(const AccumulatedError& r) {
  std::ostringstream os;
  size_t w = 5;
  for (const auto& l : r.layers) w = std::max(w, l.size());
  char buf[64];
  os << "Layer" << std::string(w - 5 + 2, ' ');
  for (const auto& lb : r.labels) {
    std::snprintf(buf, sizeof buf, "%-16s", lb.c_str());
    os << buf;
  }
  os << "(" << metric_name(r.metric) << ")\n";
  for (size_t l = 0; l < r.layers.size(); ++l) {
    os << r.layers[l] << std::string(w - r.layers[l].size() + 2, ' ');
    for (size_t i = 0; i < r.values.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%-16.6g", r.values[i][l]);
      os << buf;
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace kaiwu::debug
