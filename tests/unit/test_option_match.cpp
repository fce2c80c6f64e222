// Expected labels worked out by hand from the official rules: MileBench evaluate.py
// (judge_multi_choice -> match_choice on normalised text) and lmms-eval
// tasks/vstar_bench/utils.py extract_answer_letter. Wrong-looking answers ("AD" for
// "The answer is (D).") are the official behaviour.
#include <gtest/gtest.h>

#include "eval/option_match.h"
#include "eval/text_norm.h"

namespace {
// What judge_multi_choice does: normalise answer and options, label options A.., match.
std::string milebench(const std::string& answer, const std::vector<std::string>& choices) {
  std::vector<std::string> norm;
  for (const auto& c : choices) norm.push_back(kvb::text::milebench_normalize(c));
  return kvb::milebench_match_choice(kvb::text::milebench_normalize(answer), kvb::label_options(norm));
}
const std::vector<std::string> kCars = {"red car", "blue car", "green truck", "yellow bus"};

struct Case {
  const char* answer;
  const char* expected;
};
}  // namespace

TEST(OptionMatch, Labels) {
  EXPECT_EQ(kvb::option_label(0), "A");
  EXPECT_EQ(kvb::option_label(25), "Z");
  EXPECT_EQ(kvb::option_label(26), "AA");
  EXPECT_EQ(kvb::option_label(51), "AZ");
  EXPECT_EQ(kvb::option_label(52), "BA");
}

TEST(OptionMatch, MileBenchRealisticAnswers) {
  const Case cases[] = {
      {"A", "A"},
      {"B.", "B"},
      {"(C)", "C"},
      {"b", "B"},
      {"[A]", "A"},
      {"D. yellow bus", "D"},
      {"c) green truck", "C"},
      {"B) blue car", "B"},
      {"yellow bus", "D"},
      {"yellowbus", "D"},
      {"Green Truck.", "C"},
      {"GREEN TRUCK", "C"},
      {"Red car", "A"},
      {"I think the answer is the blue car", "B"},
      {"It is a red car, not a blue car", "A"},            // "a red car" = label + option
      {"The image shows a red car.", "A"},
      {"The blue car is not correct; it's the green truck", "B"},  // leftmost option text wins
      {"", "C"},                                           // empty answer -> 'C'
      {"   ", "C"},
      {"E", ""},
      {"Option A", "A"},                                   // fallback: letters that are labels
      {"Blue.", "B"},
      {"The answer is (D).", "AD"},
      {"A and B", "AADB"},
      {"Answer: C", "AC"},
      {"The correct option is B", "CCB"},
      {"A, B", "AB"},
      {"I believe it's D.", "BD"},
      {"A\nExplanation: the car is red", "AAACAD"},
  };
  for (const auto& c : cases) EXPECT_EQ(milebench(c.answer, kCars), c.expected) << "answer: " << c.answer;
}

TEST(OptionMatch, MileBenchOptionWithRegexSpecial) {
  const std::vector<std::string> kg = {"3.5 kg", "4 kg", "5 kg", "6 kg"};
  // Step 2 compares the match with the escaped option ("3\.5kg"): never equal, nothing else fits.
  EXPECT_EQ(milebench("3.5 kg", kg), "");
  EXPECT_EQ(milebench("5 kg", kg), "C");
  EXPECT_EQ(milebench("b 4 kg", kg), "B");
}

TEST(OptionMatch, LmmsEvalLetterExtraction) {
  const Case cases[] = {
      {"A", "A"},
      {"(B)", "B"},
      {"The answer is C.", "C"},
      {"Answer: D", "A"},  // the start-of-answer pattern sees the 'A' of "ANSWER"
      {"b) red", "B"},
      {"I think C", "C"},
      {"none of the options", ""},
      {"The correct choice is (A) because it is left.", "A"},
      {"Based on the image, the bus is yellow. So D.", "B"},
      {"c", "C"},
      {"D. The dog", "D"},
      {"It's option B", "B"},
      {"There are 2 cats", ""},
      {"E", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(kvb::extract_option_letter(c.answer), c.expected) << "answer: " << c.answer;
  EXPECT_EQ(kvb::extract_option_letter("E", "ABCDE"), "E");
}
