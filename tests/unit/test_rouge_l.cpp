// Values computed by hand from pltrdy/rouge 1.0.1 (rouge_l_summary_level, exclusive=True):
// m / n = distinct words of reference / hypothesis, llcs = |union of LCS word sets|,
// f = 2 p r / (p + r + 1e-8).
#include <gtest/gtest.h>

#include "eval/rouge.h"

namespace {
double f_of(double p, double r) { return 2.0 * ((p * r) / (p + r + 1e-8)); }
void expect_rouge(const std::string& hyp, const std::string& ref, double p, double r) {
  kvb::RougeL s = kvb::rouge_l_pltrdy(hyp, ref);
  ASSERT_TRUE(s.valid) << hyp << " | " << ref;
  EXPECT_NEAR(s.p, p, 1e-12) << hyp << " | " << ref;
  EXPECT_NEAR(s.r, r, 1e-12) << hyp << " | " << ref;
  EXPECT_NEAR(s.f, f_of(p, r), 1e-12) << hyp << " | " << ref;
}
}  // namespace

TEST(RougeL, SingleSentence) {
  // LCS "the cat on the mat" -> word set {the, cat, on, mat}; 5 distinct words each side.
  expect_rouge("the cat sat on the mat", "the cat is on the mat", 4.0 / 5, 4.0 / 5);
  expect_rouge("x y", "a b", 0, 0);
}

TEST(RougeL, WordsCountedAsSets) {
  expect_rouge("a a a b", "a b", 1, 1);
}

TEST(RougeL, UnionOverHypothesisSentences) {
  // Lin's example: LCS(r, c1) = w1 w2, LCS(r, c2) = w1 w3 w5 -> union of 4; n = 8 distinct.
  expect_rouge("w1 w2 w6 w7 w8. w1 w3 w8 w9 w5", "w1 w2 w3 w4 w5", 4.0 / 8, 4.0 / 5);
}

TEST(RougeL, ReconstructionTieBreak) {
  // ref "a b" vs hyp "b a": the package walks left on ties and keeps {b}; with "b" as the second
  // reference sentence the union stays {b}: llcs 1 of m = n = 2.
  expect_rouge("b a", "a b. b", 0.5, 0.5);
}

TEST(RougeL, BlankSentenceIsAnEmptyWord) {
  // "a. . b" -> sentences "a", "", "b": words {a, "", b}, n = 3; llcs {a, b} = 2, m = 2.
  expect_rouge("a. . b", "a b", 2.0 / 3, 1.0);
}

TEST(RougeL, EmptyHypothesisIsInvalid) {
  EXPECT_FALSE(kvb::rouge_l_pltrdy("", "a b").valid);
  EXPECT_FALSE(kvb::rouge_l_pltrdy("...", "a b").valid);
}
