#pragma once
// ROUGE-L as computed by the `rouge` pip package 1.0.1 (pltrdy/rouge, Rouge().get_scores),
// which MileBench's evaluate.py uses for open-ended datasets. That implementation is not the
// textbook sentence-level ROUGE-L: texts are split into sentences at every '.', words are
// compared as sets (exclusive=True), and the LCS counted is the set union of the words of one
// reconstructed LCS per (reference sentence, hypothesis sentence) pair.
#include <string>

namespace kvb {

struct RougeL {
  double p = 0, r = 0, f = 0;
  bool valid = false;  // false where the package raises ("Collections must contain at least 1 sentence")
};

RougeL rouge_l_pltrdy(const std::string& hypothesis, const std::string& reference);

}  // namespace kvb
