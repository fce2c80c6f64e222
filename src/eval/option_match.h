#pragma once
// Option extraction from free-form model answers, following the official evaluation code of
// each benchmark family. Letters are returned as strings ("A", "AB"); "" means none found.
#include <string>
#include <utility>
#include <vector>

namespace kvb {

// MileBench's label for option i (evaluate.py Eval.char): A..Z, then AA..AZ, then BA...
std::string option_label(size_t i);

// One option: its label and its text.
using Option = std::pair<std::string, std::string>;
// Labels option_label(0..n-1) paired with `choices`, in order.
std::vector<Option> label_options(const std::vector<std::string>& choices);

// MileBench evaluate.py Eval.match_choice. `text` and the option texts must already be
// normalised with text::milebench_normalize (the official judge_multi_choice does that first).
// Order: 1. "<label> <option>" anywhere, 2. option text with spaces removed, 3. the whole
// answer is a label, else every character that is a label, concatenated (may be "" or "AB").
// An empty answer gives "C", as in the official code.
std::string milebench_match_choice(const std::string& text, const std::vector<Option>& options);

// lmms-eval's letter extraction (tasks/vstar_bench/utils.py extract_answer_letter) for the
// labels in `letters` (default A-D): start-of-answer letter, "answer is X", "(X)", "X." / "X)",
// a standalone letter, then a single letter anywhere.
std::string extract_option_letter(const std::string& response, const std::string& letters = "ABCD");

}  // namespace kvb
