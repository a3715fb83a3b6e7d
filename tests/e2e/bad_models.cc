#include "e2e/bad_models.h"

#include <onnx/onnx_pb.h>

#include <random>
#include <stdexcept>

#include "core/file_util.h"
#include "e2e/e2e_util.h"
#include "test_util.h"

namespace kaiwu::e2e {
namespace {

std::string fmnist_bytes() {
  std::string bytes;
  Status st = read_file(shared_dir() + "/models/fmnist/fmnist_cnn.onnx", &bytes);
  if (!st.ok()) throw std::runtime_error(st.to_string());
  return bytes;
}

void write_or_throw(const std::string& path, const std::string& bytes) {
  Status st = write_bytes(path, bytes);
  if (!st.ok()) throw std::runtime_error(st.to_string());
}

void set_tensor_type(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

// A model with float input x[1,4], output y[1,4] and no nodes yet.
onnx::ModelProto small_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("kaiwu-e2e-test");
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("bad");
  set_tensor_type(g->add_input(), "x", {1, 4});
  set_tensor_type(g->add_output(), "y", {1, 4});
  return m;
}

void add_node(onnx::ModelProto* m, const std::string& op, const std::string& name, std::vector<std::string> ins,
              std::vector<std::string> outs) {
  auto* n = m->mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : ins) n->add_input(i);
  for (auto& o : outs) n->add_output(o);
}

std::string save(const onnx::ModelProto& m, const std::string& path) {
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw std::runtime_error("serializing a test model failed");
  write_or_throw(path, bytes);
  return path;
}

}  // namespace

std::string write_truncated_model(const std::string& dir) {
  std::string b = fmnist_bytes();
  std::string path = dir + "/truncated.onnx";
  write_or_throw(path, b.substr(0, b.size() / 2));
  return path;
}

std::string write_garbage_model(const std::string& dir) {
  std::mt19937 rng(12345);
  std::string b(4096, '\0');
  for (auto& c : b) c = static_cast<char>(rng() & 0xff);
  std::string path = dir + "/garbage.onnx";
  write_or_throw(path, b);
  return path;
}

std::string write_empty_model(const std::string& dir) {
  std::string path = dir + "/empty.onnx";
  write_or_throw(path, "");
  return path;
}

std::string write_missing_initializer_model(const std::string& dir, std::string* node_name, std::string* init_name) {
  onnx::ModelProto m;
  if (!m.ParseFromString(fmnist_bytes())) throw std::runtime_error("cannot parse fmnist_cnn.onnx");
  auto* g = m.mutable_graph();
  for (const auto& n : g->node())
    if (n.op_type() == "Conv") {
      *node_name = n.name();
      *init_name = n.input(1);
      break;
    }
  auto* inits = g->mutable_initializer();
  for (int i = 0; i < inits->size(); ++i)
    if (inits->Get(i).name() == *init_name) {
      inits->DeleteSubrange(i, 1);
      break;
    }
  return save(m, dir + "/missing_initializer.onnx");
}

std::string write_cycle_model(const std::string& dir) {
  onnx::ModelProto m = small_model();
  add_node(&m, "Add", "cyc_add", {"x", "t2"}, {"t1"});
  add_node(&m, "Relu", "cyc_relu", {"t1"}, {"t2"});
  add_node(&m, "Relu", "out_relu", {"t1"}, {"y"});
  return save(m, dir + "/cycle.onnx");
}

std::string write_unsupported_model(const std::string& dir) {
  onnx::ModelProto m = small_model();
  add_node(&m, "FooOp", "foo_a", {"x"}, {"a"});
  add_node(&m, "BarOp", "bar_b", {"a"}, {"b"});
  add_node(&m, "FooOp", "foo_c", {"b"}, {"y"});
  return save(m, dir + "/unsupported.onnx");
}

}  // namespace kaiwu::e2e
