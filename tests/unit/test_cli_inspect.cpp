// `kvbench inspect` through the real binary: JSON layout, stats, exit codes.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/safetensors.h"

namespace fs = std::filesystem;

namespace {
struct Result {
  int rc;
  std::string out, err;
};
Result run(const std::string& args) {
  const std::string err_path = (fs::temp_directory_path() / fmt::format("kvb_inspect_{}.err", ::getpid())).string();
  std::string cmd = std::string(KVB_BINARY) + " " + args + " 2>" + err_path;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  std::ifstream e(err_path);
  std::string err((std::istreambuf_iterator<char>(e)), {});
  fs::remove(err_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, err};
}
}  // namespace

TEST(CliInspect, JsonStatsAndErrors) {
  auto path = (fs::temp_directory_path() / fmt::format("kvb_inspect_{}.safetensors", ::getpid())).string();
  at::Tensor w = at::arange(-3, 4, at::kFloat).reshape({7, 1});  // min -3, max 3, mean 0
  kvb::write_safetensors(path, {{"w", w}, {"ids", at::arange(5, at::kLong)}});
  auto r = run("inspect --json --stats " + path);
  ASSERT_EQ(r.rc, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tensors"].size(), 2u);
  EXPECT_EQ(j["tensors"][0]["name"], "ids");
  EXPECT_EQ(j["tensors"][0]["dtype"], "I64");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json::array({5}));
  EXPECT_EQ(j["tensors"][1]["shape"], nlohmann::json::array({7, 1}));
  EXPECT_DOUBLE_EQ(j["tensors"][1]["min"].get<double>(), -3);
  EXPECT_DOUBLE_EQ(j["tensors"][1]["max"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(j["tensors"][1]["mean"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(j["tensors"][0]["mean"].get<double>(), 2);

  r = run("inspect " + path);
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("w     F32    [7, 1]\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 tensors, 12 parameters"), std::string::npos) << r.out;

  fs::resize_file(path, fs::file_size(path) - 3);
  r = run("inspect " + path);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("kvbench: error: " + path, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one clear line
  EXPECT_EQ(run("inspect").rc, 2);
  fs::remove(path);
}
