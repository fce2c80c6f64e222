#pragma once
// `kvbench table`: result records -> tables laid out like the paper's. Specs live in the
// experiment config's "tables" list:
//
// {"title": "...", "layout": "methods" | "param", "model": "<model name>" (default: each),
//  "columns": [{"benchmark": "<benchmark id>", "group": "overall" | "<group>" | "<dataset>",
//               "metric": "score" | "<numeric record field>", "label": "...", "scale": 1,
//               "better": "higher" | "lower", "digits": 2}],
//  "bootstrap": 400,                  // resamples for the CI of benchmark scores
//  // layout "param" only:
//  "method": "flashcache", "param": "gamma", "orientation": "columns" | "rows",
//  "param_label": "γ", "labels": {"true": "w/ DBA", "false": "w/o DBA"}}
//
// layout "methods": rows = method rows (Full first), columns = the column list, one block per ρ.
// layout "param": one method's cells across the values of one grid parameter (γ and DBA
// ablations): values as columns and the column list as rows ("columns"), or the reverse.
// Cells show mean ± 95% CI: benchmark scores come from the benchmark's own aggregate() with a
// stratified bootstrap CI; other metrics are per-sample means with a Student-t CI. The best
// value per column (per row for orientation "columns") among compressed rows is marked.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "eval/sweep.h"

namespace kvb {

// Records of one (model, cell, benchmark); the default reads the result store.
using RecordSource = std::function<std::vector<nlohmann::json>(const ModelSpec&, const Cell&, const BenchmarkSpec&)>;
RecordSource result_store_source(const Experiment& exp);

// Throws UsageError naming `where` and the key for a malformed spec.
void validate_table_spec(const nlohmann::json& spec, const Experiment& exp, const std::string& where);

// Every table of the experiment (a default methods table when it lists none), for each model
// (or only `model` when non-empty), as "md", "csv" or "json".
std::string render_tables(const Experiment& exp, const RecordSource& source, const std::string& format,
                          const std::string& model = "");

// Every result in long form, one row per model x cell x benchmark x group x metric, with numeric
// rho and one param_<key> column per method parameter, as "csv" or "json" (an array of row
// objects): pandas.read_csv / read_json take it as it is. Score CIs use `bootstrap` resamples.
std::string render_long(const Experiment& exp, const RecordSource& source, const std::string& format,
                        const std::string& model = "", int64_t bootstrap = 0);

// One (model, cell, benchmark) value as a table cell shows it: `metric` "score" reads `group`
// ("overall", a group or a dataset) of the benchmark's aggregate(); any other metric is the
// mean of that record field. has = false when there are no records (or no such group).
struct CellValue {
  bool has = false;
  double value = 0, ci95 = -1;  // ci95 < 0: none
  int64_t n = 0;
};
CellValue evaluate_cell(const Experiment& exp, const RecordSource& source, const ModelSpec& model, const Cell& cell,
                        const std::string& benchmark, const std::string& group = "overall",
                        const std::string& metric = "score", int64_t bootstrap = 0);

// Two-sided 95% Student-t quantile t_{0.975, df} (exact table for df <= 30).
double t_quantile_975(int64_t df);

}  // namespace kvb
