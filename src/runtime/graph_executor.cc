#include "runtime/graph_executor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <deque>
#include <set>
#include <thread>

#include "core/parallel.h"
#include "passes/passes.h"
#include "runtime/memory_plan.h"

namespace kaiwu::runtime {

namespace {

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

IoInfo io_info_of(const ir::ValueInfo& v) {
  IoInfo io;
  io.name = v.name;
  io.dtype = v.dtype;
  for (const auto& d : v.dims) {
    io.shape.push_back(d.is_static() ? d.value : -1);
    io.dim_names.push_back(d.is_static() ? "" : d.param);
  }
  if (v.dims.size() == 4) io.layout = "NCHW";
  return io;
}

std::string plan_key(const std::vector<const Tensor*>& feeds, const std::vector<std::string>& names) {
  std::string k;
  for (const Tensor* t : feeds) {
    k += dtype_name(t->dtype());
    k += shape_to_string(t->shape());
    k += ';';
  }
  k += '|';
  for (const auto& n : names) k += n + ';';
  return k;
}

}  // namespace

struct Step {
  size_t node = 0;
  int64_t calls = 0;
  double total_ms = 0;
  Shape profiled_shape;  // output 0's shape at the last profiled run (owned outputs are released afterwards)
  std::unique_ptr<ops::Kernel> kernel;
  std::vector<int> in_slots, out_slots;  // -1 for omitted inputs / unused outputs
};

// Slots hold every value a plan touches: constants, feeds, arena views, and owned outputs.
struct Plan {
  std::deque<Tensor> slots;  // a deque: pointers to slots stay valid while slots are added during planning
  std::vector<int> feed_slots;          // per graph input
  std::vector<int> result_slots;        // per requested output
  std::vector<bool> result_is_const;    // result comes from a constant slot (copy out)
  std::vector<Step> steps;
  std::vector<std::pair<int, ops::TensorDesc>> owned;  // slots allocated fresh per run (results)
  std::vector<std::pair<int, size_t>> arena_slots;      // slots that are views into the arena at an offset
  std::vector<ops::TensorDesc> arena_descs;
  std::shared_ptr<void> arena;
  size_t arena_bytes = 0;
};

GraphExecutor::~GraphExecutor() = default;

Status GraphExecutor::create(ir::Model model, const SessionOptions& options, std::unique_ptr<GraphExecutor>* out) {
  std::unique_ptr<GraphExecutor> ex(new GraphExecutor());
  KW_RETURN_IF_ERROR(ops::check_supported(model.graph));
  KW_RETURN_IF_ERROR(model.graph.topo_sort());
  KW_RETURN_IF_ERROR(model.graph.verify());
  // The public signature (inputs/outputs) is taken before optimization, which keeps it unchanged anyway.
  for (const auto& v : model.graph.inputs) ex->inputs_.push_back(io_info_of(v));
  for (const auto& v : model.graph.outputs) ex->outputs_.push_back(io_info_of(v));
  if (options.optimize) {
    passes::CpuOptions cpu;
    cpu.fuse = !options.reference_only;
    cpu.nhwc = !options.reference_only;
    KW_RETURN_IF_ERROR(passes::optimize_for_cpu(model, cpu).with_context("graph optimization"));
    if (std::getenv("KAIWU_DUMP_OPTIMIZED")) std::fprintf(stderr, "%s", ir::dump(model.graph).c_str());
    Status st = ops::check_supported(model.graph);
    if (!st.ok()) return internal_error("graph optimization produced " + st.message());
  }
  ex->model_ = std::move(model);
  ex->options_ = options;
  ex->num_threads_ = options.num_threads > 0 ? options.num_threads : default_threads();
  for (const auto& n : ex->model_.graph.nodes) ex->defs_.push_back(ops::find_op(n.domain, n.op_type));
  *out = std::move(ex);
  return Status::Ok();
}

Status GraphExecutor::check_feeds(const NamedTensors& feeds, std::vector<const Tensor*>* ordered) const {
  const auto& gin = model_.graph.inputs;
  ordered->assign(gin.size(), nullptr);
  for (const auto& [name, t] : feeds) {
    size_t i = 0;
    while (i < gin.size() && gin[i].name != name) ++i;
    if (i == gin.size()) {
      std::string valid;
      for (const auto& v : gin) valid += (valid.empty() ? "" : ", ") + v.name;
      return invalid_argument("'" + name + "' is not an input of the model (inputs: " + valid + ")");
    }
    if ((*ordered)[i]) return invalid_argument("input '" + name + "' is given twice");
    const ir::ValueInfo& v = gin[i];
    if (v.dtype != DType::kUndefined && t.dtype() != v.dtype)
      return invalid_argument("input '" + name + "' has dtype " + dtype_name(t.dtype()) + ", the model expects " +
                              dtype_name(v.dtype));
    if (v.has_shape) {
      bool ok = static_cast<size_t>(t.rank()) == v.dims.size();
      for (size_t d = 0; ok && d < v.dims.size(); ++d)
        if (v.dims[d].is_static() && v.dims[d].value != t.shape()[d]) ok = false;
      if (!ok)
        return invalid_argument("input '" + name + "' has shape " + shape_to_string(t.shape()) +
                                ", the model expects " + v.shape_string());
    }
    (*ordered)[i] = &t;
  }
  for (size_t i = 0; i < gin.size(); ++i)
    if (!(*ordered)[i] && !model_.graph.is_initializer(gin[i].name))
      return invalid_argument("input '" + gin[i].name + "' is missing");
  return Status::Ok();
}

Status GraphExecutor::build_plan(const std::vector<const Tensor*>& feeds, const std::vector<std::string>& names,
                                 bool values_known, std::unique_ptr<Plan>* out) const {
  const ir::Graph& g = model_.graph;
  auto plan = std::make_unique<Plan>();
  std::map<std::string, int> slot_of;
  std::vector<ops::TensorDesc> desc;   // per slot
  std::vector<bool> is_const;          // per slot: value known at prepare time
  auto new_slot = [&](const std::string& name, ops::TensorDesc d, bool c) {
    int s = static_cast<int>(plan->slots.size());
    plan->slots.emplace_back();
    desc.push_back(std::move(d));
    is_const.push_back(c);
    slot_of[name] = s;
    return s;
  };
  for (const auto& [name, t] : g.initializers) {
    int s = new_slot(name, {t.dtype(), t.shape()}, true);
    plan->slots[s] = t;  // shares memory with the model
  }
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Tensor* t = feeds[i];
    if (!t) {  // an input with an initializer default
      plan->feed_slots.push_back(slot_of[g.inputs[i].name]);
      continue;
    }
    int s = new_slot(g.inputs[i].name, {t->dtype(), t->shape()}, values_known);
    if (values_known) plan->slots[s] = *t;
    plan->feed_slots.push_back(s);
  }
  // Which nodes are needed for the requested outputs.
  std::set<std::string> wanted(names.begin(), names.end());
  std::vector<bool> needed(g.nodes.size(), false);
  {
    std::set<std::string> need = wanted;
    for (size_t k = g.nodes.size(); k-- > 0;) {
      const ir::Node& n = g.nodes[k];
      bool use = false;
      for (const auto& o : n.outputs)
        if (!o.empty() && need.count(o)) use = true;
      if (!use) continue;
      needed[k] = true;
      for (const auto& in : n.inputs)
        if (!in.empty()) need.insert(in);
    }
  }
  ::kaiwu::set_num_threads(num_threads_);
  std::vector<int> last_use;  // per slot, step index of last read
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (!needed[k]) continue;
    const ir::Node& n = g.nodes[k];
    std::vector<ops::TensorDesc> in_desc;
    std::vector<const Tensor*> in_val;
    std::vector<int> in_slots;
    bool all_const = true;
    for (const auto& in : n.inputs) {
      if (in.empty()) {
        in_desc.emplace_back();
        in_val.push_back(nullptr);
        in_slots.push_back(-1);
        continue;
      }
      int s = slot_of.at(in);
      in_slots.push_back(s);
      in_desc.push_back(desc[s]);
      in_val.push_back(is_const[s] ? &plan->slots[s] : nullptr);
      if (!is_const[s]) all_const = false;
    }
    // Shape-only ops (Shape) fold as soon as shapes are concrete: their input's data is never read.
    std::vector<Tensor> shape_stubs;
    if (defs_[k]->shape_only && !all_const) {
      ops::stand_in_shape_values(in_desc, &shape_stubs, &in_val);
      all_const = true;
    }
    ops::InferContext ctx(n, model_.opset(), in_desc, in_val);
    Status st = defs_[k]->infer(ctx);
    if (!st.ok()) {
      // kFailedPrecondition tells run() to switch to planning with values (dynamic shapes); nothing else may use it.
      if (ctx.needs_value() && !values_known) return failed_precondition(st.message());
      return Status(st.code() == StatusCode::kFailedPrecondition ? StatusCode::kInvalidArgument : st.code(),
                    st.message());
    }
    for (size_t o = 0; o < n.outputs.size(); ++o)
      if (!n.outputs[o].empty() && ctx.outputs[o].dtype == DType::kUndefined)
        return internal_error(n.describe() + ": inference left output " + std::to_string(o) + " untyped");
    ops::KernelInit init{n, model_.opset(), in_desc, ctx.outputs, in_val, num_threads_, options_.reference_only};
    std::unique_ptr<ops::Kernel> kernel;
    KW_RETURN_IF_ERROR(defs_[k]->create(init, &kernel));
    std::vector<int> out_slots;
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      // Omitted optional outputs still get a (scratch) slot, so kernels always see every output.
      std::string oname = n.outputs[o].empty() ? "\x01omitted:" + std::to_string(k) + ":" + std::to_string(o) : n.outputs[o];
      ops::TensorDesc d = ctx.outputs[o];
      if (d.dtype == DType::kUndefined) d.dtype = DType::kU8;
      out_slots.push_back(new_slot(oname, d, all_const));
    }
    if (all_const) {  // fold now
      std::vector<const Tensor*> ins;
      std::vector<Tensor*> outs;
      for (size_t i = 0; i < in_slots.size(); ++i) ins.push_back(in_slots[i] < 0 ? nullptr : in_val[i]);
      for (int s : out_slots) {
        plan->slots[s] = Tensor::zeros(desc[s].dtype, desc[s].shape);
        outs.push_back(&plan->slots[s]);
      }
      KW_RETURN_IF_ERROR(kernel->run(ins, outs).with_context(n.describe()));
      continue;
    }
    int step_index = static_cast<int>(plan->steps.size());
    last_use.resize(plan->slots.size(), -1);
    for (int s : in_slots)
      if (s >= 0) last_use[s] = step_index;
    Step step;
    step.node = k;
    step.kernel = std::move(kernel);
    step.in_slots = std::move(in_slots);
    step.out_slots = std::move(out_slots);
    plan->steps.push_back(std::move(step));
  }
  last_use.resize(plan->slots.size(), -1);
  // Results.
  std::set<int> result_set;
  for (const auto& name : names) {
    auto it = slot_of.find(name);
    if (it == slot_of.end()) return invalid_argument("'" + name + "' is not a value of the model");
    plan->result_slots.push_back(it->second);
    plan->result_is_const.push_back(is_const[it->second]);
    result_set.insert(it->second);
  }
  // Memory: outputs of steps go to the arena unless they are results (owned, fresh per run).
  std::vector<BufferRequest> reqs;
  std::vector<int> req_slot;
  for (size_t si = 0; si < plan->steps.size(); ++si) {
    for (int s : plan->steps[si].out_slots) {
      if (result_set.count(s)) {
        plan->owned.push_back({s, desc[s]});
        continue;
      }
      size_t bytes = static_cast<size_t>(shape_numel(desc[s].shape)) * dtype_size(desc[s].dtype);
      int last = last_use[s] < 0 ? static_cast<int>(si) : last_use[s];
      reqs.push_back({bytes, static_cast<int>(si), last});
      req_slot.push_back(s);
    }
  }
  std::vector<size_t> offsets;
  plan->arena_bytes = plan_memory(reqs, &offsets);
  if (plan->arena_bytes) {
    void* p = std::aligned_alloc(64, plan->arena_bytes);
    if (!p) return internal_error("cannot allocate " + std::to_string(plan->arena_bytes) + " bytes of activations");
    plan->arena = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  for (size_t r = 0; r < reqs.size(); ++r) {
    int s = req_slot[r];
    plan->slots[s] = Tensor::view(desc[s].dtype, desc[s].shape, static_cast<uint8_t*>(plan->arena.get()) + offsets[r]);
  }
  *out = std::move(plan);
  return Status::Ok();
}

