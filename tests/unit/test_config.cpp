#include <gtest/gtest.h>

#include "core/config.h"
#include "core/error.h"

using kvb::json;

namespace {
struct Cfg {
  int64_t window = 32;
  double ratio = 0.5;
  std::string pooling = "avg";
};
Cfg read(const json& j) {
  Cfg c;
  kvb::ConfigReader r(j, "method 'snapkv'");
  r.get("window", c.window).get("ratio", c.ratio).get_choice("pooling", c.pooling, {"avg", "max"});
  r.finish();
  return c;
}
}  // namespace

TEST(Config, DefaultsAndValues) {
  Cfg c = read(json::object());
  EXPECT_EQ(c.window, 32);
  c = read(json{{"window", 7}, {"ratio", 1}, {"pooling", "max"}});
  EXPECT_EQ(c.window, 7);
  EXPECT_DOUBLE_EQ(c.ratio, 1.0);
  EXPECT_EQ(c.pooling, "max");
}

TEST(Config, UnknownKeyNamesKeyComponentAndAccepted) {
  try {
    read(json{{"windw", 3}});
    FAIL() << "no error for unknown key";
  } catch (const kvb::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "method 'snapkv': unknown key 'windw'; accepted keys: pooling, ratio, window");
  }
}

TEST(Config, WrongTypeNamesKey) {
  try {
    read(json{{"window", "big"}});
    FAIL() << "no error for wrong type";
  } catch (const kvb::UsageError& e) {
    EXPECT_STREQ(e.what(), "method 'snapkv': key 'window' must be an integer, got \"big\"");
  }
  EXPECT_THROW(read(json{{"pooling", "median"}}), kvb::UsageError);
}

TEST(Config, Overrides) {
  json j = {{"a", {{"b", 1}}}, {"list", {json::object(), json::object()}}};
  kvb::apply_overrides(j, {"a.b=2.5", "a.c=text", "list.1.x=[1,2]", "flag=true"}, "test");
  EXPECT_EQ(j["a"]["b"], 2.5);
  EXPECT_EQ(j["a"]["c"], "text");
  EXPECT_EQ(j["list"][1]["x"], json::array({1, 2}));
  EXPECT_EQ(j["flag"], true);
  EXPECT_THROW(kvb::apply_overrides(j, {"novalue"}, "test"), kvb::UsageError);
  EXPECT_THROW(kvb::apply_overrides(j, {"list.5.x=1"}, "test"), kvb::UsageError);
}
