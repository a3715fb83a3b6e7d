// kaiwu._kaiwu: the pybind11 extension behind the `kaiwu` Python package (python/kaiwu/__init__.py wraps it).
//
// Arrays cross the boundary through the Python buffer protocol (inputs) and numpy.empty + memcpy (outputs), not
// pybind11/numpy.h: that header's dtype layout assumptions differ between numpy 1.x and 2.x for pybind11 < 2.12
// (Debian ships 2.10), while the buffer protocol is stable. Every run() result is a fresh numpy copy.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "debug/amp.h"
#include "debug/debugger.h"
#include "deploy/deployable.h"
#include "kaiwu/compile.h"
#include "kaiwu/session.h"
#include "kaiwu/version.h"

namespace py = pybind11;

namespace kaiwu::python {
namespace {

// Raises the Python exception matching a failed Status: ValueError for bad arguments, RuntimeError otherwise.
void throw_if_error(const Status& st) {
  if (st.ok()) return;
  if (st.code() == StatusCode::kInvalidArgument) throw py::value_error(st.to_string());
  throw std::runtime_error(st.to_string());
}

// numpy's dtype name of a Kaiwu element type ("float32", "int8", "bool", ...).
const char* numpy_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kF16: return "float16";
    case DType::kF64: return "float64";
    case DType::kI8: return "int8";
    case DType::kU8: return "uint8";
    case DType::kI16: return "int16";
    case DType::kU16: return "uint16";
    case DType::kI32: return "int32";
    case DType::kU32: return "uint32";
    case DType::kI64: return "int64";
    case DType::kU64: return "uint64";
    case DType::kBool: return "bool";
    default: return "";
  }
}

py::dict io_dict(const IoInfo& io) {
  py::dict d;
  d["name"] = io.name;
  d["dtype"] = std::string(numpy_name(io.dtype));
  d["shape"] = io.shape;
  d["dim_names"] = io.dim_names;
  d["layout"] = io.layout;
  return d;
}

// A fresh numpy array holding a copy of `t` (GIL held).
py::object to_numpy(const Tensor& t) {
  const char* name = numpy_name(t.dtype());
  if (!*name) throw std::runtime_error(std::string("output of unsupported element type ") + dtype_name(t.dtype()));
  py::object np = py::module_::import("numpy");
  py::tuple shape(t.shape().size());
  for (size_t i = 0; i < t.shape().size(); ++i) shape[i] = py::int_(t.shape()[i]);
  py::object arr = np.attr("empty")(shape, py::arg("dtype") = name);
  py::buffer_info buf = py::reinterpret_borrow<py::buffer>(arr).request(true);
  if (static_cast<size_t>(buf.size * buf.itemsize) != t.nbytes())
    throw std::runtime_error("internal: numpy array size does not match the tensor");
  if (t.nbytes()) std::memcpy(buf.ptr, t.raw(), t.nbytes());
  return arr;
}

// A loaded model: the Session plus what the file says about itself.
struct PySession {
  std::unique_ptr<Session> session;
  std::string path;
  bool deployable = false;
  deploy::DeployInfo info;

  PySession(const std::string& p, int num_threads, bool reference_only, bool optimize) : path(p) {
    SessionOptions opt;
    opt.num_threads = num_threads;
    opt.reference_only = reference_only;
    opt.optimize = optimize;
    Status st;
    {
      py::gil_scoped_release release;
      st = Session::open(path, opt, &session);
      if (st.ok() && deploy::is_deployable_file(path)) {
        // Read again for the metadata (Session keeps only the graph); the mapping is cheap.
        ir::Model m;
        st = deploy::read_deployable(path, &m, &info);
        deployable = st.ok();
      }
    }
    throw_if_error(st);
  }

  py::list ios(const std::vector<IoInfo>& v) const {
    py::list l;
    for (const auto& io : v) l.append(io_dict(io));
    return l;
  }

