#pragma once
// A scratch folder per test file and process (`prefix` + pid under the system temp folder),
// emptied when made and removed at exit.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace kvb::test {

struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path), std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

}  // namespace kvb::test
