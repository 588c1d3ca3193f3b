// The evaluation report: one self-contained HTML page that works offline, with Vega-Lite charts
// (predicted versus true, residuals per group, a map of the examples coloured by error, the
// confusion matrix, ROC and precision-recall curves, example masks). The Vega, Vega-Lite and
// vega-embed libraries are fetched from npm at build time and inlined in the page (docs/report.md).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "sbench/core/tasks.hpp"
#include "sbench/eval/evaluate.hpp"

namespace sbench::eval {

// The charts of a report, as (chart id, Vega-Lite spec as JSON), in page order.
std::vector<std::pair<std::string, std::string>> report_charts(const TaskCard& task, const EvalResult& result);

// The whole page: title, metric tables (metrics, intervals, groups with the worst one, published
// baselines), the charts, and `vega_js` (the bundled libraries) inlined.
std::string render_report(const TaskCard& task, const EvalResult& result, const std::string& vega_js);

// The bundled libraries: $SBENCH_REPORT_JS if set, else share/sbench/vega-bundle.js beside the
// executable's folder (build tree) or in ../share/sbench (installed). An IoError saying how to get
// it when there is none.
std::string load_report_js(const std::filesystem::path& exe_dir);

// ROC curve (false positive rate, true positive rate) and precision-recall curve (recall,
// precision) of binary scores, one point per distinct score threshold (ties move together).
std::vector<std::pair<double, double>> roc_curve(const std::vector<double>& score, const std::vector<double>& truth);
std::vector<std::pair<double, double>> pr_curve(const std::vector<double>& score, const std::vector<double>& truth);

}  // namespace sbench::eval