  // feeds: (name, contiguous buffer, numpy dtype name) triples; names: outputs wanted (empty: all).
  py::list run(const std::vector<std::string>& names, const std::vector<std::tuple<std::string, py::buffer, std::string>>& feeds) {
    std::vector<py::buffer_info> keep;  // keeps the input memory pinned while the GIL is released
    keep.reserve(feeds.size());
    NamedTensors tensors;
    for (const auto& [name, buffer, dtype] : feeds) {
      DType t = dtype_from_name(dtype);
      if (t == DType::kUndefined) throw py::value_error("input '" + name + "': unsupported dtype " + dtype);
      keep.push_back(buffer.request());
      const py::buffer_info& b = keep.back();
      if (static_cast<size_t>(b.itemsize) != dtype_size(t))
        throw py::value_error("input '" + name + "': item size does not match dtype " + dtype);
      Shape shape(b.shape.begin(), b.shape.end());
      int64_t stride = b.itemsize;
      for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
        if (shape[i] != 1 && b.strides[i] != stride) throw py::value_error("input '" + name + "' is not C-contiguous");
        stride *= shape[i];
      }
      tensors.emplace_back(name, Tensor::view(t, shape, b.ptr));
    }
    std::vector<Tensor> results;
    Status st;
    {
      py::gil_scoped_release release;
      st = session->run(tensors, names, &results);
    }
    throw_if_error(st);
    py::list out;
    for (const auto& r : results) out.append(to_numpy(r));
    return out;
  }

  py::dict deploy_info() const {
    py::dict d;
    if (!deployable) return d;
    d["tool_version"] = info.tool_version;
    d["target"] = info.target;
    d["description"] = info.description;
    return d;
  }
};

py::dict compile(const std::string& yaml_path, bool quiet) {
  CompileOptions opt;
  opt.echo = !quiet;
  opt.progress = !quiet;
  CompileResult r;
  Status st;
  {
    py::gil_scoped_release release;
    st = compile_model(yaml_path, opt, &r);
  }
  throw_if_error(st);
  py::dict d;
  d["working_dir"] = r.working_dir;
  d["artifacts"] = r.artifacts;
  d["calibration_method"] = r.calibration_method;
  d["output_cosine"] = r.output_cosine;
  d["nodes_int8"] = r.nodes_int8;
  d["nodes_int16"] = r.nodes_int16;
  d["nodes_float"] = r.nodes_float;
  d["seconds"] = r.seconds;
  return d;
}

// ---- precision debugger (kaiwu.debug) ----------------------------------------------------------------------------

debug::SessionSpec make_spec(const std::string& model, const std::string& float_model, const std::string& working_dir,
                             bool calibrated, const std::string& data_dir, size_t data_num,
                             const std::vector<std::string>& outputs, int threads) {
  debug::SessionSpec spec;
  spec.model = model;
  spec.float_model = float_model;
  spec.working_dir = working_dir;
  spec.calibrated = calibrated;
  spec.data_dir = data_dir;
  spec.data_num = data_num;
  spec.outputs = outputs;
  spec.threads = threads;
  return spec;
}

std::unique_ptr<debug::DebugSession> open_debug(const debug::SessionSpec& spec) {
  std::unique_ptr<debug::DebugSession> s;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::open_debug_session(spec, &s);
  }
  throw_if_error(st);
  return s;
}

std::vector<debug::Metric> metrics_of(const std::vector<std::string>& names) {
  std::vector<debug::Metric> out;
  for (const auto& n : names) {
    debug::Metric m;
    throw_if_error(debug::parse_metric(n, &m));
    out.push_back(m);
  }
  return out;
}

py::dict debug_sensitivity(const debug::SessionSpec& spec, const std::vector<std::string>& metrics,
                           const std::string& node_type, bool all_but_one, const std::vector<std::string>& interested) {
  auto s = open_debug(spec);
  debug::SensitivityOptions o;
  o.metrics = metrics_of(metrics);
  o.node_type = node_type;
  o.all_but_one = all_but_one;
  o.interested = interested;
  std::vector<debug::SensitivityRow> rows;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::node_sensitivity(s->analysis, *s->ev, o, &rows);
  }
  throw_if_error(st);
  py::list names, ops, values;
  for (const auto& r : rows) {
    names.append(r.name);
    ops.append(r.op_type);
    values.append(py::cast(r.values));
  }
  py::dict d;
  d["names"] = names;
  d["op_types"] = ops;
  d["values"] = values;
  d["table"] = debug::sensitivity_table(rows, o.metrics, node_type);
  d["warnings"] = s->analysis.warnings;
  return d;
}

