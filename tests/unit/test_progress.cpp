// Progress line layout: counts, percentage, rate, ETA.
#include <gtest/gtest.h>

#include "core/progress.h"

TEST(Progress, RenderWithKnownTotal) {
  // 12 of 37 in 6 s: 2 samples/s, 25 left -> ETA 12.5 s, shown rounded as 0:12 or 0:13.
  std::string s = kvb::Progress::render(12, 37, 6.0, "samples", "snapkv", 10);
  EXPECT_EQ(s.substr(0, 13), "[###.......] ");
  EXPECT_NE(s.find("12/37 32%"), std::string::npos) << s;
  EXPECT_NE(s.find(" 2 samples/s"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 0:1"), std::string::npos) << s;
  EXPECT_NE(s.find("elapsed 0:06"), std::string::npos) << s;
  EXPECT_EQ(s.substr(s.size() - 7), " snapkv");
}

TEST(Progress, RenderUnknownTotalAndDone) {
  std::string s = kvb::Progress::render(5, 0, 2.0, "tensors", "", 10);
  EXPECT_EQ(s.find('['), std::string::npos) << s;
  EXPECT_EQ(s.find("ETA"), std::string::npos) << s;
  EXPECT_EQ(s.rfind("5 2.5 tensors/s", 0), 0u) << s;
  s = kvb::Progress::render(37, 37, 2.0, "samples", "", 0);
  EXPECT_EQ(s.find("ETA"), std::string::npos) << s;
  EXPECT_NE(s.find("37/37 100%"), std::string::npos) << s;
}

TEST(Progress, Durations) {
  EXPECT_EQ(kvb::Progress::format_duration(0), "0:00");
  EXPECT_EQ(kvb::Progress::format_duration(61.4), "1:01");
  EXPECT_EQ(kvb::Progress::format_duration(3723), "1:02:03");
  EXPECT_EQ(kvb::Progress::format_duration(-1), "?");
}

// A resumed job (train-organism at step 4000 of 9000): the items done before it show in the count
// but not in the rate, so the ETA is the remaining work at this run's speed.
TEST(Progress, ResumedItemsCountButDoNotSpeedUpTheRate) {
  const std::string s = kvb::Progress::render(4030, 9000, 10.0, "steps", "", 0, 4000);
  EXPECT_NE(s.find("4030/9000 45%"), std::string::npos) << s;
  EXPECT_NE(s.find(" 3 steps/s"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 27:37"), std::string::npos) << s;  // 4970 steps at 3 per second
}
