#include "calib/calib_table.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>

#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace kaiwu::calib {
namespace {

using nlohmann::json;

void mix(uint64_t* h, const std::string& s) {
  for (unsigned char c : s) {
    *h ^= c;
    *h *= 0x100000001b3ull;
  }
  *h ^= 0xff;  // separator
  *h *= 0x100000001b3ull;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

Status get_float(const json& obj, const std::string& key, const std::string& where, float* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return invalid_argument(where + ": missing key '" + key + "'");
  if (!it->is_number()) return invalid_argument(where + ": key '" + key + "' must be a number");
  double v = it->get<double>();
  if (!std::isfinite(v)) return invalid_argument(where + ": key '" + key + "' is not finite");
  *out = static_cast<float>(v);
  return Status::Ok();
}

Status get_floats(const json& obj, const std::string& key, const std::string& where, std::vector<float>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_array()) return invalid_argument(where + ": key '" + key + "' must be an array of numbers");
  for (const auto& e : *it) {
    if (!e.is_number()) return invalid_argument(where + ": key '" + key + "' must be an array of numbers");
    double v = e.get<double>();
    if (!std::isfinite(v)) return invalid_argument(where + ": key '" + key + "' holds a non-finite value");
    out->push_back(static_cast<float>(v));
  }
  return Status::Ok();
}

}  // namespace

std::string graph_fingerprint(const ir::Graph& g) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& in : g.inputs) {
    mix(&h, "in");
    mix(&h, in.name);
    mix(&h, dtype_name(in.dtype));
    mix(&h, in.shape_string());
  }
  for (const auto& n : g.nodes) {
    mix(&h, "node");
    mix(&h, n.op_type);
    mix(&h, n.domain);
    mix(&h, n.name);
    for (const auto& i : n.inputs) mix(&h, i);
    mix(&h, "->");
    for (const auto& o : n.outputs) mix(&h, o);
  }
  for (const auto& out : g.outputs) {
    mix(&h, "out");
    mix(&h, out.name);
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, h);
  return std::string("fnv1a64:") + buf;
}

Status save_calibration(const std::string& path, const CalibrationTable& t) {
  json tensors = json::object();
  for (const auto& [name, e] : t.tensors) {
    if (!std::isfinite(e.min) || !std::isfinite(e.max) || !std::isfinite(e.threshold) || !all_finite(e.channel_min) ||
        !all_finite(e.channel_max))
      return invalid_argument("calibration table: tensor '" + name + "' has a non-finite range; not writing '" +
                              path + "'");
    json j = {{"min", static_cast<double>(e.min)},
              {"max", static_cast<double>(e.max)},
              {"threshold", static_cast<double>(e.threshold)},
              {"method", e.method}};
    if (std::isfinite(e.observed_min) && std::isfinite(e.observed_max)) {
      j["observed_min"] = static_cast<double>(e.observed_min);
      j["observed_max"] = static_cast<double>(e.observed_max);
    }
    if (!e.channel_min.empty()) {
      j["channel_axis"] = e.channel_axis;
      j["channel_min"] = std::vector<double>(e.channel_min.begin(), e.channel_min.end());
      j["channel_max"] = std::vector<double>(e.channel_max.begin(), e.channel_max.end());
    }
    tensors[name] = std::move(j);
  }
  json doc = {{"format", "kaiwu-calibration"},
              {"version", 1},
              {"graph_fingerprint", t.fingerprint},
              {"calibration_type", t.calibration_type},
              {"num_samples", t.num_samples},
              {"tensors", std::move(tensors)}};
  std::string text;
  try {
    text = doc.dump(1);
  } catch (const std::exception& e) {  // e.g. a tensor name that is not valid UTF-8
    return invalid_argument("calibration table '" + path + "' cannot be written: " + e.what());
  }
  return write_file_atomic(path, text + "\n");
}