py::dict debug_accumulate(const debug::SessionSpec& spec, const std::string& metric,
                          const std::vector<std::vector<std::string>>& quantize_sets,
                          const std::vector<std::string>& labels, bool average) {
  auto s = open_debug(spec);
  debug::Metric m;
  throw_if_error(debug::parse_metric(metric, &m));
  const debug::QdqAnalysis& a = s->analysis;
  std::vector<debug::QuantSetSpec> sets;
  for (size_t i = 0; i < quantize_sets.size(); ++i) {
    const auto& set = quantize_sets[i];
    debug::QuantSetSpec q{i < labels.size() ? labels[i] : "set_" + std::to_string(i), debug::mask_none(a)};
    for (const auto& n : set) {
      if (n == "weight" || n == "activation") {
        std::vector<bool> k = debug::mask_kind(a, n == "weight");
        for (size_t e = 0; e < k.size(); ++e) q.active[e] = q.active[e] || k[e];
      } else if (n == "all") {
        q.active = debug::mask_all(a);
      } else if (n.size() > 1 && n[0] == '!') {  // "!node": everything quantized but this node
        auto e = a.edges_of("node", n.substr(1));
        if (e.empty()) throw py::value_error("non_quantize_node: no quantized node named '" + n.substr(1) + "'");
        if (std::find(q.active.begin(), q.active.end(), true) == q.active.end()) q.active = debug::mask_all(a);
        for (size_t j : e) q.active[j] = false;
      } else {
        auto e = a.edges_of("node", n);
        if (e.empty()) throw py::value_error("quantize_node: no quantized node named '" + n + "'");
        for (size_t j : e) q.active[j] = true;
      }
    }
    sets.push_back(q);
  }
  if (sets.empty()) sets = debug::standard_sets(a);
  debug::AccumulatedError r;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::accumulate_error(a, *s->ev, sets, m, average, &r);
  }
  throw_if_error(st);
  py::dict d;
  d["layers"] = r.layers;
  d["tensors"] = r.tensors;
  d["labels"] = r.labels;
  d["values"] = r.values;
  d["table"] = debug::accumulated_table(r);
  d["svg"] = debug::accumulated_svg(r);
  return d;
}

py::list debug_distribution(const debug::SessionSpec& spec, const std::vector<std::string>& nodes, int bins) {
  auto s = open_debug(spec);
  std::vector<debug::NodeDistribution> ds;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::distributions(s->analysis, *s->ev, nodes, bins, &ds);
  }
  throw_if_error(st);
  py::list out;
  for (const auto& x : ds) {
    py::dict d;
    d["node"] = x.node;
    d["op_type"] = x.op_type;
    d["tensor"] = x.tensor;
    d["range"] = py::make_tuple(x.act_float.lo, x.act_float.hi);
    d["float_hist"] = x.act_float.counts;
    d["quant_hist"] = x.act_quant.counts;
    d["min"] = x.act_min;
    d["max"] = x.act_max;
    d["quantized"] = x.act_quantized;
    d["scale"] = x.act_scale;
    d["zero_point"] = x.act_zero_point;
    d["channel_min"] = x.act_cmin;
    d["channel_max"] = x.act_cmax;
    d["weight"] = x.weight;
    if (x.has_weight) {
      d["weight_range"] = py::make_tuple(x.w_float.lo, x.w_float.hi);
      d["weight_float_hist"] = x.w_float.counts;
      d["weight_quant_hist"] = x.w_quant.counts;
      d["weight_channel_min"] = x.w_cmin;
      d["weight_channel_max"] = x.w_cmax;
    }
    d["text"] = debug::distribution_text(x);
    d["svg"] = debug::distribution_svg(x);
    d["channel_svg"] = debug::channel_range_svg(x);
    out.append(d);
  }
  return out;
}

