#pragma once
// The result store: one append-only jsonl file per (experiment, model, cell, benchmark[, shard]),
// results/<experiment>/<model>/<cell>/<benchmark>[.shard<i>of<n>].jsonl, plus run.json.
// Each record is written with a single write() of one full line, so a process killed at any
// moment leaves every earlier record intact and at most one incomplete last line; the reader
// drops that line with a warning and the writer cuts it off before appending.
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace kvb {

struct ResultPath {
  std::string root = "results", experiment, model, cell, benchmark;
  int shard = 0, shards = 1;  // shards > 1: this process writes slice `shard` (0-based)
  std::string dir() const;    // root/experiment/model/cell
  std::string file() const;   // dir()/benchmark.jsonl or dir()/benchmark.shard<i+1>of<n>.jsonl
};

// Turns free text (a model folder name, a parameter value) into one safe path component.
std::string path_component(const std::string& text);

// root/<experiment>: the folder of an experiment's run.json and cell folders.
std::string experiment_dir(const std::string& root, const std::string& experiment);

// Records of one jsonl file. A broken last line (a killed writer) is dropped with a warning
// (silently for files another shard may be writing right now); a broken line elsewhere is an
// error naming the file and line. A missing file reads as empty.
std::vector<nlohmann::json> read_records(const std::string& path, bool warn_incomplete = true);
// The record files of `benchmark` in the cell folder `dir`: unsharded and every shard's, sorted.
std::vector<std::string> benchmark_files(const std::string& dir, const std::string& benchmark);
// Records of every benchmark_files() file, in file-name order.
std::vector<nlohmann::json> read_benchmark_records(const std::string& dir, const std::string& benchmark);

// Writes one ResultPath::file(). Runs of one cell and benchmark with different shardings (an
// unsharded rerun after a --shard array, 1/2 after i/3) share what is recorded: every shard
// file counts as done. So that no sample runs twice, one sharding at a time may write a cell's
// benchmark (<benchmark>.lock), and each of its slices once (a lock on the file itself).
class ResultWriter {
 public:
  // Creates the folders, takes both locks (a conflicting writer is an error) and cuts off an
  // incomplete last line. `durable`: fdatasync after every record.
  explicit ResultWriter(const ResultPath& path, bool durable = true);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  // Appends `record` (an object with a string "id") as one line.
  void append(const nlohmann::json& record);
  // Sample ids already recorded (in any shard's file when opened, or appended since): a rerun
  // skips them.
  const std::set<std::string>& done_ids() const { return done_; }
  const std::string& path() const { return path_; }

 private:
  void load_done();

  std::string path_, where_dir_, benchmark_;
  int fd_ = -1, lock_fd_ = -1;
  bool durable_;
  std::set<std::string> done_;
};

// Versions and provenance for run.json: kvbench version, git commit, torch, compiler, host,
// threads, CUDA availability, UTC time.
nlohmann::json provenance();
// Writes root/experiment/run.json atomically (resolved config + provenance + `extra`) and appends
// the same object as one line to root/experiment/runs.jsonl (the history of every invocation)
// unless `append_history` is false (a rewrite within one invocation).
void write_run_json(const std::string& experiment_dir, const nlohmann::json& resolved_config,
                    const nlohmann::json& extra = nlohmann::json::object(), bool append_history = true);

}  // namespace kvb
