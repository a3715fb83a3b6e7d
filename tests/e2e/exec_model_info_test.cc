// `kaiwu exec model_info` on the frame inputs of a compiled model: a tiny three-input CNN (made here with onnx's
// helper) compiled with a = nv12 from the pyramid, b = rgb from ddr, c = gray from the resizer. The deployable and the
// fixed-point ONNX take a_y/a_uv (NHWC uint8, pyramid), b (NHWC uint8, ddr), c_y (NHWC uint8, resizer) and c_roi
// (int32, resizer); model_info must print those layouts and sources (from the "kaiwu.input.<name>" metadata, the
// reader `kaiwu info` uses) and agree with `kaiwu info` on every input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/npy.h"
#include "e2e/e2e_util.h"
#include "test_util.h"

namespace kaiwu {
namespace {

// Cells of the `kaiwu exec model_info` row of `name` (NAME | TYPE | SHAPE | DATA_TYPE | LAYOUT | SOURCE | BYTE_SIZE).
std::vector<std::string> exec_row(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    for (size_t at = 0;;) {
      size_t bar = line.find(" | ", at);
      std::string c = line.substr(at, bar == std::string::npos ? std::string::npos : bar - at);
      c.erase(c.find_last_not_of(' ') + 1);
      cells.push_back(c);
      if (bar == std::string::npos) break;
      at = bar + 3;
    }
    if (cells.size() == 7 && cells[0] == name) return cells;
  }
  return {};
}

// LAYOUT and SOURCE of input `name` in the `kaiwu info` table ("input    NAME  SHAPE  DTYPE  LAYOUT  SOURCE...").
std::pair<std::string, std::string> info_row(const std::string& out, const std::string& name) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string kind, n, shape, dtype, layout, source;
    if (!(ls >> kind >> n >> shape >> dtype) || kind != "input" || n != name) continue;
    ls >> layout;
    std::getline(ls, source);
    source.erase(0, source.find_first_not_of(' '));
    // An empty LAYOUT cell (the ROI input): the first word is the source.
    if (std::any_of(layout.begin(), layout.end(), [](char ch) { return std::islower(static_cast<unsigned char>(ch)); })) {
      source = layout + (source.empty() ? "" : " " + source);
      layout.clear();
    }
    return {layout, source};
  }
  return {"", ""};
}

