// Developer tool: lowers a QDQ model (P_ptq_model.onnx) to the fixed-point model and prints which nodes run in
// integer. Usage: kaiwu_lower in_qdq.onnx out_fixed.onnx [-v]
#include <cstdio>
#include <cstring>

#include "frontend/onnx/onnx_export.h"
#include "frontend/onnx/onnx_import.h"
#include "deploy/deployable.h"
#include "kernels/cpu_info.h"
#include "passes/passes.h"
#include "quant/fixed_point.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: kaiwu_lower in_qdq.onnx out_fixed.onnx [-v]\n");
    return 2;
  }
  kaiwu::ir::Model m, f;
  kaiwu::Status st = kaiwu::frontend::load_onnx(argv[1], &m);
  if (st.ok()) {
    kaiwu::quant::LowerReport r;
    st = kaiwu::quant::lower_to_fixed_point(m, &f, &r);
    if (st.ok()) {
      for (const auto& n : r.nodes)
        if (!n.integer || (argc > 3 && !std::strcmp(argv[3], "-v")))
          std::printf("%-40s %-20s %s %s\n", n.name.c_str(), n.op_type.c_str(), n.integer ? "int  " : "float", n.how.c_str());
      std::printf("integer nodes: %d, float nodes: %d\n", r.integer_count(), r.float_count());
      const std::string out = argv[2];
      if (out.size() > 4 && out.substr(out.size() - 4) == ".kwm") {
        st = kaiwu::passes::optimize_for_cpu(f);
        if (st.ok()) st = kaiwu::deploy::write_deployable(f, {"dev", kaiwu::kernels::host_target(), "{}"}, out);
      } else {
        st = kaiwu::frontend::save_onnx(f, out);
      }
    }
  }
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
