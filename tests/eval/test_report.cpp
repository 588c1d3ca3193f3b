// The HTML report: the chart data against the examples they were built from, the ROC and
// precision-recall points against scikit-learn, and the pages rendered in headless Chromium (no
// console error, every chart drawn, a screenshot that shows them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>

#include "sbench/core/tasks.hpp"
#include "sbench/eval/report.hpp"
#include "test_support.hpp"

namespace sbench::eval {
namespace {

using nlohmann::json;

const TaskCard& card(const char* id) {
  return TaskRegistry::builtin().get(id);
}

std::map<std::string, json> charts_of(const TaskCard& task, const EvalResult& r) {
  std::map<std::string, json> out;
  for (const auto& [id, spec] : report_charts(task, r)) out[id] = json::parse(spec);
  return out;
}

// A poverty result: 30 examples in 3 countries with coordinates.
EvalResult regression_result() {
  EvalResult r;
  r.n = 30;
  r.metrics = {{"r2", 0.5}, {"pearson_r", 0.7}, {"mse", 0.2}};
  r.json = R"({"split": "test", "metrics": {"r2": 0.5, "pearson_r": 0.7, "mse": 0.2},
               "intervals": {"r2": [0.3, 0.6]}, "leaderboard_row": "| | x |"})";
  ReportData& d = r.report;
  d.target = "asset_index";
  d.kind = TargetKind::regression;
  for (int k = 0; k < 30; ++k) {
    d.ids.push_back(k == 3 ? "</script><b>x" : "c" + std::to_string(k));
    d.truth.push_back(0.1 * k - 1);
    d.pred.push_back(0.08 * k - 0.7 + (k % 3) * 0.05);
    d.groups["country"].push_back(k < 10 ? "angola" : k < 20 ? "benin" : "chad");
    d.lat.push_back(-10 + k);
    d.lon.push_back(10 + 0.5 * k);
  }
  return r;
}

// A brick-kiln-like binary result with scores (ties included).
EvalResult binary_result() {
  EvalResult r;
  r.n = 200;
  r.metrics = {{"accuracy", 0.8}, {"auroc", 0.85}};
  r.json = R"({"split": "test", "metrics": {"accuracy": 0.8, "auroc": 0.85}})";
  ReportData& d = r.report;
  d.target = "label";
  d.kind = TargetKind::binary;
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u;
  d.confusion = {{0, 0}, {0, 0}};
  for (int k = 0; k < 200; ++k) {
    const double t = u(rng) < 0.4 ? 1 : 0;
    const double s = std::round(std::clamp(0.3 + 0.3 * t + 0.6 * (u(rng) - 0.5), 0.0, 1.0) * 20) / 20;
    d.ids.push_back("k" + std::to_string(k));
    d.truth.push_back(t);
    d.score.push_back(s);
    d.pred.push_back(s > 0.5 ? 1 : 0);
    d.confusion[static_cast<std::size_t>(t)][s > 0.5 ? 1 : 0] += 1;
  }
  d.class_names = {"no kiln", "kiln"};
  return r;
}

// A field-delineation-like result: two 224 x 224 masks.
EvalResult dense_result() {
  EvalResult r;
  r.n = 2;
  r.metrics = {{"dice", 0.9}};
  r.json = R"({"split": "test", "metrics": {"dice": 0.9}})";
  ReportData& d = r.report;
  d.target = "boundary";
  d.kind = TargetKind::segmentation;
  d.confusion = {{40000, 2000}, {1500, 6000}};
  for (int e = 0; e < 2; ++e) {
    ReportData::Mask m;
    m.id = "f" + std::to_string(e);
    m.height = m.width = 224;
    for (int y = 0; y < 224; ++y) {
      for (int x = 0; x < 224; ++x) {
        m.truth.push_back((x / 28 + y / 28 + e) % 2 ? 1 : 0);
        m.pred.push_back((x / 28 + (y + 5) / 28 + e) % 2 ? 1 : 0);
      }
    }
    d.examples.push_back(std::move(m));
  }
  return r;
}

