// Every JSON input goes through parse_json, which bounds nesting: a value nested 100,000 deep
// parses, but copying or destroying it recurses per level and overflows the stack (SIGSEGV).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/json_parse.h"
#include "core/safetensors.h"
#include "eval/sweep.h"
#include "tests/unit/error_text.h"

namespace fs = std::filesystem;

namespace {

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

fs::path scratch_file(const std::string& name) {
  return fs::temp_directory_path() / ("kvb_json_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST(JsonParse, NestingIsBoundedAndStringsDoNotCount) {
  EXPECT_EQ(kvb::parse_json(nested(kvb::kMaxJsonDepth)).dump().size(), 2u * kvb::kMaxJsonDepth);
  try {
    kvb::parse_json(nested(100000));
    ADD_FAILURE() << "no error";
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_STREQ(e.what(), "[json.exception.parse_error.101] parse error at byte 513: JSON nested deeper than 512 levels");
  }
  // Brackets inside strings (escaped quotes included) are text, not nesting.
  const std::string in_string = "[\"\\\"" + std::string(1000, '[') + "\"]";
  EXPECT_EQ(kvb::parse_json(in_string)[0].get<std::string>().size(), 1001u);
  EXPECT_THROW(kvb::parse_json("{\"a\": }"), nlohmann::json::parse_error);
}

TEST(JsonParse, DeepFilesAreErrorsNamingTheFile) {
  const fs::path cfg = scratch_file("config.json");
  std::ofstream(cfg) << "{\"name\": " << nested(100000) << "}";
  const std::string msg = kvb::test::error_text([&] { kvb::load_experiment(cfg.string()); });
  EXPECT_NE(msg.find(cfg.string() + ": invalid JSON:"), std::string::npos) << msg.substr(0, 300);
  EXPECT_NE(msg.find("nested deeper than 512 levels"), std::string::npos) << msg.substr(0, 300);
  fs::remove(cfg);

  // A safetensors header: 8-byte little-endian length, then the JSON.
  const fs::path st = scratch_file("deep.safetensors");
  const std::string header = nested(100000);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  std::ofstream(st, std::ios::binary) << bytes << header;
  const std::string st_msg = kvb::test::error_text([&] { kvb::SafeTensors::open(st.string()); });
  EXPECT_NE(st_msg.find(st.string() + ": header is not valid JSON"), std::string::npos) << st_msg.substr(0, 300);
  EXPECT_NE(st_msg.find("nested deeper than 512 levels"), std::string::npos) << st_msg.substr(0, 300);
  fs::remove(st);
}
