#include "kaiwu/session.h"

#include "deploy/deployable.h"
#include "frontend/onnx/onnx_import.h"
#include "kernels/cpu_info.h"
#include "runtime/graph_executor.h"

namespace kaiwu {

Session::Session(std::unique_ptr<runtime::GraphExecutor> exec) : exec_(std::move(exec)) {}
Session::~Session() = default;

Status Session::open(const std::string& path, const SessionOptions& options, std::unique_ptr<Session>* out) {
  ir::Model model;
  SessionOptions opts = options;
  if (deploy::is_deployable_file(path)) {
    // A deployable model holds the graph already optimized for its target: run it as it is.
    deploy::DeployInfo info;
    KW_RETURN_IF_ERROR(deploy::read_deployable(path, &model, &info));
    KW_RETURN_IF_ERROR(deploy::check_target(info, kernels::host_target(), path));
    opts.optimize = false;
  } else {
    KW_RETURN_IF_ERROR(frontend::load_onnx(path, &model));
  }
  std::unique_ptr<runtime::GraphExecutor> exec;
  KW_RETURN_IF_ERROR(runtime::GraphExecutor::create(std::move(model), opts, &exec).with_context(path));
  *out = std::make_unique<Session>(std::move(exec));
  return Status::Ok();
}

const std::vector<IoInfo>& Session::inputs() const { return exec_->inputs(); }
const std::vector<IoInfo>& Session::outputs() const { return exec_->outputs(); }
Status Session::run(const NamedTensors& feeds, const std::vector<std::string>& names, std::vector<Tensor>* results) {
  return exec_->run(feeds, names, results);
}
void Session::set_num_threads(int n) { exec_->set_num_threads(n); }
int Session::num_threads() const { return exec_->num_threads(); }
void Session::enable_profiling(bool on) { exec_->enable_profiling(on); }
std::vector<NodeProfile> Session::profile() const { return exec_->profile(); }
void Session::reset_profile() { exec_->reset_profile(); }

}  // namespace kaiwu