Status GraphExecutor::run(const NamedTensors& feeds, const std::vector<std::string>& req_names,
                          std::vector<Tensor>* results) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Tensor*> ordered;
  KW_RETURN_IF_ERROR(check_feeds(feeds, &ordered));
  std::vector<std::string> names = req_names;
  if (names.empty())
    for (const auto& o : model_.graph.outputs) names.push_back(o.name);
  ::kaiwu::set_num_threads(num_threads_);
  // Planning with values (shapes depend on input values): every node runs during planning.
  auto run_dynamic = [&]() -> Status {
    std::unique_ptr<Plan> plan;
    KW_RETURN_IF_ERROR(build_plan(ordered, names, true, &plan));
    results->clear();
    for (int s : plan->result_slots) results->push_back(plan->slots[s].owns_memory() ? plan->slots[s] : plan->slots[s].clone());
    return Status::Ok();
  };
  if (dynamic_) return run_dynamic();
  std::string key = plan_key(ordered, names);
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    std::unique_ptr<Plan> plan;
    Status st = build_plan(ordered, names, false, &plan);
    if (st.code() == StatusCode::kFailedPrecondition) {  // shapes depend on input values: plan at every run
      dynamic_ = true;
      return run_dynamic();
    }
    KW_RETURN_IF_ERROR(st);
    if (plans_.size() > 8) {
      plans_.clear();
      last_plan_ = nullptr;
    }
    it = plans_.emplace(key, std::move(plan)).first;
  }
  Plan& plan = *it->second;
  for (size_t i = 0; i < ordered.size(); ++i)
    if (ordered[i]) plan.slots[plan.feed_slots[i]] = Tensor::view(ordered[i]->dtype(), ordered[i]->shape(),
                                                                   const_cast<void*>(ordered[i]->raw()));
  for (const auto& [s, d] : plan.owned) plan.slots[s] = Tensor::empty(d.dtype, d.shape);
  std::vector<const Tensor*> ins;
  std::vector<Tensor*> outs;
  for (Step& step : plan.steps) {
    ins.clear();
    outs.clear();
    for (int s : step.in_slots) ins.push_back(s < 0 ? nullptr : &plan.slots[s]);
    for (int s : step.out_slots) outs.push_back(&plan.slots[s]);
    if (profiling_) {
      auto t0 = std::chrono::steady_clock::now();
      Status st = step.kernel->run(ins, outs);
      if (!st.ok()) return st.with_context(model_.graph.nodes[step.node].describe());
      step.total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ++step.calls;
      if (!outs.empty()) step.profiled_shape = outs[0]->shape();
      continue;
    }
    Status st = step.kernel->run(ins, outs);
    if (!st.ok()) return st.with_context(model_.graph.nodes[step.node].describe());
  }
  last_plan_ = &plan;
  results->clear();
  for (size_t r = 0; r < plan.result_slots.size(); ++r) {
    const Tensor& t = plan.slots[plan.result_slots[r]];
    results->push_back(plan.result_is_const[r] || !t.owns_memory() ? t.clone() : t);
  }
  for (const auto& [s, d] : plan.owned) plan.slots[s] = Tensor();
  for (size_t i = 0; i < ordered.size(); ++i)
    if (ordered[i]) plan.slots[plan.feed_slots[i]] = Tensor();
  return Status::Ok();
}

}  // namespace kaiwu::runtime

namespace kaiwu::runtime {

std::vector<NodeProfile> GraphExecutor::profile() const {
  std::vector<NodeProfile> v;
  if (!last_plan_) return v;
  for (const Step& s : last_plan_->steps) {
    const ir::Node& n = model_.graph.nodes[s.node];
    NodeProfile p;
    p.node = n.name;
    p.op_type = (n.domain.empty() ? "" : n.domain + ".") + n.op_type;
    p.impl = s.kernel->impl_name();
    if (!s.out_slots.empty()) p.output_shape = last_plan_->slots[s.out_slots[0]].shape();
    if (p.output_shape.empty()) p.output_shape = s.profiled_shape;
    p.calls = s.calls;
    p.total_ms = s.total_ms;
    v.push_back(std::move(p));
  }
  return v;
}

void GraphExecutor::reset_profile() {
  for (auto& kv : plans_)
    for (Step& s : kv.second->steps) {
      s.calls = 0;
      s.total_ms = 0;
    }
}

}  // namespace kaiwu::runtime
