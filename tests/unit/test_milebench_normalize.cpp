// Expected strings are worked out by hand from MileBench evaluate.py Eval.process.
#include <gtest/gtest.h>

#include "eval/text_norm.h"

using kvb::text::milebench_normalize;

TEST(MileBenchNormalize, HandWorkedCases) {
  const std::pair<const char*, const char*> cases[] = {
      {"Hello, World!", "hello world"},   // ", " occurs -> ',' removed; lone '!' -> space
      {"1,000 apples.", "1000 apples"},   // digit,digit anywhere -> every mark removed
      {"A-B", "a b"},
      {"A - B", "a  b"},
      {"(C)", "c"},
      {"3.14 is pi.", "3.14 is pi"},      // a period before a digit stays
      {"'quoted'", "quoted"},
      {"\"Yes\"", "yes"},                 // '"' is in the punctuation list: spaced, then stripped
      {"Line1\nLine2\tEnd ", "line1 line2 end"},
      {"   ", ""},
      {"ÉCOLE Ω", "école ω"},             // Unicode lower()
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(milebench_normalize(in), want) << "input: " << in;
}

TEST(MileBenchNormalize, AtMost32PeriodsRemoved) {
  // periodStrip.sub("", text, re.UNICODE): the flag lands in `count`, re.UNICODE == 32.
  std::string in;
  for (int i = 0; i < 33; ++i) in += "a.";
  EXPECT_EQ(milebench_normalize(in), std::string(33, 'a') + ".");
}
