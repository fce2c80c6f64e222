// configs/methods/NAME.json documents each method's defaults: it must equal the defaults the
// method's own ConfigReader holds (so the file can never drift from the code) and resolve to
// the same params() as an empty config; `kvbench list methods --json` describes every key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "compress/method.h"
#include "compress/method_params.h"
#include "core/config.h"
#include "core/registry.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kSource = KVB_SOURCE_DIR;

// The shipped methods (methods/NAME.cpp); the test binary also registers fakes.
std::vector<std::string> shipped() {
  std::vector<std::string> out;
  for (const auto& n : kvb::Registry<kvb::CompressionMethod>::instance().names())
    if (fs::exists(kSource / "methods" / (n + ".cpp"))) out.push_back(n);
  return out;
}

// {key: default} over every parameter the method reads.
json documented(const std::string& method) {
  json out = json::object();
  for (const json& p : kvb::method_parameters(method)) out[p["name"].get<std::string>()] = p["default"];
  return out;
}

TEST(MethodDefaults, ConfigFilesEqualTheDefaults) {
  ASSERT_GE(shipped().size(), 9u);
  for (const auto& name : shipped()) {
    const json d = documented(name);
    const fs::path f = kSource / "configs/methods" / (name + ".json");
    if (d.empty()) {
      EXPECT_FALSE(fs::exists(f)) << name << " has no parameters to document";
      continue;
    }
    ASSERT_TRUE(fs::exists(f)) << f;
    EXPECT_EQ(kvb::read_json_file(f.string()), d) << f;
    // The file is a config the method accepts and resolves to the same parameters.
    const auto& reg = kvb::Registry<kvb::CompressionMethod>::instance();
    EXPECT_EQ(reg.create(name, d)->params(), reg.create(name, json::object())->params()) << name;
  }
  for (const auto& f : fs::directory_iterator(kSource / "configs/methods"))
    EXPECT_TRUE(kvb::Registry<kvb::CompressionMethod>::instance().has(f.path().stem().string())) << f.path();
}

TEST(MethodDefaults, ListDescribesEveryResolvedParameter) {
  for (const auto& name : shipped()) {
    const json d = documented(name);
    const json resolved = kvb::Registry<kvb::CompressionMethod>::instance().create(name, json::object())->params();
    for (const json& p : kvb::method_parameters(name))
      EXPECT_FALSE(p["type"].get<std::string>().empty()) << name << "." << p["name"];
    // params() may leave out what a choice makes unused (mixkv's floor_alpha with base snapkv).
    for (const auto& [k, v] : resolved.items()) {
      ASSERT_TRUE(d.contains(k)) << name << " resolves '" << k << "' that it never reads";
      EXPECT_EQ(d[k], v) << name << "." << k;
    }
  }
  // Read back from methods/flashcache.cpp: gamma is checked in (0, 1] after the reader finishes.
  const json fc = kvb::method_parameters("flashcache");
  const auto gamma = std::find_if(fc.begin(), fc.end(), [](const json& p) { return p["name"] == "gamma"; });
  ASSERT_NE(gamma, fc.end());
  EXPECT_EQ((*gamma)["type"], "number");
  EXPECT_EQ((*gamma)["range"], "(0, 1]");
  EXPECT_EQ((*gamma)["default"], 0.2);
  const auto gran = std::find_if(fc.begin(), fc.end(), [](const json& p) { return p["name"] == "granularity"; });
  ASSERT_NE(gran, fc.end());
  EXPECT_EQ((*gran)["choices"], json({"head", "layer"}));
}

}  // namespace