TEST(ExecModelInfo, FrameInputsLayoutAndSource) {
  e2e::TempDir tmp;
  namespace fs = std::filesystem;
  const std::string script =
      "import onnx, numpy as np\n"
      "from onnx import helper as h, numpy_helper as nh, TensorProto as T\n"
      "rng = np.random.default_rng(0)\n"
      "def w(name, c): return nh.from_array(rng.normal(0, 0.1, (4, c, 3, 3)).astype(np.float32), name)\n"
      "nodes = [h.make_node('Conv', ['a', 'wa'], ['ya'], pads=[1, 1, 1, 1]),\n"
      "         h.make_node('Conv', ['b', 'wb'], ['yb'], pads=[1, 1, 1, 1]),\n"
      "         h.make_node('Conv', ['c', 'wc'], ['yc'], pads=[1, 1, 1, 1]),\n"
      "         h.make_node('Add', ['ya', 'yb'], ['s1']), h.make_node('Add', ['s1', 'yc'], ['s2']),\n"
      "         h.make_node('Relu', ['s2'], ['r']), h.make_node('GlobalAveragePool', ['r'], ['p']),\n"
      "         h.make_node('Flatten', ['p'], ['logits'])]\n"
      "g = h.make_graph(nodes, 'tiny3', [h.make_tensor_value_info('a', T.FLOAT, [1, 3, 16, 16]),\n"
      "    h.make_tensor_value_info('b', T.FLOAT, [1, 3, 16, 16]), h.make_tensor_value_info('c', T.FLOAT, [1, 1, 16, 16])],\n"
      "    [h.make_tensor_value_info('logits', T.FLOAT, [1, 4])], [w('wa', 3), w('wb', 3), w('wc', 1)])\n"
      "onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 13)], ir_version=8), '" + tmp.file("tiny3.onnx") + "')\n";
  ASSERT_TRUE(e2e::write_bytes(tmp.file("make.py"), script).ok());
  std::string out;
  ASSERT_EQ(test::run_command(e2e::sh_quote(e2e::python()) + " " + tmp.file("make.py") + " 2>&1", &out), 0) << out;
  const std::pair<const char*, Shape> inputs[] = {{"a", {1, 3, 16, 16}}, {"b", {1, 3, 16, 16}}, {"c", {1, 1, 16, 16}}};
  for (const auto& [name, shape] : inputs) {
    fs::create_directories(tmp.file(std::string("calib_") + name));
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(write_npy(tmp.file(std::string("calib_") + name + "/" + std::to_string(i) + ".npy"),
                            test::random_f32(shape, i, 0.f, 255.f))
                      .ok());
  }
  const std::string yaml =
      "model_parameters:\n  onnx_model: '" + tmp.file("tiny3.onnx") + "'\n  march: x86-avx512vnni\n"
      "  working_dir: '" + tmp.file("out") + "'\n  output_model_file_prefix: t3\n"
      "input_parameters:\n  input_name: 'a;b;c'\n  input_type_rt: 'nv12;rgb;gray'\n  input_type_train: 'rgb;rgb;gray'\n"
      "  input_layout_train: 'NCHW;NCHW;NCHW'\n  input_shape: '1x3x16x16;1x3x16x16;1x1x16x16'\n"
      "calibration_parameters:\n  cal_data_dir: '" + tmp.file("calib_a") + ";" + tmp.file("calib_b") + ";" +
      tmp.file("calib_c") + "'\n  calibration_type: max\n"
      "compiler_parameters:\n  optimize_level: O2\n  input_source: {a: pyramid, b: ddr, c: resizer}\n";
  ASSERT_TRUE(e2e::write_bytes(tmp.file("c.yaml"), yaml).ok());
  const std::string kaiwu = e2e::sh_quote(e2e::build_dir() + "/bin/kaiwu");
  ASSERT_EQ(test::run_command(kaiwu + " compile -q -c " + tmp.file("c.yaml") + " 2>&1", &out), 0) << out;

  struct Expect {
    const char* name;
    const char* dtype;
    const char* layout;
    const char* source;
  };
  const Expect expected[] = {{"a_y", "uint8", "NHWC", "pyramid (nv12_y)"},
                             {"a_uv", "uint8", "NHWC", "pyramid (nv12_uv)"},
                             {"b", "uint8", "NHWC", "ddr (rgb)"},
                             {"c_y", "uint8", "NHWC", "resizer (gray_y)"},
                             {"c_roi", "int32", "", "resizer (roi)"}};
  for (const char* file : {"t3.kwm", "t3_quantized_model.onnx"}) {
    const std::string model = e2e::sh_quote(tmp.file(std::string("out/") + file));
    std::string info;
    ASSERT_EQ(test::run_command(kaiwu + " exec model_info --model_file " + model + " 2>&1", &out), 0) << out;
    ASSERT_EQ(test::run_command(kaiwu + " info " + model + " 2>&1", &info), 0) << info;
    for (const Expect& e : expected) {
      const std::vector<std::string> row = exec_row(out, e.name);
      ASSERT_EQ(row.size(), 7u) << file << ": no row '" << e.name << "' in\n" << out;
      EXPECT_EQ(row[1], "input") << file;
      EXPECT_EQ(row[3], e.dtype) << file << " " << e.name;
      if (*e.layout) EXPECT_EQ(row[4], e.layout) << file << " " << e.name;
      EXPECT_EQ(row[5], e.source) << file << " " << e.name;
      // The same layout and source as `kaiwu info` ("-" in exec where info leaves the layout empty).
      const auto [layout, source] = info_row(info, e.name);
      EXPECT_EQ(source, e.source) << file << " kaiwu info, " << e.name << "\n" << info;
      if (*e.layout) EXPECT_EQ(layout, row[4]) << file << " kaiwu info, " << e.name;
    }
    EXPECT_EQ(exec_row(out, "logits").size(), 7u) << out;
    EXPECT_EQ(exec_row(out, "logits")[5], "-") << out;
  }
  // A float ONNX without metadata: its input keeps the session's NCHW layout and comes from ddr.
  ASSERT_EQ(test::run_command(kaiwu + " exec model_info --model_file " +
                                  e2e::sh_quote(tmp.file("out/t3_original_float_model.onnx")) + " 2>&1",
                              &out),
            0)
      << out;
  const std::vector<std::string> a = exec_row(out, "a");
  ASSERT_EQ(a.size(), 7u) << out;
  EXPECT_EQ(a[4], "NCHW") << out;
  EXPECT_EQ(a[5], "ddr") << out;
}

}  // namespace
}  // namespace kaiwu
