#include "eval/table.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/result_store.h"
#include "eval/runner.h"

namespace kvb {
namespace {

struct ColumnSpec {
  std::string benchmark, group = "overall", metric = "score", label, better = "higher";
  double scale = 1;
  int64_t digits = 2;
};

struct TableSpec {
  std::string title, layout = "methods", model, method, param, orientation = "columns", param_label;
  json labels = json::object();
  std::vector<ColumnSpec> columns;
  int64_t bootstrap = 400;
};

std::string value_text(const json& v) {
  if (v.is_number_float()) return fmt::format("{:g}", v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}

TableSpec parse_spec(const json& spec, const Experiment& exp, const std::string& where) {
  TableSpec t;
  json columns = json::array();
  ConfigReader r(spec, where);
  r.get("title", t.title).get_choice("layout", t.layout, {"methods", "param"}).get("model", t.model);
  r.get("columns", columns).get("bootstrap", t.bootstrap).get("method", t.method).get("param", t.param);
  r.get_choice("orientation", t.orientation, {"columns", "rows"}).get("param_label", t.param_label);
  r.get("labels", t.labels);
  r.finish();
  if (!columns.is_array()) throw UsageError(fmt::format("{}.columns: must be a list", where));
  if (columns.empty())
    for (const auto& b : exp.benchmarks) columns.push_back({{"benchmark", b.id}});
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string cw = fmt::format("{}.columns[{}]", where, i);
    ColumnSpec c;
    ConfigReader cr(columns[i], cw);
    cr.get("benchmark", c.benchmark).get("group", c.group).get("metric", c.metric).get("label", c.label);
    cr.get("scale", c.scale).get_choice("better", c.better, {"higher", "lower"}).get("digits", c.digits);
    cr.finish();
    exp.benchmark(c.benchmark.empty() ? "(missing)" : c.benchmark);  // throws naming the id
    // A typo would otherwise render a column of dashes, indistinguishable from missing results.
    const auto& known = table_metrics();
    if (std::find(known.begin(), known.end(), c.metric) == known.end())
      throw UsageError(fmt::format("{}.metric: unknown metric '{}'; known: {}", cw, c.metric, fmt::join(known, ", ")));
    if (c.label.empty())
      c.label = (c.group == "overall" ? c.benchmark : c.group) + (c.metric == "score" ? "" : " " + c.metric);
    t.columns.push_back(std::move(c));
  }
  if (t.bootstrap < 0) throw UsageError(fmt::format("{}.bootstrap: must be >= 0", where));
  if (!t.model.empty() && std::none_of(exp.models.begin(), exp.models.end(), [&](const ModelSpec& m) { return m.name == t.model; }))
    throw UsageError(fmt::format("{}.model: no model named '{}'", where, t.model));
  if (t.layout == "param") {
    std::set<std::string> seen;
    for (const auto& c : exp.cells) {
      if (c.method != t.method || !c.grid_point.contains(t.param)) continue;
      if (!seen.insert(fmt::format("{}|{}", c.rho, c.grid_point[t.param].dump())).second)
        throw UsageError(fmt::format("{}: method '{}' has several cells per ({}, rho); fix its other grid keys", where,
                                     t.method, t.param));
    }
    if (seen.empty())
      throw UsageError(fmt::format("{}: no cell of method '{}' varies grid key '{}'", where, t.method, t.param));
    if (t.param_label.empty()) t.param_label = t.param;
  }
  return t;
}

struct Value {
  bool has = false;
  double v = 0, ci = -1;  // ci < 0: none
  int64_t n = 0;
  bool best = false;
};

struct Row {
  std::string block, label;
  bool is_full = false;
  std::vector<Value> cells;
};

struct Grid {
  std::string title, corner;
  std::vector<std::string> header;
  std::vector<int64_t> digits;
  std::vector<Row> rows;
};

std::optional<double> lookup(const json& agg, const std::string& group) {
  auto num = [](const json& v) -> std::optional<double> {
    if (v.is_number()) return v.get<double>();
    if (v.is_object() && v.contains("score") && v["score"].is_number()) return v["score"].get<double>();
    return std::nullopt;
  };
  if (group == "overall") return agg.contains("overall") ? num(agg["overall"]) : std::nullopt;
  for (const char* section : {"groups", "datasets"})
    if (agg.contains(section) && agg[section].contains(group)) return num(agg[section][group]);
  return std::nullopt;
}

double percentile(std::vector<double> v, double q) {  // linear interpolation (numpy's default)
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

class Evaluator {
 public:
  Evaluator(const Experiment& exp, const RecordSource& source) : exp_(exp), source_(source) {}

  // Score groups of a (model, cell, benchmark): "overall", then the aggregate's groups and datasets.
  std::vector<std::string> score_groups(const ModelSpec& model, const Cell& cell, const std::string& benchmark) {
    const auto& records = records_of(model, cell, benchmark);
    std::vector<std::string> out;
    if (records.empty()) return out;
    std::vector<ScoredRecord> recs;
    for (const auto& r : records) recs.push_back(scored(r));
    const json agg = bench(benchmark).aggregate(recs);
    if (lookup(agg, "overall")) out.push_back("overall");
    for (const char* section : {"groups", "datasets"})
      if (agg.contains(section) && agg[section].is_object())
        for (const auto& [g, v] : agg[section].items())
          if (lookup(agg, g)) out.push_back(g);
    return out;
  }

  // Numeric (or boolean) record fields other than the score, in first-seen order.
  std::vector<std::string> record_metrics(const ModelSpec& model, const Cell& cell, const std::string& benchmark) {
    std::vector<std::string> out;
    for (const auto& r : records_of(model, cell, benchmark))
      for (const auto& [k, v] : r.items())
        if ((v.is_number() || v.is_boolean()) && k != "score" &&
            std::find(out.begin(), out.end(), k) == out.end())
          out.push_back(k);
    return out;
  }

  Value value(const ModelSpec& model, const Cell& cell, const ColumnSpec& col, int64_t bootstrap) {
    const auto& records = records_of(model, cell, col.benchmark);
    Value out;
    if (records.empty()) return out;
    if (col.metric == "score") {
      score(records, col, bootstrap, out);
    } else {
      std::vector<double> xs;
      for (const auto& r : records) {
        auto it = r.find(col.metric);
        if (it != r.end() && (it->is_number() || it->is_boolean()))
          xs.push_back(it->is_boolean() ? (it->get<bool>() ? 1.0 : 0.0) : it->get<double>());
      }
      out.n = static_cast<int64_t>(xs.size());
      if (xs.empty()) return out;
      double mean = 0, ss = 0;
      for (double x : xs) mean += x;
      mean /= static_cast<double>(xs.size());
      for (double x : xs) ss += (x - mean) * (x - mean);
      out.has = true;
      out.v = mean;
      if (xs.size() >= 2)
        out.ci = t_quantile_975(out.n - 1) * std::sqrt(ss / static_cast<double>(xs.size() - 1)) /
                 std::sqrt(static_cast<double>(xs.size()));
    }
    out.v *= col.scale;
    if (out.ci >= 0) out.ci *= std::abs(col.scale);
    return out;
  }

 private:
  const std::vector<json>& records_of(const ModelSpec& model, const Cell& cell, const std::string& bench) {
    const std::string key = model.name + "\n" + cell.dir + "\n" + bench;
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    auto recs = source_(model, cell, exp_.benchmark(bench));
    // Sorted by id: the CI must not depend on the order a resumed run appended records in.
    std::sort(recs.begin(), recs.end(),
              [](const json& a, const json& b) { return a.value("id", "") < b.value("id", ""); });
    return cache_[key] = std::move(recs);
  }

  Benchmark& bench(const std::string& id) {
    auto it = benches_.find(id);
    if (it != benches_.end()) return *it->second;
    const auto& spec = exp_.benchmark(id);
    return *(benches_[id] = Registry<Benchmark>::instance().create(spec.name, spec.options));
  }

  void score(const std::vector<json>& records, const ColumnSpec& col, int64_t bootstrap, Value& out) {
    std::vector<ScoredRecord> recs;
    std::map<std::string, std::vector<size_t>> strata;
    for (const auto& r : records) {
      ScoredRecord s = scored(r);
      strata[s.group].push_back(recs.size());
      recs.push_back(std::move(s));
    }
    Benchmark& b = bench(col.benchmark);
    auto v = lookup(b.aggregate(recs), col.group);
    out.n = static_cast<int64_t>(recs.size());
    if (!v) return;
    out.has = true;
    out.v = *v;
    if (recs.size() < 2 || bootstrap == 0) return;
    // Stratified bootstrap: resample within each group so every group keeps its size.
    std::mt19937_64 gen(20251125);
    std::vector<double> stats;
    std::vector<ScoredRecord> sample;
    for (int64_t i = 0; i < bootstrap; ++i) {
      sample.clear();
      for (const auto& [g, idx] : strata)
        for (size_t k = 0; k < idx.size(); ++k) sample.push_back(recs[idx[gen() % idx.size()]]);
      if (auto x = lookup(b.aggregate(sample), col.group)) stats.push_back(*x);
    }
    if (stats.size() >= 2) out.ci = (percentile(stats, 0.975) - percentile(stats, 0.025)) / 2;
  }

  static ScoredRecord scored(const json& r) {
    ScoredRecord s;
    s.id = r.value("id", "");
    s.group = r.value("group", "");
    s.failed = r.value("failed", false);
    s.score = r.contains("score") && r["score"].is_number() ? r["score"].get<double>() : 0.0;
    if (r.contains("meta")) s.meta = r["meta"];
    return s;
  }

  const Experiment& exp_;
  const RecordSource& source_;
  std::map<std::string, std::vector<json>> cache_;
  std::map<std::string, std::unique_ptr<Benchmark>> benches_;
};

std::string row_label(const Cell& c) {
  std::string s = c.label;
  if (c.grid_point.empty()) return s;
  std::vector<std::string> kv;
  for (auto it = c.grid_point.begin(); it != c.grid_point.end(); ++it) kv.push_back(it.key() + "=" + value_text(it.value()));
  return s + " (" + join_names(kv) + ")";
}

template <class T>
void push_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// Marks the best value of each column (by_column) or each row among non-Full rows of a block.
void mark_best(Grid& g, const std::vector<std::string>& better, bool by_column) {
  auto key = [&](const Value& v, size_t col) {
    const double r = std::round(v.v * std::pow(10.0, static_cast<double>(g.digits[col])));
    return better[col] == "lower" ? -r : r;
  };
  if (by_column) {
    for (size_t c = 0; c < g.header.size(); ++c) {
      std::map<std::string, double> best;
      for (const auto& row : g.rows)
        if (!row.is_full && row.cells[c].has)
          best[row.block] = best.count(row.block) ? std::max(best[row.block], key(row.cells[c], c)) : key(row.cells[c], c);
      for (auto& row : g.rows)
        if (!row.is_full && row.cells[c].has && key(row.cells[c], c) == best[row.block]) row.cells[c].best = true;
    }
  } else {
    for (auto& row : g.rows) {
      double best = -INFINITY;
      for (size_t c = 0; c < row.cells.size(); ++c)
        if (row.cells[c].has) best = std::max(best, key(row.cells[c], c));
      for (size_t c = 0; c < row.cells.size(); ++c)
        if (row.cells[c].has && key(row.cells[c], c) == best) row.cells[c].best = true;
    }
  }
}

Grid build_methods(const TableSpec& t, const Experiment& exp, const ModelSpec& model, Evaluator& ev) {
  Grid g;
  g.title = t.title;
  g.corner = "Method";
  std::vector<std::string> better;
  for (const auto& c : t.columns) g.header.push_back(c.label), g.digits.push_back(c.digits), better.push_back(c.better);
  std::vector<double> rhos;
  std::vector<std::string> keys;
  for (const auto& c : exp.cells)
    if (!c.is_full()) push_unique(rhos, c.rho), push_unique(keys, row_label(c));
  if (rhos.empty()) rhos.push_back(1.0);
  const Cell* full = exp.full_cell();
  for (double rho : rhos) {
    const std::string block = rhos.size() > 1 ? fmt::format("ρ = {:g}", rho) : "";
    auto add = [&](const Cell& c, const std::string& label) {
      Row row{block, label, c.is_full(), {}};
      for (const auto& col : t.columns) row.cells.push_back(ev.value(model, c, col, t.bootstrap));
      g.rows.push_back(std::move(row));
    };
    if (full) add(*full, "Full");
    for (const auto& k : keys)
      for (const auto& c : exp.cells)
        if (!c.is_full() && c.rho == rho && row_label(c) == k) add(c, k);
  }
  mark_best(g, better, true);
  return g;
}

Grid build_param(const TableSpec& t, const Experiment& exp, const ModelSpec& model, Evaluator& ev) {
  Grid g;
  g.title = t.title;
  g.corner = t.param_label;
  std::vector<const Cell*> cells;
  std::vector<double> rhos;
  for (const auto& c : exp.cells)
    if (c.method == t.method && c.grid_point.contains(t.param)) cells.push_back(&c), push_unique(rhos, c.rho);
  std::vector<json> values;
  for (const Cell* c : cells) push_unique(values, c->grid_point[t.param]);
  auto vlabel = [&](const json& v) { return t.labels.value(value_text(v), value_text(v)); };
  auto find = [&](double rho, const json& v) -> const Cell* {
    for (const Cell* c : cells)
      if (c->rho == rho && c->grid_point[t.param] == v) return c;
    return nullptr;
  };
  const bool values_as_columns = t.orientation == "columns";
  std::vector<std::string> better;
  if (values_as_columns) {
    for (const auto& v : values) g.header.push_back(vlabel(v));
  } else {
    for (const auto& c : t.columns) g.header.push_back(c.label), g.digits.push_back(c.digits), better.push_back(c.better);
  }
  for (double rho : rhos) {
    const std::string block = rhos.size() > 1 ? fmt::format("ρ = {:g}", rho) : "";
    if (values_as_columns) {
      for (const auto& col : t.columns) {
        Row row{block, col.label, false, {}};
        for (const auto& v : values) {
          const Cell* c = find(rho, v);
          row.cells.push_back(c ? ev.value(model, *c, col, t.bootstrap) : Value{});
        }
        g.rows.push_back(std::move(row));
      }
    } else {
      for (const auto& v : values) {
        Row row{block, vlabel(v), false, {}};
        const Cell* c = find(rho, v);
        for (const auto& col : t.columns) row.cells.push_back(c ? ev.value(model, *c, col, t.bootstrap) : Value{});
        g.rows.push_back(std::move(row));
      }
    }
  }
  if (values_as_columns) {
    // Per-row best: a row is one column spec, so its digits and direction apply to every cell.
    for (auto& row : g.rows) {
      const ColumnSpec& col = *std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.label == row.label; });
      Grid one{"", "", std::vector<std::string>(row.cells.size()), std::vector<int64_t>(row.cells.size(), col.digits), {row}};
      mark_best(one, std::vector<std::string>(row.cells.size(), col.better), false);
      row = one.rows[0];
    }
    g.digits.clear();
    for (size_t i = 0; i < values.size(); ++i) g.digits.push_back(t.columns.empty() ? 2 : t.columns[0].digits);
  } else {
    mark_best(g, better, true);
  }
  return g;
}

std::string cell_text(const Value& v, int64_t digits, bool markdown) {
  if (!v.has) return markdown ? "–" : "";
  std::string num = fmt::format("{:.{}f}", v.v, digits);
  if (markdown && v.best) num = "**" + num + "**";
  if (!markdown || v.ci < 0) return num;
  return num + fmt::format(" ± {:.{}f}", v.ci, digits);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string to_markdown(const Grid& g) {
  std::string out;
  if (!g.title.empty()) out += "### " + g.title + "\n\n";
  out += "| " + g.corner + " |";
  for (const auto& h : g.header) out += " " + h + " |";
  out += "\n|---|";
  for (size_t i = 0; i < g.header.size(); ++i) out += "---:|";
  out += "\n";
  std::string block;
  int64_t nmin = -1, nmax = 0;
  for (const auto& row : g.rows) {
    if (row.block != block) {
      block = row.block;
      out += "| *" + block + "* |";
      for (size_t i = 0; i < g.header.size(); ++i) out += " |";
      out += "\n";
    }
    out += "| " + row.label + " |";
    for (size_t c = 0; c < row.cells.size(); ++c) {
      out += " " + cell_text(row.cells[c], g.digits[c], true) + " |";
      if (row.cells[c].has) nmin = nmin < 0 ? row.cells[c].n : std::min(nmin, row.cells[c].n), nmax = std::max(nmax, row.cells[c].n);
    }
    out += "\n";
  }
  const std::string n = nmin < 0 ? "0" : nmin == nmax ? std::to_string(nmin) : fmt::format("{}–{}", nmin, nmax);
  out += fmt::format("\nmean ± 95% CI over n = {} samples per cell; **bold**: best compressed setting.\n", n);
  return out;
}

std::string to_csv(const Grid& g) {
  std::string out = "block," + csv_field(g.corner);
  for (const auto& h : g.header) out += "," + csv_field(h) + "," + csv_field(h + " ci95");
  out += ",n\n";
  for (const auto& row : g.rows) {
    out += csv_field(row.block) + "," + csv_field(row.label);
    int64_t n = 0;
    for (size_t c = 0; c < row.cells.size(); ++c) {
      const Value& v = row.cells[c];
      out += "," + cell_text(v, g.digits[c], false) + "," + (v.has && v.ci >= 0 ? fmt::format("{:.{}f}", v.ci, g.digits[c]) : "");
      n = std::max(n, v.n);
    }
    out += fmt::format(",{}\n", n);
  }
  return out;
}

json to_json(const Grid& g) {
  json rows = json::array();
  for (const auto& row : g.rows) {
    json cells = json::array();
    for (const auto& v : row.cells)
      cells.push_back({{"value", v.has ? json(v.v) : json()}, {"ci95", v.ci >= 0 ? json(v.ci) : json()}, {"n", v.n}, {"best", v.best}});
    rows.push_back({{"block", row.block}, {"label", row.label}, {"full", row.is_full}, {"cells", cells}});
  }
  return {{"title", g.title}, {"corner", g.corner}, {"header", g.header}, {"rows", rows}};
}

}  // namespace

double t_quantile_975(int64_t df) {
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return NAN;
  if (df <= 30) return kTable[df - 1];
  return 1.959964 + 2.4 / static_cast<double>(df);  // within 0.002 of the exact quantile for df > 30
}

CellValue evaluate_cell(const Experiment& exp, const RecordSource& source, const ModelSpec& model, const Cell& cell,
                        const std::string& benchmark, const std::string& group, const std::string& metric,
                        int64_t bootstrap) {
  Evaluator ev(exp, source);
  ColumnSpec col;
  col.benchmark = benchmark;
  col.group = group;
  col.metric = metric;
  const Value v = ev.value(model, cell, col, bootstrap);
  return {v.has, v.v, v.ci, v.n};
}

void validate_table_spec(const json& spec, const Experiment& exp, const std::string& where) { parse_spec(spec, exp, where); }

RecordSource result_store_source(const Experiment& exp) {
  return [root = exp.results_root, name = exp.name](const ModelSpec& m, const Cell& c, const BenchmarkSpec& b) {
    ResultPath p{root, name, m.name, c.dir, b.id};
    return read_benchmark_records(p.dir(), b.id);
  };
}

std::string render_tables(const Experiment& exp, const RecordSource& source, const std::string& format,
                          const std::string& model) {
  if (format != "md" && format != "csv" && format != "json")
    throw UsageError(fmt::format("--format '{}': expected md, csv or json", format));
  json specs = exp.tables.empty() ? json::array({json::object()}) : exp.tables;
  Evaluator ev(exp, source);
  std::string out;
  json all = json::array();
  for (size_t i = 0; i < specs.size(); ++i) {
    const TableSpec t = parse_spec(specs[i], exp, fmt::format("{}: tables[{}]", exp.source, i));
    for (const auto& m : exp.models) {
      if ((!model.empty() && m.name != model) || (!t.model.empty() && m.name != t.model)) continue;
      Grid g = t.layout == "methods" ? build_methods(t, exp, m, ev) : build_param(t, exp, m, ev);
      if (exp.models.size() > 1 && t.model.empty()) g.title += (g.title.empty() ? "" : " — ") + m.name;
      if (format == "md") out += (out.empty() ? "" : "\n") + to_markdown(g);
      if (format == "csv") out += (out.empty() ? "" : "\n") + to_csv(g);
      if (format == "json") {
        json j = to_json(g);
        j["model"] = m.name;
        all.push_back(std::move(j));
      }
    }
  }
  return format == "json" ? json{{"experiment", exp.name}, {"tables", all}}.dump(2) + "\n" : out;
}

std::string render_long(const Experiment& exp, const RecordSource& source, const std::string& format,
                        const std::string& model, int64_t bootstrap) {
  if (format != "csv" && format != "json")
    throw UsageError(fmt::format("--long: --format '{}' must be csv or json", format));
  std::vector<std::string> params;  // every grid/method parameter, one column each
  for (const auto& c : exp.cells)
    for (const auto& [k, v] : c.params.items()) push_unique(params, k);
  Evaluator ev(exp, source);
  json rows = json::array();
  for (const auto& m : exp.models) {
    if (!model.empty() && m.name != model) continue;
    for (const auto& c : exp.cells)
      for (const auto& b : exp.benchmarks) {
        json base = {{"experiment", exp.name}, {"model", m.name}, {"method", c.method}, {"label", row_label(c)}, {"rho", c.rho}};
        for (const auto& p : params) base["param_" + p] = c.params.contains(p) ? c.params[p] : json();
        base["benchmark"] = b.id;
        auto add = [&](const std::string& group, const std::string& metric, int64_t boot) {
          ColumnSpec col;
          col.benchmark = b.id, col.group = group, col.metric = metric;
          const Value v = ev.value(m, c, col, boot);
          if (!v.has) return;
          json r = base;
          r["group"] = group, r["metric"] = metric, r["value"] = v.v;
          r["ci95"] = v.ci >= 0 ? json(v.ci) : json();
          r["n"] = v.n;
          rows.push_back(std::move(r));
        };
        for (const auto& g : ev.score_groups(m, c, b.id)) add(g, "score", bootstrap);
        for (const auto& metric : ev.record_metrics(m, c, b.id)) add("overall", metric, 0);
      }
  }
  if (format == "json") return rows.dump(1) + "\n";
  std::vector<std::string> cols = {"experiment", "model", "method", "label", "rho"};
  for (const auto& p : params) cols.push_back("param_" + p);
  for (const char* k : {"benchmark", "group", "metric", "value", "ci95", "n"}) cols.push_back(k);
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + csv_field(cols[i]);
  out += "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < cols.size(); ++i) {
      const json& v = r[cols[i]];
      const std::string text = v.is_null() ? "" : v.is_number_float() ? fmt::format("{:.10g}", v.get<double>())
                                              : v.is_string()         ? v.get<std::string>()
                                                                      : v.dump();
      out += (i ? "," : "") + csv_field(text);
    }
    out += "\n";
  }
  return out;
}

}  // namespace kvb
