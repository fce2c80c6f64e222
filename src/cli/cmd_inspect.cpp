// `kvbench inspect FILE|DIR [--json] [--stats]`: what a safetensors file or checkpoint holds.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/progress.h"
#include "core/safetensors.h"

namespace {

nlohmann::json stats_of(const kvb::SafeTensors& st, const std::string& name) {
  at::Tensor t = st.get(name, at::kFloat);
  if (t.numel() == 0) return {{"min", nullptr}, {"max", nullptr}, {"mean", nullptr}};
  return {{"min", t.min().item<double>()}, {"max", t.max().item<double>()}, {"mean", t.mean(at::kDouble).item<double>()}};
}

std::string num(const nlohmann::json& v) { return v.is_null() ? "-" : fmt::format("{:.6g}", v.get<double>()); }

}  // namespace

KVB_COMMAND(setup_inspect, "inspect", "List the tensors of a safetensors file or checkpoint folder") {
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto stats = std::make_shared<bool>(false);
  sub.add_option("path", *path, "a .safetensors file, or a folder with model.safetensors[.index.json]")->required();
  sub.add_flag("--json", *as_json, R"(print {"tensors":[{"name","dtype","shape"}]})");
  sub.add_flag("--stats", *stats, "add min/max/mean of each tensor (reads all data)");
  return [=] {
    auto st = kvb::SafeTensors::open(*path);
    nlohmann::json rows = nlohmann::json::array();
    int64_t params = 0;
    kvb::Progress progress("inspect", *stats ? static_cast<int64_t>(st.tensors().size()) : 0, "tensors");
    for (const auto& t : st.tensors()) {
      nlohmann::json row = {{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}};
      int64_t n = 1;
      for (int64_t d : t.shape) n *= d;
      params += n;
      if (*stats) {
        row.update(stats_of(st, t.name));
        progress.tick();
      }
      rows.push_back(std::move(row));
    }
    progress.finish();
    if (*as_json) {
      nlohmann::json out = {{"tensors", rows}};
      if (!st.metadata().empty()) out["metadata"] = st.metadata();
      std::cout << out.dump(2) << "\n";
      return;
    }
    size_t wn = 4, wd = 5;
    for (const auto& r : rows) {
      wn = std::max(wn, r["name"].get<std::string>().size());
      wd = std::max(wd, r["dtype"].get<std::string>().size());
    }
    for (const auto& r : rows) {
      std::string line = fmt::format("{:<{}}  {:<{}}  [{}]", r["name"].get<std::string>(), wn,
                                     r["dtype"].get<std::string>(), wd, fmt::join(r["shape"].get<std::vector<int64_t>>(), ", "));
      if (*stats)
        line = fmt::format("{:<{}}  min {}  max {}  mean {}", line, wn + wd + 24, num(r["min"]), num(r["max"]), num(r["mean"]));
      std::cout << line << "\n";
    }
    std::cout << fmt::format("{} tensors, {} parameters\n", rows.size(), params);
  };
}
