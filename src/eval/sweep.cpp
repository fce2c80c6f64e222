#include "eval/sweep.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "compress/method.h"
#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "eval/benchmark.h"
#include "eval/result_store.h"
#include "eval/table.h"

namespace kvb {
namespace fs = std::filesystem;

namespace {

std::string env_key(const std::string& key) {
  std::string out = "KVB_";
  for (char c : key) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

}  // namespace

std::string substitute_path_vars(const std::string& s, const std::map<std::string, std::string>& vars,
                                 const std::string& where) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t b = s.find("${", pos);
    if (b == std::string::npos) break;
    size_t e = s.find('}', b);
    if (e == std::string::npos) break;
    std::string key = s.substr(b + 2, e - b - 2);
    auto it = vars.find(key);
    const char* env = std::getenv(env_key(key).c_str());
    if (it == vars.end() && !env)
      throw UsageError(fmt::format("{}: unknown path variable '${{{}}}' (set {} or add \"{}\" to configs/paths.json)",
                                   where, key, env_key(key), key));
    out += s.substr(pos, b - pos) + (env ? std::string(env) : it->second);
    pos = e + 1;
  }
  return out + s.substr(pos);
}

namespace {

// Replaces ${key} in every string of `j`; `where` names the JSON path in errors.
void substitute(json& j, const std::map<std::string, std::string>& vars, const std::string& where) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) substitute(it.value(), vars, where + "." + it.key());
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) substitute(j[i], vars, fmt::format("{}[{}]", where, i));
  } else if (j.is_string()) {
    j = substitute_path_vars(j.get<std::string>(), vars, where);
  }
}

// Shortest text that reads back as the same double: 0.1 and 0.1000001 get different folders.
std::string value_str(const json& v) {
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void check_rho(const std::vector<double>& rhos, const std::string& where) {
  for (double r : rhos)
    if (!(r > 0 && r <= 1)) throw UsageError(fmt::format("{}: {} is outside (0, 1]", where, r));
}

template <class Base>
void check_registered(const std::string& name, const std::string& where) {
  if (!Registry<Base>::instance().has(name))
    throw UsageError(fmt::format("{}: unknown {} '{}'; known: {}", where, Base::kKind, name,
                                 join_names(Registry<Base>::instance().names())));
}

// Builds the component once so that its own ConfigReader rejects unknown keys and bad types now.
template <class Base>
void check_config(const std::string& name, const json& cfg, const std::string& where) {
  try {
    Registry<Base>::instance().create(name, cfg);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("{}: {}", where, e.what()));
  }
}

// Entries whose names become one folder or file name would share their results: an error.
class FolderNames {
 public:
  void claim(const std::string& name, const std::string& where, const char* what) {
    auto [it, fresh] = seen_.try_emplace(path_component(name), name, where);
    if (fresh) return;
    if (it->second.first == name) throw UsageError(fmt::format("{}: {} '{}' given twice", where, what, name));
    throw UsageError(fmt::format("{}: {} '{}' and '{}' ({}) map to the same result folder '{}'; rename one", where,
                                 what, name, it->second.first, it->second.second, it->first));
  }

 private:
  std::map<std::string, std::pair<std::string, std::string>> seen_;  // path -> (name, where)
};

