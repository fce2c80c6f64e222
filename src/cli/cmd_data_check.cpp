// `kvbench data check --benchmark NAME --data-root DIR`: loads a dataset folder the way a run
// would and reports, per group, the samples, malformed rows and missing media, as a table.
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/benchmark_args.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"

namespace {

struct Row {
  size_t samples = 0, malformed = 0, media = 0, missing_media = 0, missing_files = 0;
  std::vector<std::string> errors;
};

bool mentions_missing_media(const std::string& error) {
  return error.find("missing image") != std::string::npos || error.find("missing video") != std::string::npos;
}

void print_table(const std::map<std::string, Row>& rows, const std::vector<std::string>& absent) {
  const std::string head = "| group | samples | malformed | media | missing media |";
  std::cout << head << "\n|---|---:|---:|---:|---:|\n";
  Row total;
  for (const auto& [name, r] : rows) {
    std::cout << "| " << name << " | " << r.samples << " | " << r.malformed << " | " << r.media << " | "
              << r.missing_media << " |\n";
    total.samples += r.samples, total.malformed += r.malformed, total.media += r.media;
    total.missing_media += r.missing_media;
  }
  for (const auto& name : absent) std::cout << "| " << name << " | missing | | | |\n";
  std::cout << "| **total** | " << total.samples << " | " << total.malformed << " | " << total.media << " | "
            << total.missing_media << " |\n";
}

}  // namespace

KVB_COMMAND(setup_data, "data", "Dataset utilities (data check)") {
  sub.require_subcommand(1);
  CLI::App* check = sub.add_subcommand("check", "Validate a dataset folder: counts, malformed rows, missing media");
  auto args = std::make_shared<kvb::cli::BenchmarkArgs>();
  auto as_json = std::make_shared<bool>(false);
  auto max_errors = std::make_shared<size_t>(5);
  kvb::cli::add_benchmark_args(*check, args, true);
  check->add_flag("--json", *as_json, "print the summary as JSON");
  check->add_option("--max-errors", *max_errors, "error messages listed per group (default 5)");
  check->footer("Exit status: 0 when every sample loads with its media, 1 when some are malformed or miss media.\n"
                "Groups the benchmark expects but that are absent (e.g. MileBench datasets not downloaded)\n"
                "are listed as missing without failing.");
  return [=] {
    auto bench = kvb::cli::make_benchmark(*args);
    auto samples = bench->load(args->data_root);
    std::map<std::string, Row> rows;
    for (const auto& s : samples) {
      Row& r = rows[s.group.empty() ? "(all)" : s.group];
      ++r.samples;
      if (!s.error.empty()) {
        ++r.malformed;
        if (mentions_missing_media(s.error)) ++r.missing_media;
        if (r.errors.size() < *max_errors) r.errors.push_back(s.id + ": " + s.error);
        continue;
      }
      for (const auto& m : s.messages)
        for (const auto& seg : m.content) {
          if (seg.kind == kvb::Segment::Kind::Text) continue;
          ++r.media;
          if (seg.media.bytes.empty() && !std::filesystem::is_regular_file(seg.media.path)) {
            ++r.missing_media, ++r.missing_files;
            if (r.errors.size() < *max_errors) r.errors.push_back(s.id + ": missing " + seg.media.path);
          }
        }
    }
    std::vector<std::string> absent;
    for (const auto& g : bench->expected_groups())
      if (!rows.count(g)) absent.push_back(g);

    size_t problems = 0;
    for (const auto& [name, r] : rows) problems += r.malformed + r.missing_files;  // no double count
    if (*as_json) {
      kvb::json j = {{"benchmark", args->name}, {"data_root", args->data_root}, {"missing_groups", absent}};
      for (const auto& [name, r] : rows)
        j["groups"][name] = {{"samples", r.samples}, {"malformed", r.malformed}, {"media", r.media},
                             {"missing_media", r.missing_media}, {"errors", r.errors}};
      std::cout << j.dump(2) << "\n";
    } else {
      print_table(rows, absent);
      for (const auto& [name, r] : rows)
        for (const auto& e : r.errors) std::cout << "- " << e << "\n";
    }
    KVB_CHECK(problems == 0, "{}: {} problem(s) in {} samples", args->data_root, problems, samples.size());
  };
}
