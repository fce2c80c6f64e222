#include "eval/result_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "core/error.h"
#include "core/json_parse.h"
#include "core/strings.h"
#include "core/version.h"

namespace kvb {
namespace fs = std::filesystem;
using nlohmann::json;

std::string experiment_dir(const std::string& root, const std::string& experiment) {
  return (fs::path(root) / path_component(experiment)).string();
}

std::string ResultPath::dir() const {
  return (fs::path(experiment_dir(root, experiment)) / path_component(model) / path_component(cell)).string();
}

std::string ResultPath::file() const {
  std::string name = path_component(benchmark);
  if (shards > 1) name += fmt::format(".shard{}of{}", shard + 1, shards);
  return (fs::path(dir()) / (name + ".jsonl")).string();
}

std::string path_component(const std::string& text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._=+-", c)) ? c : '_';
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Parses the complete lines of `text`; returns the byte length of those lines (anything after is
// an incomplete last line).
size_t parse_lines(const std::string& text, const std::string& path, std::vector<json>& out,
                   bool warn_incomplete = true) {
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      if (warn_incomplete)
        spdlog::warn("{}: dropping an incomplete last line ({} bytes; the writer was interrupted)", path,
                     text.size() - pos);
      return pos;
    }
    ++line_no;
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = parse_json(line);
    } catch (const json::parse_error&) {
      j = json();  // reported below with the line
    }
    KVB_CHECK(j.is_object(), "{}:{}: not a JSON record: {}", path, line_no,
              line.substr(0, 80));
    out.push_back(std::move(j));
  }
  return pos;
}