Status load_calibration(const std::string& path, CalibrationTable* out) {
  std::string text;
  KW_RETURN_IF_ERROR(read_file(path, &text));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_argument("calibration table '" + path + "' is not valid JSON");
  if (!doc.is_object()) return invalid_argument("calibration table '" + path + "': top level must be an object");
  auto fmt = doc.find("format");
  if (fmt == doc.end() || !fmt->is_string() || fmt->get<std::string>() != "kaiwu-calibration")
    return invalid_argument("calibration table '" + path + "': key 'format' must be \"kaiwu-calibration\"");
  auto ver = doc.find("version");
  if (ver == doc.end() || !ver->is_number_integer() || ver->get<int64_t>() != 1)
    return invalid_argument("calibration table '" + path + "': unsupported or missing 'version' (expected 1)");
  CalibrationTable t;
  auto str = [&](const char* key, std::string* v) -> Status {
    auto it = doc.find(key);
    if (it == doc.end()) return Status::Ok();
    if (!it->is_string()) return invalid_argument("calibration table '" + path + "': key '" + key + "' must be a string");
    *v = it->get<std::string>();
    return Status::Ok();
  };
  KW_RETURN_IF_ERROR(str("graph_fingerprint", &t.fingerprint));
  KW_RETURN_IF_ERROR(str("calibration_type", &t.calibration_type));
  auto ns = doc.find("num_samples");
  if (ns != doc.end()) {
    if (!ns->is_number_unsigned())
      return invalid_argument("calibration table '" + path + "': key 'num_samples' must be a non-negative integer");
    t.num_samples = ns->get<size_t>();
  }
  auto tensors = doc.find("tensors");
  if (tensors == doc.end() || !tensors->is_object())
    return invalid_argument("calibration table '" + path + "': missing object 'tensors'");
  for (auto it = tensors->begin(); it != tensors->end(); ++it) {
    const std::string where = "calibration table '" + path + "', tensor '" + it.key() + "'";
    if (!it->is_object()) return invalid_argument(where + ": must be an object");
    CalibrationEntry e;
    KW_RETURN_IF_ERROR(get_float(*it, "min", where, &e.min));
    KW_RETURN_IF_ERROR(get_float(*it, "max", where, &e.max));
    KW_RETURN_IF_ERROR(get_float(*it, "threshold", where, &e.threshold));
    if (e.min > e.max) return invalid_argument(where + ": min > max");
    if (e.threshold < 0) return invalid_argument(where + ": threshold < 0");
    if (it->contains("observed_min") || it->contains("observed_max")) {
      KW_RETURN_IF_ERROR(get_float(*it, "observed_min", where, &e.observed_min));
      KW_RETURN_IF_ERROR(get_float(*it, "observed_max", where, &e.observed_max));
      if (e.observed_min > e.observed_max) return invalid_argument(where + ": observed_min > observed_max");
    }
    auto m = it->find("method");
    if (m != it->end()) {
      if (!m->is_string()) return invalid_argument(where + ": key 'method' must be a string");
      e.method = m->get<std::string>();
    }
    KW_RETURN_IF_ERROR(get_floats(*it, "channel_min", where, &e.channel_min));
    KW_RETURN_IF_ERROR(get_floats(*it, "channel_max", where, &e.channel_max));
    if (e.channel_min.size() != e.channel_max.size())
      return invalid_argument(where + ": channel_min and channel_max differ in length");
    auto ax = it->find("channel_axis");
    if (ax != it->end()) {
      if (!ax->is_number_integer()) return invalid_argument(where + ": key 'channel_axis' must be an integer");
      e.channel_axis = ax->get<int>();
    }
    t.tensors[it.key()] = std::move(e);
  }
  *out = std::move(t);
  return Status::Ok();
}

Status check_fingerprint(const CalibrationTable& table, const ir::Graph& g, const std::string& path) {
  std::string fp = graph_fingerprint(g);
  if (table.fingerprint == fp) return Status::Ok();
  return failed_precondition("calibration table" + (path.empty() ? std::string() : " '" + path + "'") +
                             " was computed on a different graph (fingerprint " + table.fingerprint +
                             ", this graph " + fp + "); recalibrate");
}

}  // namespace kaiwu::calib
