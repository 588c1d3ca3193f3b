#include "sbench/eval/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "sbench/core/error.hpp"
#include "sbench/core/markup.hpp"
#include "sbench/core/version.hpp"

namespace sbench::eval {

namespace {

using json = nlohmann::ordered_json;

// JSON inside a <script> element: every "<" written as \u003c (the same character in a JSON
// string), so neither "</script" nor "<!--" can appear.
std::string script_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

// JavaScript inside a <script> element: only "</script" ends it (any case). The libraries have it in
// no string; should a version have one, "<\\/script" reads the same in a string or a regular expression.
std::string js_safe(std::string s) {
  for (std::size_t at = 0; (at = s.find("</", at)) != std::string::npos;) {
    std::string tag = s.substr(at + 2, 6);
    std::transform(tag.begin(), tag.end(), tag.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (tag == "script") {
      s.replace(at, 2, "<\\/");
      at += 3;
    } else {
      at += 2;
    }
  }
  return s;
}

std::string class_label(const ReportData& d, std::size_t k) {
  return k < d.class_names.size() ? fmt::format("{} {}", k, d.class_names[k]) : std::to_string(k);
}

json base_spec(const std::string& title, int width = 360, int height = 300) {
  return json{{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
              {"title", title},
              {"width", width},
              {"height", height}};
}

double metric_or_nan(const EvalResult& r, const std::string& id) {
  auto it = r.metrics.find(id);
  return it == r.metrics.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

json scatter_chart(const TaskCard& task, const EvalResult& r) {
  const ReportData& d = r.report;
  json values = json::array();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t k = 0; k < d.truth.size(); ++k) {
    values.push_back({{"id", d.ids[k]}, {"truth", d.truth[k]}, {"pred", d.pred[k]}});
    lo = std::min({lo, d.truth[k], d.pred[k]});
    hi = std::max({hi, d.truth[k], d.pred[k]});
  }
  const double r2 = metric_or_nan(r, task.primary_metric);
  json s = base_spec(
      fmt::format("Predicted versus true {} ({} = {:.3f}, n = {})", d.target, task.primary_metric, r2, d.truth.size()));
  json points = {{"data", {{"values", values}}},
                 {"mark", {{"type", "point"}, {"filled", true}, {"opacity", 0.6}}},
                 {"encoding",
                  {{"x", {{"field", "truth"}, {"type", "quantitative"}, {"title", "true " + d.target}}},
                   {"y", {{"field", "pred"}, {"type", "quantitative"}, {"title", "predicted"}}},
                   {"tooltip", json::array({{{"field", "id"}}, {{"field", "truth"}}, {{"field", "pred"}}})}}}};
  json diagonal = {
      {"data", {{"values", json::array({{{"v", lo}}, {{"v", hi}}})}}},
      {"mark", {{"type", "line"}, {"color", "#888"}, {"strokeDash", json::array({4, 4})}}},
      {"encoding",
       {{"x", {{"field", "v"}, {"type", "quantitative"}}}, {"y", {{"field", "v"}, {"type", "quantitative"}}}}}};
  s["layer"] = json::array({points, diagonal});
  return s;
}

json residual_chart(const ReportData& d, const std::string& group) {
  json values = json::array();
  const auto& keys = d.groups.at(group);
  for (std::size_t k = 0; k < d.truth.size(); ++k) {
    values.push_back({{"group", keys[k]}, {"residual", d.pred[k] - d.truth[k]}});
  }
  json s = base_spec(fmt::format("Residuals (predicted - true) per {}", group), 480, 260);
  s["data"] = {{"values", values}};
  s["mark"] = {{"type", "boxplot"}, {"extent", "min-max"}};
  s["encoding"] = {{"x", {{"field", "group"}, {"type", "nominal"}, {"title", group}}},
                   {"y", {{"field", "residual"}, {"type", "quantitative"}}}};
  return s;
}

// The examples on the world's country outlines (world-atlas, inlined as window.sbenchWorld; the
// page's script puts it into the first layer), the projection fitted to the examples.
json map_chart(const ReportData& d) {
  json values = json::array();
  const bool regression = d.kind == TargetKind::regression;
  double w = 180, e = -180, s = 90, n = -90;
  for (std::size_t k = 0; k < d.lat.size(); ++k) {
    if (!std::isfinite(d.lat[k]) || !std::isfinite(d.lon[k])) continue;
    const double err = regression ? std::abs(d.pred[k] - d.truth[k]) : (d.pred[k] == d.truth[k] ? 0.0 : 1.0);
    values.push_back({{"id", d.ids[k]}, {"lat", d.lat[k]}, {"lon", d.lon[k]}, {"error", err}});
    w = std::min(w, d.lon[k]);
    e = std::max(e, d.lon[k]);
    s = std::min(s, d.lat[k]);
    n = std::max(n, d.lat[k]);
  }
  json spec =
      base_spec(regression ? "Examples coloured by absolute error" : "Examples: misclassified in red", 480, 360);
  // Fit to the examples' box, 2 degrees wider on each side.
  w = std::max(-180.0, w - 2), e = std::min(180.0, e + 2), s = std::max(-89.0, s - 2), n = std::min(89.0, n + 2);
  json fit = {{"type", "Feature"},
              {"geometry", {{"type", "MultiPoint"}, {"coordinates", json::array({{w, s}, {e, s}, {e, n}, {w, n}})}}}};
  spec["projection"] = {{"type", "equalEarth"}, {"fit", fit}};
  json world = {
      {"data", {{"values", json::object()}, {"format", {{"type", "topojson"}, {"feature", "countries"}}}}},
      {"mark",
       {{"type", "geoshape"}, {"fill", "#eeeeee"}, {"stroke", "#bbbbbb"}, {"strokeWidth", 0.5}, {"clip", true}}}};
  json points = {{"data", {{"values", values}}},
                 {"mark", {{"type", "circle"}, {"size", 30}, {"opacity", 0.85}, {"clip", true}}},
                 {"encoding",
                  {{"longitude", {{"field", "lon"}, {"type", "quantitative"}}},
                   {"latitude", {{"field", "lat"}, {"type", "quantitative"}}},
                   {"color", {{"field", "error"}, {"type", "quantitative"}, {"scale", {{"scheme", "reds"}}}}},
                   {"tooltip", json::array({{{"field", "id"}}, {{"field", "error"}}})}}}};
  spec["layer"] = json::array({world, points});
  return spec;
}

json confusion_chart(const ReportData& d, bool pixels) {
  json values = json::array();
  for (std::size_t t = 0; t < d.confusion.size(); ++t) {
    double row = 0;
    for (double v : d.confusion[t]) row += v;
    for (std::size_t p = 0; p < d.confusion[t].size(); ++p) {
      values.push_back({{"truth", class_label(d, t)},
                        {"pred", class_label(d, p)},
                        {"count", d.confusion[t][p]},
                        {"share", row > 0 ? d.confusion[t][p] / row : 0.0}});
    }
  }
  const int side = std::clamp(static_cast<int>(d.confusion.size()) * 60, 160, 520);
  json s = base_spec(pixels ? "Confusion matrix (pixels)" : "Confusion matrix", side, side);
  s["data"] = {{"values", values}};
  json x = {{"field", "pred"}, {"type", "nominal"}, {"title", "predicted"}, {"sort", nullptr}};
  json y = {{"field", "truth"}, {"type", "nominal"}, {"title", "true"}, {"sort", nullptr}};
  json cells = {{"mark", "rect"},
                {"encoding",
                 {{"x", x},
                  {"y", y},
                  {"color", {{"field", "share"}, {"type", "quantitative"}, {"title", "share of row"}}},
                  {"tooltip", json::array({{{"field", "truth"}}, {{"field", "pred"}}, {{"field", "count"}}})}}}};
  json text = {{"mark", {{"type", "text"}, {"baseline", "middle"}}},
               {"encoding",
                {{"x", x},
                 {"y", y},
                 {"text", {{"field", "count"}, {"type", "quantitative"}, {"format", ",.0f"}}},
                 {"color", {{"condition", {{"test", "datum.share > 0.5"}, {"value", "white"}}}, {"value", "black"}}}}}};
  s["layer"] = json::array({cells, text});
  return s;
}

json curve_chart(const std::string& title, const std::string& x, const std::string& y,
                 const std::vector<std::pair<double, double>>& pts, bool diagonal) {
  json values = json::array();
  for (const auto& [a, b] : pts) values.push_back({{x, a}, {y, b}});
  json s = base_spec(title, 300, 300);
  json line = {{"data", {{"values", values}}},
               {"mark", {{"type", "line"}, {"point", false}, {"interpolate", "linear"}}},
               {"encoding",
                {{"x", {{"field", x}, {"type", "quantitative"}, {"scale", {{"domain", json::array({0, 1})}}}}},
                 {"y", {{"field", y}, {"type", "quantitative"}, {"scale", {{"domain", json::array({0, 1})}}}}},
                 {"order", {{"field", x}, {"type", "quantitative"}}}}}};
  s["layer"] = json::array({line});
  if (diagonal) {
    s["layer"].push_back(
        {{"data", {{"values", json::array({{{x, 0}, {y, 0}}, {{x, 1}, {y, 1}}})}}},
         {"mark", {{"type", "line"}, {"color", "#888"}, {"strokeDash", json::array({4, 4})}}},
         {"encoding",
          {{"x", {{"field", x}, {"type", "quantitative"}}}, {"y", {{"field", y}, {"type", "quantitative"}}}}}});
  }
  return s;
}

// A mask downsampled (nearest) to at most 64 pixels a side, as heatmap cells.
json mask_panel(const ReportData::Mask& m, const std::vector<std::uint8_t>& v, const std::string& title) {
  const int step = std::max(1, (std::max(m.height, m.width) + 63) / 64);
  json values = json::array();
  for (int r = 0; r < m.height; r += step) {
    for (int c = 0; c < m.width; c += step) {
      const std::uint8_t x =
          v[static_cast<std::size_t>(r) * static_cast<std::size_t>(m.width) + static_cast<std::size_t>(c)];
      values.push_back({{"r", r / step}, {"c", c / step}, {"v", x == 255 ? json(nullptr) : json(x)}});
    }
  }
  return {{"title", title},
          {"width", 180},
          {"height", 180},
          {"view", {{"stroke", nullptr}}},
          {"data", {{"values", values}}},
          {"mark", "rect"},
          {"encoding",
           {{"x", {{"field", "c"}, {"type", "ordinal"}, {"axis", nullptr}, {"scale", {{"paddingInner", 0}}}}},
            {"y", {{"field", "r"}, {"type", "ordinal"}, {"axis", nullptr}, {"scale", {{"paddingInner", 0}}}}},
            {"color", {{"field", "v"}, {"type", "nominal"}, {"title", "class"}}}}}};
}

json masks_chart(const ReportData& d) {
  json rows = json::array();
  for (const auto& m : d.examples) {
    rows.push_back({{"hconcat", json::array({mask_panel(m, m.truth, m.id + ": true"),
                                             mask_panel(m, m.pred, m.id + ": predicted")})}});
  }
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
          {"title", "Example masks, true and predicted"},
          {"vconcat", rows},
          {"resolve", {{"scale", {{"color", "shared"}}}}}};
}

std::vector<std::pair<double, double>> curve(const std::vector<double>& score, const std::vector<double>& truth,
                                             bool roc) {
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  for (double v : score) {
    if (std::isnan(v)) fail<InputError>("ROC / precision-recall curve: a score is NaN");
  }
  double pos = 0, neg = 0;
  for (double t : truth) (t > 0.5 ? pos : neg) += 1;
  std::vector<std::pair<double, double>> out;
  if (roc) out.emplace_back(0.0, 0.0);
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < order.size();) {
    const double s = score[order[k]];
    while (k < order.size() && score[order[k]] == s) {
      (truth[order[k]] > 0.5 ? tp : fp) += 1;
      ++k;
    }
    if (roc) {
      out.emplace_back(neg > 0 ? fp / neg : 0.0, pos > 0 ? tp / pos : 0.0);
    } else {
      out.emplace_back(pos > 0 ? tp / pos : 0.0, tp / (tp + fp));
    }
  }
  return out;
}

std::string metric_cell(const json& v) {
  return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : std::string("n/a");
}

}  // namespace

std::vector<std::pair<double, double>> roc_curve(const std::vector<double>& score, const std::vector<double>& truth) {
  return curve(score, truth, true);
}

std::vector<std::pair<double, double>> pr_curve(const std::vector<double>& score, const std::vector<double>& truth) {
  return curve(score, truth, false);
}

std::vector<std::pair<std::string, std::string>> report_charts(const TaskCard& task, const EvalResult& result) {
  const ReportData& d = result.report;
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& id, const json& spec) { out.emplace_back(id, spec.dump()); };
  if (d.kind == TargetKind::regression) {
    if (!d.truth.empty()) add("scatter", scatter_chart(task, result));
    for (const auto& [g, keys] : d.groups) add("residuals_" + g, residual_chart(d, g));
  } else {
    if (!d.confusion.empty()) add("confusion", confusion_chart(d, d.kind == TargetKind::segmentation));
    if (d.kind == TargetKind::binary && !d.score.empty()) {
      add("roc", curve_chart(fmt::format("ROC curve (AUROC = {:.3f})", metric_or_nan(result, "auroc")),
                             "false_positive_rate", "true_positive_rate", roc_curve(d.score, d.truth), true));
      add("pr", curve_chart("Precision-recall curve", "recall", "precision", pr_curve(d.score, d.truth), false));
    }
    if (!d.examples.empty()) add("masks", masks_chart(d));
  }
  if (!d.lat.empty() && d.kind != TargetKind::segmentation) add("map", map_chart(d));
  return out;
}