TEST(Report, CurvesEqualScikitLearnWithTiedScores) {
  const EvalResult r = binary_result();
  test::TempDir dir;
  std::ostringstream csv;
  for (std::size_t k = 0; k < r.report.score.size(); ++k) csv << r.report.score[k] << ',' << r.report.truth[k] << '\n';
  test::write_file(dir / "s.csv", csv.str());
  const auto ref = test::run_python("curves_reference.py", {(dir / "s.csv").string()});
  std::vector<std::pair<double, double>> roc, pr;
  std::istringstream in(ref.out);
  std::string kind;
  double a = 0, b = 0;
  while (in >> kind >> a >> b) (kind == "roc" ? roc : pr).emplace_back(a, b);
  const auto our_roc = roc_curve(r.report.score, r.report.truth);
  const auto our_pr = pr_curve(r.report.score, r.report.truth);
  ASSERT_EQ(our_roc.size(), roc.size());
  ASSERT_EQ(our_pr.size(), pr.size());
  EXPECT_GT(roc.size(), 8u);
  for (std::size_t k = 0; k < roc.size(); ++k) {
    EXPECT_NEAR(our_roc[k].first, roc[k].first, 1e-12) << k;
    EXPECT_NEAR(our_roc[k].second, roc[k].second, 1e-12) << k;
  }
  for (std::size_t k = 0; k < pr.size(); ++k) {
    EXPECT_NEAR(our_pr[k].first, pr[k].first, 1e-12) << k;
    EXPECT_NEAR(our_pr[k].second, pr[k].second, 1e-12) << k;
  }
}

TEST(Report, ChartsCarryTheScoredExamples) {
  const EvalResult r = regression_result();
  const auto c = charts_of(card("poverty"), r);
  ASSERT_EQ(c.size(), 3u);
  ASSERT_TRUE(c.count("scatter") && c.count("residuals_country") && c.count("map"));
  const auto& pts = c.at("scatter")["layer"][0]["data"]["values"];
  ASSERT_EQ(pts.size(), 30u);
  for (std::size_t k = 0; k < 30; ++k) {
    EXPECT_EQ(pts[k]["id"], r.report.ids[k]);
    EXPECT_DOUBLE_EQ(pts[k]["truth"].get<double>(), r.report.truth[k]);
    EXPECT_DOUBLE_EQ(pts[k]["pred"].get<double>(), r.report.pred[k]);
  }
  EXPECT_NE(c.at("scatter")["title"].get<std::string>().find("r2 = 0.500"), std::string::npos);
  const auto& res = c.at("residuals_country")["data"]["values"];
  ASSERT_EQ(res.size(), 30u);
  EXPECT_EQ(res[25]["group"], "chad");
  EXPECT_NEAR(res[25]["residual"].get<double>(), r.report.pred[25] - r.report.truth[25], 1e-15);
  const auto& map = c.at("map")["layer"][1]["data"]["values"];
  ASSERT_EQ(map.size(), 30u);
  EXPECT_DOUBLE_EQ(map[7]["lat"].get<double>(), -3);
  EXPECT_DOUBLE_EQ(map[7]["lon"].get<double>(), 13.5);
  EXPECT_NEAR(map[7]["error"].get<double>(), std::abs(r.report.pred[7] - r.report.truth[7]), 1e-15);

  const auto b = charts_of(card("brick_kiln"), binary_result());
  ASSERT_TRUE(b.count("confusion") && b.count("roc") && b.count("pr"));
  const auto& cells = b.at("confusion")["data"]["values"];
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[2]["truth"], "1 kiln");
  EXPECT_EQ(cells[2]["pred"], "0 no kiln");
  EXPECT_DOUBLE_EQ(cells[2]["count"].get<double>(), binary_result().report.confusion[1][0]);

  const auto d = charts_of(card("field_delineation"), dense_result());
  ASSERT_TRUE(d.count("confusion") && d.count("masks"));
  // 224 px shown as 56 x 56 cells (every 4th pixel), true and predicted, for each example.
  const auto& panel = d.at("masks")["vconcat"][1]["hconcat"][1];
  EXPECT_EQ(panel["title"], "f1: predicted");
  ASSERT_EQ(panel["data"]["values"].size(), 56u * 56u);
  const auto& cell = panel["data"]["values"][56 * 10 + 20];  // row 10, column 20 -> pixel (40, 80)
  EXPECT_EQ(cell["v"].get<int>(), dense_result().report.examples[1].pred[40 * 224 + 80]);
}

