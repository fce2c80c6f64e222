#pragma once
// String helpers that reproduce Python's str methods, and the answer normalisation of
// MileBench's evaluator (evaluate.py, Eval.process), shared by benchmark scorers.
#include <cstdint>
#include <string>
#include <vector>

namespace kvb::text {

// Python's str.isspace() for one code point: bidirectional class WS, B or S, or category Zs
// (U+00A0, U+3000, U+2028... as well as ASCII whitespace and \x1c-\x1f).
bool is_space(int32_t code_point);
// Python str.strip() / str.strip(chars); the default strips is_space() code points (UTF-8).
std::string strip(const std::string& s);
std::string strip(const std::string& s, const std::string& chars);
// Python str.split() (runs of is_space() code points, no empty pieces) and str.split(sep)
// (every piece).
std::vector<std::string> split_ws(const std::string& s);
std::vector<std::string> split(const std::string& s, const std::string& sep);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
// Python str.replace (all non-overlapping occurrences, left to right).
std::string replace_all(std::string s, const std::string& from, const std::string& to);
bool contains(const std::string& s, const std::string& part);
// Unicode case mapping (ICU root locale; the same full mappings as Python's lower()/upper()).
std::string lower(const std::string& s);
std::string upper(const std::string& s);
// UTF-8 code points (Python's len and iteration over a str).
std::vector<std::string> code_points(const std::string& s);

// MileBench Eval.process: newline/tab to space, strip, VQA punctuation handling, period strip,
// quote strip, lower-case. Faithful to its quirks: the period regex is called with re.UNICODE
// in the `count` position, so at most 32 periods are removed.
std::string milebench_normalize(const std::string& answer);

}  // namespace kvb::text