std::string render_report(const TaskCard& task, const EvalResult& result, const std::string& vega_js) {
  const json m = json::parse(result.json);
  std::ostringstream h;
  const std::string split = m.value("split", "");
  h << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<title>sbench report: " << escape_markup(task.id) << "</title>\n"
    << "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}"
       "th{background:#f3f3f3}.chart{display:inline-block;margin:1em 1em 1em 0;vertical-align:top}"
       ".muted{color:#666}</style>\n"
    << "<script>window.sbenchErrors=[];window.addEventListener('error',function(e){"
       "window.sbenchErrors.push(String(e.message));});</script>\n"
    << "<script>" << js_safe(vega_js) << "</script>\n</head><body>\n";
  h << "<h1>" << escape_markup(task.name.empty() ? task.id : task.name) << "</h1>\n";
  h << "<p class=\"muted\">task <code>" << escape_markup(task.id) << "</code> (SDG " << escape_markup(task.sdg) << "), "
    << escape_markup(split) << " split, n = " << result.n << "; sbench " << escape_markup(version()) << "</p>\n";

  h << "<h2>Metrics</h2>\n<table><tr><th>metric</th><th>value</th><th>95% interval</th></tr>\n";
  for (const auto& [id, v] : m["metrics"].items()) {
    std::string interval;
    if (m.contains("intervals") && m["intervals"].contains(id)) {
      const auto& iv = m["intervals"][id];
      interval = fmt::format("[{}, {}]", metric_cell(iv[0]), metric_cell(iv[1]));
    }
    h << "<tr><td>" << escape_markup(id) << (id == task.primary_metric ? " (primary)" : "") << "</td><td>"
      << metric_cell(v) << "</td><td>" << interval << "</td></tr>\n";
  }
  h << "</table>\n";
  if (m.contains("baselines") && !m["baselines"].empty()) {
    h << "<h2>Published baselines</h2>\n<table><tr><th>model</th><th>metric</th><th>value</th><th>variant</th>"
         "<th>reference</th></tr>\n";
    for (const auto& b : m["baselines"]) {
      h << "<tr><td>" << escape_markup(b.value("model", "")) << "</td><td>" << escape_markup(b.value("metric", ""))
        << "</td><td>" << escape_markup(b.value("published", "")) << "</td><td>"
        << escape_markup(b.value("variant", "")) << "</td><td>" << escape_markup(b.value("reference", ""))
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  if (m.contains("groups")) {
    for (const auto& [g, gj] : m["groups"].items()) {
      h << "<h2>Per " << escape_markup(g) << "</h2>\n<table><tr><th>" << escape_markup(g) << "</th><th>n</th>";
      for (const auto& id : task.metrics) {
        if (m["metrics"].contains(id)) h << "<th>" << escape_markup(id) << "</th>";
      }
      h << "</tr>\n";
      for (const auto& [key, v] : gj["values"].items()) {
        h << "<tr><td>" << escape_markup(key) << "</td><td>" << v.value("n", 0) << "</td>";
        for (const auto& id : task.metrics) {
          if (m["metrics"].contains(id)) h << "<td>" << metric_cell(v["metrics"].value(id, json())) << "</td>";
        }
        h << "</tr>\n";
      }
      h << "</table>\n";
      if (gj.contains("worst") && gj["worst"].contains(task.primary_metric)) {
        const auto& w = gj["worst"][task.primary_metric];
        h << "<p>Worst " << escape_markup(g) << " by " << escape_markup(task.primary_metric) << ": <b>"
          << escape_markup(w.value("group", "")) << "</b> (" << metric_cell(w["value"]) << ")</p>\n";
      }
    }
  }

  const auto charts = report_charts(task, result);
  h << "<h2>Charts</h2>\n";
  for (const auto& [id, spec] : charts) h << "<div class=\"chart\" id=\"chart-" << escape_markup(id) << "\"></div>\n";
  h << "<h2>Leaderboard row</h2>\n<pre>" << escape_markup(m.value("leaderboard_row", "")) << "</pre>\n";
  h << "<script>\nconst sbenchCharts = {";
  for (std::size_t k = 0; k < charts.size(); ++k) {
    h << (k ? ",\n" : "\n") << script_safe(json(charts[k].first).dump()) << ": " << script_safe(charts[k].second);
  }
  h << "\n};\nPromise.all(Object.entries(sbenchCharts).map(function (e) {\n"
       "  if (e[0] === 'map' && window.sbenchWorld) e[1].layer[0].data.values = window.sbenchWorld;\n"
       "  return vegaEmbed('#chart-' + e[0], e[1], {renderer: 'svg', actions: false});\n"
       "})).then(function () { document.body.setAttribute('data-charts', 'ok'); })\n"
       ".catch(function (err) { window.sbenchErrors.push(String(err));\n"
       "  document.body.setAttribute('data-charts', 'error'); })\n"
       ".finally(function () { document.body.setAttribute('data-errors', window.sbenchErrors.join(' | ')); });\n"
       "</script>\n</body></html>\n";
  return h.str();
}

std::string load_report_js(const std::filesystem::path& exe_dir) {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("SBENCH_REPORT_JS"); env && *env) {
    candidates.emplace_back(env);
  } else {
    candidates.push_back(exe_dir / "share" / "sbench" / "vega-bundle.js");
    candidates.push_back(exe_dir / ".." / "share" / "sbench" / "vega-bundle.js");
  }
  for (const auto& p : candidates) {
    std::ifstream in(p, std::ios::binary);
    if (!in) continue;
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().size() > 1000) return s.str();
  }
  fail<IoError>(
      "the report's chart libraries are not installed (looked for {}): build sbench with npm available "
      "(Debian: apt-get install npm), which fetches Vega, Vega-Lite and vega-embed at build time",
      candidates.front().string());
}

}  // namespace sbench::eval