void write_line(int fd, const std::string& line, const std::string& path) {
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    KVB_CHECK(n > 0, "{}: write failed: {}", path, std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::vector<json> read_records(const std::string& path, bool warn_incomplete) {
  std::vector<json> out;
  if (!fs::exists(path)) return out;
  parse_lines(slurp(path), path, out, warn_incomplete);
  return out;
}

std::vector<std::string> benchmark_files(const std::string& dir, const std::string& benchmark) {
  std::vector<std::string> files;
  const std::string base = path_component(benchmark);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name == base + ".jsonl" || (name.rfind(base + ".shard", 0) == 0 && ends_with(name, ".jsonl")))
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<json> read_benchmark_records(const std::string& dir, const std::string& benchmark) {
  std::vector<json> out;
  std::set<std::string> seen;
  for (const auto& f : benchmark_files(dir, benchmark))
    for (auto& r : read_records(f)) {
      // The same sample in two files (an unsharded and a sharded run of one cell): keep the first.
      const std::string id = r.value("id", "");
      if (!seen.insert(id).second) {
        spdlog::debug("{}: sample '{}' already read from another file; skipped", f, id);
        continue;
      }
      out.push_back(std::move(r));
    }
  return out;
}

namespace {

// A run with n shards holds a shared lock on byte n of the lock file; any lock on another byte
// is a run with another sharding. Open-file-description locks, unlike POSIX ones, also conflict
// within one process and survive closing other descriptors of the file.
int lock_sharding(const std::string& path, int shards) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  KVB_CHECK(fd >= 0, "{}: cannot open: {}", path, std::strerror(errno));
  struct flock mine {};
  mine.l_type = F_RDLCK;
  mine.l_whence = SEEK_SET;
  mine.l_start = shards;
  mine.l_len = 1;
  if (::fcntl(fd, F_OFD_SETLK, &mine) == 0) {
    // Both ranges around byte n; two runs starting at once may both see the other and both stop.
    for (auto [start, len] : {std::pair<off_t, off_t>{0, shards}, {shards + 1, 0}}) {
      struct flock other {};
      other.l_type = F_WRLCK;
      other.l_whence = SEEK_SET;
      other.l_start = start;
      other.l_len = len;
      if (::fcntl(fd, F_OFD_GETLK, &other) == 0 && other.l_type == F_UNLCK) continue;
      ::close(fd);
      const std::string who = other.l_start == 1 ? std::string("an unsharded run")
                                                 : fmt::format("a run with --shard i/{}", other.l_start);
      KVB_FAIL("{}: {} is writing these results; runs with different shardings of one cell cannot run at once",
               path, who);
    }
    return fd;
  }
  ::close(fd);
  KVB_FAIL("{}: cannot lock: {}", path, std::strerror(errno));
}

}  // namespace

ResultWriter::ResultWriter(const ResultPath& where, bool durable)
    : path_(where.file()), where_dir_(where.dir()), benchmark_(where.benchmark), durable_(durable) {
  std::error_code ec;
  fs::create_directories(where.dir(), ec);
  KVB_CHECK(!ec, "{}: cannot create folder: {}", where.dir(), ec.message());
  lock_fd_ = lock_sharding((fs::path(where.dir()) / (path_component(where.benchmark) + ".lock")).string(),
                           where.shards);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    ::close(lock_fd_);
    KVB_FAIL("{}: cannot open for appending: {}", path_, std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    ::close(lock_fd_);
    fd_ = lock_fd_ = -1;
    KVB_FAIL("{}: another process is writing this file (two runs of the same cell and shard?)", path_);
  }
  try {
    load_done();
  } catch (...) {  // no destructor runs: release the locks here
    ::close(fd_);
    ::close(lock_fd_);
    throw;
  }
}

void ResultWriter::load_done() {
  std::vector<json> records;
  const std::string text = slurp(path_);
  const size_t complete = parse_lines(text, path_, records);
  if (complete < text.size())
    KVB_CHECK(::ftruncate(fd_, static_cast<off_t>(complete)) == 0, "{}: cannot cut the incomplete last line: {}",
              path_, std::strerror(errno));
  for (const auto& r : records) done_.insert(r.value("id", ""));
  // Other shardings' files are finished (the lock says none of them runs now); this sharding's
  // other slices may be mid-write, but they never hold this slice's samples.
  for (const auto& f : benchmark_files(where_dir_, benchmark_))
    if (f != path_)
      for (const auto& r : read_records(f, /*warn_incomplete=*/false)) done_.insert(r.value("id", ""));
}

ResultWriter::~ResultWriter() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the locks
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void ResultWriter::append(const json& record) {
  KVB_CHECK(record.is_object() && record.contains("id") && record["id"].is_string(),
            "{}: a record must be an object with a string 'id'", path_);
  // Model output may hold invalid UTF-8 (a token cut mid-character): replace, never throw.
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  // O_APPEND + one write() per line: a kill leaves at most this one line incomplete.
  write_line(fd_, line, path_);
  if (durable_) ::fdatasync(fd_);
  done_.insert(record["id"].get<std::string>());
}

json provenance() {
  struct utsname u {};
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("gcc ") + __VERSION__;
#else
  const std::string compiler = "unknown";
#endif
  return {{"kvbench_version", version()},
          {"git_commit", git_commit()},
          {"torch_version", TORCH_VERSION},
          {"compiler", compiler},
          {"cxx_standard", static_cast<int64_t>(__cplusplus)},
          {"host", host},
          {"os", fmt::format("{} {} {}", u.sysname, u.release, u.machine)},
          {"threads", at::get_num_threads()},
          {"cuda_available", at::hasCUDA()},
          {"time_utc", when}};
}

void write_run_json(const std::string& experiment_dir, const json& resolved_config, const json& extra,
                    bool append_history) {
  std::error_code ec;
  fs::create_directories(experiment_dir, ec);
  KVB_CHECK(!ec, "{}: cannot create folder: {}", experiment_dir, ec.message());
  json run = {{"config", resolved_config}, {"provenance", provenance()}};
  run.update(extra);
  const std::string path = (fs::path(experiment_dir) / "run.json").string();
  const std::string tmp = fmt::format("{}.tmp{}", path, ::getpid());
  {
    std::ofstream out(tmp);
    out << run.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    KVB_CHECK(out.good(), "{}: write failed", tmp);
  }
  KVB_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "{}: cannot replace: {}", path, std::strerror(errno));
  if (!append_history) return;
  // Shards of one sweep start together: no exclusive lock here, one O_APPEND write per line.
  const std::string history = (fs::path(experiment_dir) / "runs.jsonl").string();
  int fd = ::open(history.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  KVB_CHECK(fd >= 0, "{}: cannot open for appending: {}", history, std::strerror(errno));
  try {
    write_line(fd, run.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", history);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace kvb
