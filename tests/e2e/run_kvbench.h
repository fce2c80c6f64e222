#pragma once
// The built kvbench binary run as a user runs it, through the shell: what it printed and how it
// exited. The CLI tests read both, so a failure shows the output that explains it.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace kvb::test {

struct KvbenchRun {
  int code = -1;  // the exit status; -1 when killed by a signal
  std::string out;
};

// `redirect` ends the command line: the default folds stderr into `out`.
inline KvbenchRun run_kvbench(const std::string& args, const std::string& redirect = " 2>&1") {
  const std::string cmd = std::string(KVB_BINARY) + " " + args + redirect;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace kvb::test