TEST(Report, PageEscapesIdsAndInlinesTheLibraries) {
  const std::string html = render_report(card("poverty"), regression_result(), "/* bundle */ var vegaEmbed;");
  EXPECT_EQ(html.find("</script><b>x"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script>\\u003cb>x"), std::string::npos);
  EXPECT_NE(html.find("/* bundle */ var vegaEmbed;"), std::string::npos);
  EXPECT_NE(html.find("[0.3000, 0.6000]"), std::string::npos);  // the interval in the metrics table
  EXPECT_EQ(html.find("http://"), std::string::npos);
}

// Renders `html` in headless Chromium: the DOM after the scripts ran, and a screenshot.
struct Rendered {
  std::string dom;
  double not_white = 0;
  long blue = 0;  // pixels of Vega's default mark colour #4c78a8
};

Rendered render_in_chromium(const std::string& html, const test::TempDir& dir, const std::string& name) {
  const auto page = dir / (name + ".html");
  test::write_file(page, html);
  const std::vector<std::string> common = {"chromium",
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--no-first-run",
                                           "--disable-dev-shm-usage",
                                           "--hide-scrollbars",
                                           "--user-data-dir=" + (dir / (name + "-profile")).string(),
                                           "--virtual-time-budget=20000",
                                           "--window-size=1280,2600"};
  Rendered out;
  auto argv = common;
  argv.push_back("--dump-dom");
  argv.push_back("file://" + page.string());
  const auto dom = test::run_process(argv);
  EXPECT_EQ(dom.exit_code, 0) << dom.err;
  out.dom = dom.out;
  argv = common;
  const auto png = dir / (name + ".png");
  argv.push_back("--screenshot=" + png.string());
  argv.push_back("file://" + page.string());
  const auto shot = test::run_process(argv);
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  if (const char* keep = std::getenv("SBENCH_REPORT_SCREENSHOTS")) {  // to look at them
    std::filesystem::copy_file(png, std::filesystem::path(keep) / (name + ".png"),
                               std::filesystem::copy_options::overwrite_existing);
  }
  const auto stats = test::run_python("png_stats.py", {png.string(), "76", "120", "168"});
  std::istringstream in(stats.out);
  in >> out.not_white >> out.blue;
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(ReportBrowser, EveryKindOfPageRendersInHeadlessChromiumWithoutErrors) {
  const std::string js = load_report_js(SBENCH_BUILD_DIR);
  test::TempDir dir;
  struct Page {
    const char* name;
    const char* task;
    EvalResult result;
  };
  for (const Page& p :
       {Page{"regression", "poverty", regression_result()}, Page{"binary", "brick_kiln", binary_result()},
        Page{"dense", "field_delineation", dense_result()}}) {
    SCOPED_TRACE(p.name);
    const std::size_t charts = report_charts(card(p.task), p.result).size();
    const Rendered r = render_in_chromium(render_report(card(p.task), p.result, js), dir, p.name);
    EXPECT_NE(r.dom.find("data-charts=\"ok\""), std::string::npos) << r.dom.substr(0, 2000);
    EXPECT_NE(r.dom.find("data-errors=\"\""), std::string::npos) << "console errors in the page";
    // vega-embed draws each chart as an SVG with a "marks" class.
    EXPECT_EQ(count(r.dom, "class=\"marks\""), charts);
    EXPECT_GT(r.not_white, 0.005) << "the screenshot is blank";
    EXPECT_GT(r.blue, 200) << "no chart marks in the screenshot";
  }
}

}  // namespace
}  // namespace sbench::eval
