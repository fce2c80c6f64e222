// Expected strings are worked out by hand from MileBench evaluate.py Eval.process.
#include <gtest/gtest.h>

#include "eval/text_norm.h"

using kvb::text::milebench_normalize;

TEST(MileBenchNormalize, PunctuationRules) {
  // ", " occurs -> ',' removed; '!' has no neighbouring space -> replaced by a space.
  EXPECT_EQ(milebench_normalize("Hello, World!"), "hello world");
  // digit,digit anywhere -> every listed mark is removed, not spaced.
  EXPECT_EQ(milebench_normalize("1,000 apples."), "1000 apples");
  EXPECT_EQ(milebench_normalize("A-B"), "a b");
  EXPECT_EQ(milebench_normalize("A - B"), "a  b");
  EXPECT_EQ(milebench_normalize("(C)"), "c");
}

TEST(MileBenchNormalize, PeriodsQuotesWhitespace) {
  EXPECT_EQ(milebench_normalize("3.14 is pi."), "3.14 is pi");
  EXPECT_EQ(milebench_normalize("'quoted'"), "quoted");
  EXPECT_EQ(milebench_normalize("\"Yes\""), "yes");
  EXPECT_EQ(milebench_normalize("Line1\nLine2\tEnd "), "line1 line2 end");
  EXPECT_EQ(milebench_normalize("   "), "");
}

TEST(MileBenchNormalize, AtMost32PeriodsRemoved) {
  // periodStrip.sub("", text, re.UNICODE): the flag lands in `count`, re.UNICODE == 32.
  std::string in, expected;
  for (int i = 0; i < 33; ++i) in += "a.";
  expected = std::string(33, 'a') + ".";
  EXPECT_EQ(milebench_normalize(in), expected);
}

TEST(MileBenchNormalize, UnicodeLowercase) {
  EXPECT_EQ(milebench_normalize("ÉCOLE Ω"), "école ω");
}
