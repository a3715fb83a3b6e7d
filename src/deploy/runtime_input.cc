#include "deploy/runtime_input.h"

namespace kaiwu::deploy {

RuntimeInputDesc runtime_input_desc(const std::map<std::string, std::string>& metadata, const std::string& name) {
  RuntimeInputDesc r;
  auto it = metadata.find("kaiwu.input." + name);
  if (it == metadata.end()) return r;
  const std::string& t = it->second;
  for (size_t at = 0; at <= t.size();) {
    size_t end = t.find(';', at);
    if (end == std::string::npos) end = t.size();
    const std::string item = t.substr(at, end - at);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) {
      const std::string k = item.substr(0, eq), v = item.substr(eq + 1);
      if (k == "source") r.source = v;
      else if (k == "layout") r.layout = v;
      else if (k == "type") r.type = v;
    }
    at = end + 1;
  }
  return r;
}

}  // namespace kaiwu::deploy
