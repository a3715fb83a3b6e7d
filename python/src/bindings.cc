// kaiwu._kaiwu: the pybind11 extension behind the `kaiwu` Python package (python/kaiwu/__init__.py wraps it).
//
// Arrays cross the boundary through the Python buffer protocol (inputs) and numpy.empty + memcpy (outputs), not
// pybind11/numpy.h: that header's dtype layout assumptions differ between numpy 1.x and 2.x for pybind11 < 2.12
// (Debian ships 2.10), while the buffer protocol is stable. Every run() result is a fresh numpy copy.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

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
}
