// P.html in a real browser (issue 5, acceptance 2): headless Chromium opens the estimate page of fmnist, its scripts
// run without console errors, the page makes no network request, and the layer table, the SVG bar chart and the
// initial sort by time are in the rendered DOM. A negative control page (an image from the network, a fetch, a
// console error, an exception) checks that the same detection catches them. Skipped when chromium is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "e2e/e2e_util.h"
#include "frontend/onnx/onnx_import.h"
#include "passes/passes.h"
#include "perf/cost_model.h"
#include "test_util.h"

namespace kaiwu {
namespace {

std::string find_chromium() {
  if (const char* p = std::getenv("KAIWU_CHROMIUM"); p && *p) return p;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (test::file_exists(p)) return p;
  return "";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

struct Rendered {
  std::string dom, log, netlog;
  int rc = -1;
};

// Loads file://`html` in headless Chromium: the DOM after the scripts ran, the browser log (console messages are
// its ":CONSOLE" lines) and the network log.
Rendered render(const std::string& chromium, const e2e::TempDir& tmp, const std::string& html, const std::string& tag) {
  Rendered r;
  const std::string dom = tmp.file(tag + "_dom.html"), log = tmp.file(tag + "_log.txt"),
                    net = tmp.file(tag + "_net.json");
  const std::string cmd = "timeout 90 " + e2e::sh_quote(chromium) +
                          " --headless --disable-gpu --no-sandbox --no-first-run --disable-extensions"
                          " --disable-background-networking --disable-component-update --disable-sync"
                          " --disable-default-apps --enable-logging=stderr --v=0 --user-data-dir=" +
                          e2e::sh_quote(tmp.file(tag + "_profile")) + " --log-net-log=" + e2e::sh_quote(net) +
                          " --dump-dom " + e2e::sh_quote("file://" + html) + " > " + e2e::sh_quote(dom) + " 2> " +
                          e2e::sh_quote(log);
  r.rc = std::system(cmd.c_str());
  r.dom = slurp(dom);
  r.log = slurp(log);
  r.netlog = slurp(net);
  return r;
}

// Requests made on behalf of the page: Chromium's own background requests carry the initiator "not an origin".
size_t page_requests(const std::string& netlog) {
  return count(netlog, "\"initiator\":\"") - count(netlog, "\"initiator\":\"not an origin\"");
}

TEST(PerfHtml, RendersInHeadlessChromium) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium; see scripts/setup.sh)";
  std::string path;
  ASSERT_TRUE(e2e::model_path("fmnist", &path).ok());
  ir::Model m;
  ASSERT_TRUE(frontend::load_onnx(path, &m).ok());
  ASSERT_TRUE(passes::optimize_for_cpu(m).ok());
  perf::Report r;
  Status st = perf::estimate(m, {}, perf::builtin_target("x86-avx512vnni"), 2, &r);
  ASSERT_TRUE(st.ok()) << st.to_string();
  ASSERT_GE(r.layers.size(), 3u);
  e2e::TempDir tmp;
  const std::string html = tmp.file("P.html");
  ASSERT_TRUE(e2e::write_bytes(html, perf::to_html(r)).ok());

  Rendered page = render(chromium, tmp, html, "page");
  ASSERT_EQ(page.rc, 0) << page.log;
  // The scripts ran to the end and nothing threw.
  EXPECT_NE(page.dom.find("data-ready=\"1\""), std::string::npos) << page.dom.substr(0, 2000);
  EXPECT_EQ(page.dom.find("data-js-error=\""), std::string::npos) << page.dom.substr(0, 300);
  EXPECT_EQ(page.log.find(":CONSOLE"), std::string::npos) << page.log;
  EXPECT_EQ(page_requests(page.netlog), 0u) << "the page must not touch the network";
  // The table: one row per layer (plus the header row), the chart: one bar per layer up to 15.
  const size_t body = page.dom.find("<tbody>", page.dom.find("id=\"layers\""));
  ASSERT_NE(body, std::string::npos);
  const std::string rows = page.dom.substr(body, page.dom.find("</tbody>", body) - body);
  EXPECT_EQ(count(rows, "<tr>"), r.layers.size());
  EXPECT_EQ(count(page.dom, "<rect class=\"bar\""), std::min<size_t>(15, r.layers.size()));
  EXPECT_NE(page.dom.find("<table id=\"summary\">"), std::string::npos);
  EXPECT_NE(page.dom.find("<table id=\"by_op\">"), std::string::npos);
  // Sorted by the estimated time (last column), slowest first.
  std::vector<double> est;
  const std::regex last_cell("<td>([0-9.]+)</td></tr>");
  for (auto it = std::sregex_iterator(rows.begin(), rows.end(), last_cell); it != std::sregex_iterator(); ++it)
    est.push_back(std::stod((*it)[1].str()));
  ASSERT_EQ(est.size(), r.layers.size());
  for (size_t i = 1; i < est.size(); ++i) EXPECT_GE(est[i - 1], est[i]) << "row " << i;

  // Negative control: the same checks see a network image, a fetch, a console error and an exception.
  const std::string bad = tmp.file("bad.html");
  ASSERT_TRUE(e2e::write_bytes(bad, "<html><body><img src=\"http://127.0.0.1:9/x.png\"><script>"
                                    "console.error('boom'); fetch('http://127.0.0.1:9/a').catch(function(e) {});"
                                    " undefined_function();</script></body></html>")
                  .ok());
  Rendered neg = render(chromium, tmp, bad, "bad");
  EXPECT_NE(neg.log.find(":CONSOLE"), std::string::npos) << neg.log;
  EXPECT_GT(page_requests(neg.netlog), 0u);
}

}  // namespace
}  // namespace kaiwu