std::vector<json> grid_points(const json& grid, const std::string& where) {
  std::vector<json> points = {json::object()};
  for (auto it = grid.begin(); it != grid.end(); ++it) {
    if (!it.value().is_array() || it.value().empty())
      throw UsageError(fmt::format("{}.{}: must be a non-empty list of values", where, it.key()));
    std::vector<json> next;
    for (const auto& p : points)
      for (const auto& v : it.value()) {
        json q = p;
        q[it.key()] = v;
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

void parse_models(const json& models, const std::string& source, Experiment& exp) {
  if (!models.is_array() || models.empty())
    throw UsageError(fmt::format("{}: models: must be a non-empty list", source));
  FolderNames folders;
  for (size_t i = 0; i < models.size(); ++i) {
    const std::string where = fmt::format("{}: models[{}]", source, i);
    ModelSpec m;
    std::string dtype, device;
    json options = json::object();
    ConfigReader r(models[i], where);
    r.get("name", m.name).get("path", m.path).get("dtype", dtype).get("device", device).get("options", options);
    r.finish();
    if (m.path.empty()) throw UsageError(fmt::format("{}.path: missing", where));
    if (!options.is_object()) throw UsageError(fmt::format("{}.options: must be an object", where));
    if (m.name.empty()) m.name = fs::path(m.path).filename().string();
    folders.claim(m.name, where + ".name", "model");
    m.load_options = options;
    if (!dtype.empty()) m.load_options["dtype"] = dtype;
    if (!device.empty()) m.load_options["device"] = device;
    exp.models.push_back(std::move(m));
  }
}

void parse_benchmarks(const json& benchmarks, const std::string& source, Experiment& exp) {
  if (!benchmarks.is_array() || benchmarks.empty())
    throw UsageError(fmt::format("{}: benchmarks: must be a non-empty list", source));
  FolderNames files;
  for (size_t i = 0; i < benchmarks.size(); ++i) {
    const std::string where = fmt::format("{}: benchmarks[{}]", source, i);
    BenchmarkSpec b;
    ConfigReader r(benchmarks[i], where);
    r.get("name", b.name).get("id", b.id).get("data", b.data).get("options", b.options).get("limit", b.limit);
    r.finish();
    check_registered<Benchmark>(b.name, where + ".name");
    if (!b.options.is_object()) throw UsageError(fmt::format("{}.options: must be an object", where));
    if (b.limit < 0) throw UsageError(fmt::format("{}.limit: must be >= 0", where));
    check_config<Benchmark>(b.name, b.options, where + ".options");
    if (b.id.empty()) b.id = b.name;
    // A shard's file is "<id>.shard<i>of<n>.jsonl": such an id would read another id's shards.
    if (b.id.find(".shard") != std::string::npos)
      throw UsageError(fmt::format("{}.id: '{}' must not contain '.shard' (shard files use it)", where, b.id));
    files.claim(b.id, where + ".id", "benchmark");
    exp.benchmarks.push_back(std::move(b));
  }
}

void parse_methods(const json& methods, const std::vector<double>& default_rho, const std::string& source,
                   Experiment& exp) {
  if (!methods.is_array() || methods.empty())
    throw UsageError(fmt::format("{}: methods: must be a non-empty list", source));
  std::map<std::string, std::pair<Cell, std::string>> by_dir;  // folder -> (cell, its entry)
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string where = fmt::format("{}: methods[{}]", source, i);
    std::string name, label;
    std::vector<double> rho;
    json params = json::object(), grid = json::object();
    ConfigReader r(methods[i], where);
    r.get("name", name).get("rho", rho).get("params", params).get("grid", grid).get("label", label);
    r.finish();
    if (name.empty()) throw UsageError(fmt::format("{}.name: missing", where));
    if (!params.is_object()) throw UsageError(fmt::format("{}.params: must be an object", where));
    if (!grid.is_object()) throw UsageError(fmt::format("{}.grid: must be an object of lists", where));
    check_rho(rho, where + ".rho");
    for (auto it = grid.begin(); it != grid.end(); ++it)
      if (params.contains(it.key()))
        throw UsageError(fmt::format("{}.grid.{}: also given in params", where, it.key()));
    std::vector<std::string> names = {name};
    if (name == "all") {
      if (!params.empty() || !grid.empty() || !label.empty())
        throw UsageError(fmt::format("{}: 'all' takes only rho (each method runs with its defaults)", where));
      names = Registry<CompressionMethod>::instance().names();
    }
    const auto points = grid_points(grid, where + ".grid");
    for (const auto& m : names) {
      check_registered<CompressionMethod>(m, where + ".name");
      std::vector<double> rhos = m == "full" ? std::vector<double>{1.0} : (rho.empty() ? default_rho : rho);
      if (rhos.empty())
        throw UsageError(fmt::format("{}.rho: missing (give it here or at the top level)", where));
      for (const auto& point : points) {
        json cfg = params;
        cfg.update(point);
        check_config<CompressionMethod>(m, cfg, where);
        for (double rv : rhos) {
          Cell c{m, label.empty() ? m : label, cell_dir_name(m, rv, cfg), cfg, point, rv};
          auto [it, fresh] = by_dir.try_emplace(c.dir, c, where);
          if (fresh) {
            exp.cells.push_back(std::move(c));
            continue;
          }
          // The same cell twice ("all" next to "full") is one cell; anything else would share
          // one folder and the second would never run.
          const Cell& o = it->second.first;
          if (o.method != c.method || o.params != c.params || o.rho != c.rho || o.label != c.label)
            throw UsageError(fmt::format("{}: rho {} {} and {} share the result folder '{}' (labels '{}', '{}'); "
                                         "give them different parameters or drop one",
                                         where, rv, cfg.dump(), it->second.second, c.dir, c.label, o.label));
        }
      }
    }
  }
  std::stable_partition(exp.cells.begin(), exp.cells.end(), [](const Cell& c) { return c.is_full(); });
}

}  // namespace

const Cell* Experiment::full_cell() const {
  for (const auto& c : cells)
    if (c.is_full()) return &c;
  return nullptr;
}

const BenchmarkSpec& Experiment::benchmark(const std::string& id) const {
  for (const auto& b : benchmarks)
    if (b.id == id) return b;
  throw UsageError(fmt::format("{}: no benchmark with id '{}'", source, id));
}

std::string cell_dir_name(const std::string& method, double rho, const json& params) {
  if (method == "full") return "full";
  std::string s = method + "-rho" + value_str(rho);
  for (auto it = params.begin(); it != params.end(); ++it) s += "-" + it.key() + "=" + value_str(it.value());
  return path_component(s);
}

std::map<std::string, std::string> load_path_vars(const std::string& paths_file) {
  std::map<std::string, std::string> vars = {{"models", "models"}, {"data", "data"}, {"results", "results"}};
  if (!paths_file.empty() && fs::exists(paths_file)) {
    json j = read_json_file(paths_file);
    if (!j.is_object()) throw UsageError(fmt::format("{}: must be an object of strings", paths_file));
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key().rfind("_", 0) == 0) continue;  // "_comment" and the like
      if (!it.value().is_string())
        throw UsageError(fmt::format("{}: key '{}' must be a string, got {}", paths_file, it.key(), it.value().dump()));
      vars[it.key()] = it.value().get<std::string>();
    }
  }
  return vars;
}

