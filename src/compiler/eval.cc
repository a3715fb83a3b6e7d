#include "compiler/eval.h"

#include <cmath>
#include <set>

namespace kaiwu::compiler {

void Cosine::add(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel() || a.dtype() != DType::kF32 || b.dtype() != DType::kF32) return;
  const float *x = a.data<float>(), *y = b.data<float>();
  for (int64_t i = 0; i < a.numel(); ++i) {
    dot += double(x[i]) * y[i];
    na += double(x[i]) * x[i];
    nb += double(y[i]) * y[i];
  }
  ++samples;
}

double Cosine::value() const {
  if (na == 0 && nb == 0) return 1.0;
  if (na == 0 || nb == 0) return 0.0;
  return dot / std::sqrt(na * nb);
}

Status compare_models(runtime::GraphExecutor& ref, const std::vector<ModelUnderTest>& tests,
                      const calib::CalibrationDataset& data, const std::vector<size_t>& samples,
                      std::vector<Cosines>* out, const std::function<void(size_t, size_t)>& progress) {
  out->assign(tests.size(), Cosines());
  // The reference computes the union of what the models under test compare.
  std::vector<std::string> ref_names;
  std::map<std::string, size_t> ref_index;
  for (const auto& t : tests)
    for (const auto& n : t.names)
      if (ref_index.emplace(n, ref_names.size()).second) ref_names.push_back(n);
  size_t done = 0;
  for (size_t i : samples) {
    NamedTensors feeds;
    KW_RETURN_IF_ERROR(data.sample(i, &feeds));
    std::vector<Tensor> a;
    KW_RETURN_IF_ERROR(ref.run(feeds, ref_names, &a).with_context("float model, sample " + std::to_string(i)));
    for (size_t m = 0; m < tests.size(); ++m) {
      std::vector<Tensor> b;
      KW_RETURN_IF_ERROR(tests[m].exec->run(feeds, tests[m].names, &b)
                             .with_context(tests[m].label + ", sample " + std::to_string(i)));
      for (size_t k = 0; k < tests[m].names.size(); ++k)
        (*out)[m][tests[m].names[k]].add(a[ref_index[tests[m].names[k]]], b[k]);
    }
    if (progress) progress(++done, samples.size());
  }
  return Status::Ok();
}

std::vector<std::string> tensors_in(const ir::Model& m, const std::vector<std::string>& wanted) {
  std::set<std::string> have;
  for (const auto& in : m.graph.inputs) have.insert(in.name);
  for (const auto& n : m.graph.nodes)
    for (const auto& o : n.outputs) have.insert(o);
  std::vector<std::string> r;
  for (const auto& w : wanted)
    if (have.count(w)) r.push_back(w);
  return r;
}

}  // namespace kaiwu::compiler
