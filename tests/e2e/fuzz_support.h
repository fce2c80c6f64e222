#pragma once
// Seeded input mutation and a small pool that runs `kvbench` children with a wall-clock limit,
// for tests/e2e/test_fuzz_loaders.cpp. Children, not in-process calls: a crash, an abort or a
// runaway allocation must show up as a signal or a timeout instead of taking the test down.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kvb::fuzz {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
inline void spit(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

struct Mutant {
  std::string bytes, what;
  std::string base;  // which of a target's base files it came from, where there are several
  bool must_fail = false;  // no reading of these bytes may succeed
};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // Byte flips land in [lo, hi) (the part worth damaging, e.g. a safetensors header).
  Mutant flip(std::string s, size_t lo, size_t hi) {
    const size_t k = 1 + below(4);
    for (size_t i = 0; i < k; ++i) s[lo + below(hi - lo)] ^= static_cast<char>(1 + below(255));
    return {std::move(s), std::to_string(k) + " byte flip(s)"};
  }
  Mutant truncate(const std::string& s) {
    const size_t n = below(s.size());
    return {s.substr(0, n), "truncated to " + std::to_string(n) + " bytes"};
  }
  Mutant duplicate(const std::string& s) {
    const size_t a = below(s.size()), b = a + 1 + below(std::min<size_t>(s.size() - a, 64)), at = below(s.size() + 1);
    std::string out = s;
    out.insert(at, s.substr(a, b - a));
    return {std::move(out), "bytes [" + std::to_string(a) + ", " + std::to_string(b) + ") copied to " + std::to_string(at)};
  }
  // One JSON number token becomes something no sane reader accepts unchecked.
  Mutant number(const std::string& s) {
    static const char* kValues[] = {"1e308", "-1", "-9223372036854775809", "18446744073709551616", "NaN",
                                    "0.5",   "-0", "4294967296",           "1e-320",               "9007199254740993"};
    const auto spans = number_spans(s);
    if (spans.empty()) return duplicate(s);
    const auto [a, b] = spans[below(spans.size())];
    const std::string v = kValues[below(std::size(kValues))];
    Mutant m{s.substr(0, a) + v + s.substr(b), "number at " + std::to_string(a) + " -> " + v};
    m.must_fail = v == "NaN";  // not JSON
    return m;
  }
  // One JSON number becomes an array nested `depth` deep.
  Mutant nest(const std::string& s) {
    const auto spans = number_spans(s);
    if (spans.empty()) return duplicate(s);
    const auto [a, b] = spans[below(spans.size())];
    const size_t depth = std::vector<size_t>{8, 600, 100000}[below(3)];
    Mutant m{s.substr(0, a) + std::string(depth, '[') + s.substr(a, b - a) + std::string(depth, ']') + s.substr(b),
             "number at " + std::to_string(a) + " nested " + std::to_string(depth) + " deep"};
    m.must_fail = depth > 512;  // kvb::kMaxJsonDepth
    return m;
  }
  // Any of the above on a JSON text whose top level is an object.
  Mutant json_text(const std::string& s) {
    switch (below(5)) {
      case 0: return flip(s, 0, s.size());
      case 1: {
        Mutant m = truncate(s);
        m.must_fail = m.bytes.size() <= s.rfind('}');  // the top-level object is left open
        return m;
      }
      case 2: return duplicate(s);
      case 3: return number(s);
      default: return nest(s);
    }
  }
  Mutant binary(const std::string& s) {
    switch (below(3)) {
      case 0: return flip(s, 0, s.size());
      case 1: return truncate(s);
      default: return duplicate(s);
    }
  }

 private:
  // [begin, end) of each number outside JSON strings.
  static std::vector<std::pair<size_t, size_t>> number_spans(const std::string& s) {
    std::vector<std::pair<size_t, size_t>> out;
    bool in_string = false;
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        size_t j = i + 1;
        while (j < s.size() && std::string("0123456789.eE+-").find(s[j]) != std::string::npos) ++j;
        out.emplace_back(i, j);
        i = j - 1;
      }
    }
    return out;
  }
  std::mt19937_64 rng_;
};

struct Job {
  std::vector<std::string> args;  // after the binary
  fs::path stdin_file, out_file, err_file;
};

struct Outcome {
  bool timed_out = false, signaled = false;
  int code = -1, signal = 0;
};

inline pid_t start(const char* binary, const Job& j) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setpgid(0, 0);  // so a timeout kills whatever the child started too
  const int in = ::open(j.stdin_file.empty() ? "/dev/null" : j.stdin_file.c_str(), O_RDONLY);
  const int out = ::open(j.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open(j.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || err < 0) ::_exit(126);
  ::dup2(in, 0), ::dup2(out, 1), ::dup2(err, 2);
  std::vector<char*> argv{const_cast<char*>(binary)};
  for (const auto& a : j.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(binary, argv.data());
  ::_exit(127);
}

// Runs every job, `parallel` at a time; a child still running after `limit` is killed.
inline std::vector<Outcome> run_all(const char* binary, const std::vector<Job>& jobs, size_t parallel,
                                    std::chrono::seconds limit) {
  using Clock = std::chrono::steady_clock;
  std::vector<Outcome> out(jobs.size());
  struct Running {
    size_t job;
    pid_t pid;
    Clock::time_point since;
  };
  std::vector<Running> running;
  size_t next = 0;
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && running.size() < parallel) {
      running.push_back({next, start(binary, jobs[next]), Clock::now()});
      ++next;
    }
    for (size_t i = 0; i < running.size();) {
      Running& r = running[i];
      int status = 0;
      if (::waitpid(r.pid, &status, WNOHANG) == r.pid) {
        Outcome& o = out[r.job];
        o.signaled = WIFSIGNALED(status);
        o.signal = o.signaled ? WTERMSIG(status) : 0;
        o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      if (Clock::now() - r.since > limit && !out[r.job].timed_out) {
        out[r.job].timed_out = true;
        ::kill(-r.pid, SIGKILL);
        ::kill(r.pid, SIGKILL);
      }
      ++i;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return out;
}

}  // namespace kvb::fuzz
