// Scorers reproduce Python's str methods and re on str patterns, which are Unicode-aware:
// str.split()/strip() split on every str.isspace() character and re's \s and \d match
// Unicode whitespace and Nd digits. Expected values are what CPython 3.10 returns.
#include <gtest/gtest.h>

#include <set>

#include "bench_fixture_util.h"
#include "eval/option_match.h"
#include "eval/rouge.h"
#include "eval/text_norm.h"

namespace {

// [c for c in range(0x110000) if chr(c).isspace()] in CPython 3.10.
const std::set<int32_t> kPythonSpaces = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20,
                                         0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                         0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029,
                                         0x202F, 0x205F, 0x3000};

}  // namespace

TEST(PythonWhitespace, IsSpaceIsPythonsSet) {
  std::set<int32_t> got;
  for (int32_t c = 0; c < 0x110000; ++c)
    if (kvb::text::is_space(c)) got.insert(c);
  EXPECT_EQ(got, kPythonSpaces);
}

TEST(PythonWhitespace, SplitAndStrip) {
  // "a\u00a0b\u3000 c\u2028".split() == ['a', 'b', 'c']; "\u00a0x\u205f".strip() == 'x'
  EXPECT_EQ(kvb::text::split_ws("a\u00a0b\u3000 c\u2028"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(kvb::text::strip("\u00a0x\u205f"), "x");
  EXPECT_EQ(kvb::text::strip("\u200bx"), "\u200bx");  // U+200B is not whitespace in Python
  EXPECT_EQ(kvb::text::split_ws("caf\xc3"), (std::vector<std::string>{"caf\xc3"}));  // invalid UTF-8 kept
}

TEST(PythonWhitespace, ScorersSeeUnicodeSpacesAndDigits) {
  // lmms-eval extract_answer_letter: re.search(r"...(?:\s+IS)?[\s:]+([ABCD])", ...) -> 'D'
  EXPECT_EQ(kvb::extract_option_letter("The answer is\u00a0D"), "D");
  EXPECT_EQ(kvb::extract_option_letter("\u3000(B)\u3000"), "B");
  // HR-Bench can_infer splits with str.split().
  kvb::Sample s;
  s.answer = "D";
  s.meta = {{"options", {{"A", "red"}, {"B", "blue"}, {"C", "green"}, {"D", "white"}}}};
  EXPECT_EQ(kvb::testing::make_benchmark("hrbench", {{"splits", {"4k"}}})->score(s, "The answer is\u00a0D").score, 1.0);
  // needle (word match): 'code\u00a04821'.split() holds '4821'.
  kvb::Sample n;
  n.answer = "4821";
  EXPECT_EQ(kvb::testing::make_benchmark("needle", {{"needle_in", "text"}})->score(n, "code\u00a04821").score, 1.0);
  // ROUGE-L joins " ".join(s.split()): "a\u00a0b" is the two words of "a b".
  EXPECT_NEAR(kvb::rouge_l_pltrdy("a\u00a0b", "a b").f, 1.0, 1e-7);
  // MileBench: (\d)(\,)(\d) and the period strip's (?!\d) match Arabic-Indic digits.
  EXPECT_EQ(kvb::text::milebench_normalize("\u0663,\u0664 apples"), "\u0663\u0664 apples");
  EXPECT_EQ(kvb::text::milebench_normalize("\u0663.\u0664"), "\u0663.\u0664");
}