Experiment load_experiment(const std::string& path, const std::vector<std::string>& sets) {
  json config = read_json_file(path);
  apply_overrides(config, sets, path);
  const char* env = std::getenv("KVB_PATHS");
  const std::string paths_file =
      env ? std::string(env) : (fs::path(path).parent_path().parent_path() / "paths.json").string();
  return parse_experiment(config, path, load_path_vars(paths_file));
}

Experiment parse_experiment(const json& config, const std::string& source,
                            const std::map<std::string, std::string>& vars) {
  Experiment exp;
  exp.source = source;
  json resolved = config;
  substitute(resolved, vars, source);
  std::vector<double> rho;
  json models, benchmarks, methods, generation = json::object();
  exp.results_root = "${results}";
  ConfigReader top(resolved, source);
  top.get("name", exp.name).get("description", exp.description).get("rho", rho).get("models", models);
  top.get("benchmarks", benchmarks).get("methods", methods).get("generation", generation);
  top.get("tables", exp.tables).get("results", exp.results_root);
  top.finish();
  if (exp.name.empty()) exp.name = fs::path(source).stem().string();
  if (exp.results_root == "${results}") {
    json r = exp.results_root;
    substitute(r, vars, source + ": results");
    exp.results_root = r.get<std::string>();
  }
  check_rho(rho, source + ": rho");
  parse_models(models, source, exp);
  parse_benchmarks(benchmarks, source, exp);
  parse_methods(methods, rho, source, exp);
  ConfigReader g(generation, source + ": generation");
  g.get("max_new_tokens", exp.max_new_tokens).get("stop_ids", exp.stop_ids);
  g.finish();
  if (exp.max_new_tokens < 0) throw UsageError(fmt::format("{}: generation.max_new_tokens: must be >= 0", source));
  if (!exp.tables.is_array()) throw UsageError(fmt::format("{}: tables: must be a list", source));
  for (size_t i = 0; i < exp.tables.size(); ++i)
    validate_table_spec(exp.tables[i], exp, fmt::format("{}: tables[{}]", source, i));
  exp.resolved = std::move(resolved);
  return exp;
}

Shard parse_shard(const std::string& text) {
  static const std::regex re(R"(\s*(\d+)\s*/\s*(\d+)\s*)");
  std::smatch m;
  if (!std::regex_match(text, m, re)) throw UsageError(fmt::format("--shard '{}': expected i/n, e.g. 2/8", text));
  // Digits only by the regex; more than 9 of them cannot be a shard count (and overflow stoi).
  if (m[1].length() > 9 || m[2].length() > 9)
    throw UsageError(fmt::format("--shard '{}': i and n must be at most 999999999", text));
  const int i = std::stoi(m[1]), n = std::stoi(m[2]);
  if (n < 1 || i < 1 || i > n) throw UsageError(fmt::format("--shard '{}': need 1 <= i <= n", text));
  return {i - 1, n};
}

std::vector<size_t> shard_positions(size_t n, int64_t limit, Shard shard) {
  const size_t m = limit > 0 ? std::min(n, static_cast<size_t>(limit)) : n;
  std::vector<size_t> out;
  for (size_t p = static_cast<size_t>(shard.index); p < m; p += static_cast<size_t>(shard.count)) out.push_back(p);
  return out;
}

}  // namespace kvb