std::string debug_runall(const debug::SessionSpec& spec, const std::string& save_dir,
                         const std::vector<std::string>& metrics, int top, bool all_but_one) {
  auto s = open_debug(spec);
  debug::RunallOptions o;
  o.metrics = metrics_of(metrics);
  o.top = top;
  o.all_but_one = all_but_one;
  std::string html;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::runall(s->analysis, *s->ev, save_dir, o, &html);
  }
  throw_if_error(st);
  return html;
}

py::dict debug_auto_mp(const std::string& config, const std::string& working_dir, const std::string& data_dir,
                       const std::string& metric, double target, double binarize, size_t data_num, int max_raises,
                       const std::string& out_dir, int threads, bool verbose) {
  debug::AmpOptions o;
  o.config = config;
  o.working_dir = working_dir;
  o.data_dir = data_dir;
  o.metric = metric;
  o.target = target;
  o.binarize = static_cast<float>(binarize);
  if (data_num) o.data_num = data_num;
  o.max_raises = max_raises;
  o.out_dir = out_dir;
  o.threads = threads;
  debug::AmpResult r;
  Status st;
  {
    py::gil_scoped_release release;
    st = debug::auto_mixed_precision(o, &r, [verbose](const std::string& m) {
      if (verbose) std::fprintf(stderr, "%s\n", m.c_str());
    });
  }
  throw_if_error(st);
  py::dict d;
  d["metric"] = metric;
  d["before"] = r.before;
  d["after"] = r.after;
  d["latency_before_ms"] = r.latency_before_ms;
  d["latency_after_ms"] = r.latency_after_ms;
  d["reached"] = r.reached;
  d["samples"] = r.samples;
  d["validation"] = r.validation;  // NaN without validation samples
  d["validation_samples"] = r.validation_samples;
  py::list steps;
  for (const auto& s : r.final) {
    py::dict x;
    x["node"] = s.node;
    x["op_type"] = s.op_type;
    x["qtype"] = s.qtype;
    x["node_info"] = s.yaml_node;
    x["value"] = s.value;
    x["latency_ms"] = s.latency_ms;
    steps.append(x);
  }
  d["raised"] = steps;
  d["node_info_yaml"] = r.node_info_yaml;
  d["yaml_path"] = r.yaml_path;
  d["qdq_path"] = r.qdq_path;
  d["fixed_path"] = r.fixed_path;
  d["kwm_path"] = r.kwm_path;
  d["report"] = r.report;
  return d;
}

}  // namespace
}  // namespace kaiwu::python

PYBIND11_MODULE(_kaiwu, m) {
  using kaiwu::python::PySession;
  m.doc() = "Kaiwu native extension (use the `kaiwu` package, not this module directly)";
  m.attr("__version__") = KAIWU_VERSION_STRING;
  py::class_<PySession>(m, "_Session")
      .def(py::init<const std::string&, int, bool, bool>(), py::arg("path"), py::arg("num_threads") = 0,
           py::arg("reference_only") = false, py::arg("optimize") = true)
      .def_readonly("path", &PySession::path)
      .def_readonly("deployable", &PySession::deployable)
      .def("inputs", [](const PySession& s) { return s.ios(s.session->inputs()); })
      .def("outputs", [](const PySession& s) { return s.ios(s.session->outputs()); })
      .def("deploy_info", &PySession::deploy_info)
      .def("run", &PySession::run, py::arg("names"), py::arg("feeds"))
      .def_property(
          "num_threads", [](const PySession& s) { return s.session->num_threads(); },
          [](PySession& s, int n) { s.session->set_num_threads(n); });
  m.def("compile", &kaiwu::python::compile, py::arg("yaml_path"), py::arg("quiet") = true);
  m.def("_debug_spec", &kaiwu::python::make_spec);
  py::class_<kaiwu::debug::SessionSpec>(m, "_DebugSpec");
  m.def("_debug_sensitivity", &kaiwu::python::debug_sensitivity);
  m.def("_debug_accumulate", &kaiwu::python::debug_accumulate);
  m.def("_debug_distribution", &kaiwu::python::debug_distribution);
  m.def("_debug_runall", &kaiwu::python::debug_runall);
  m.def("_debug_auto_mp", &kaiwu::python::debug_auto_mp);
}
