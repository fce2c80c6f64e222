#pragma once
// MileBench's prompt construction, transcribed from the official utils.py
// (MileBenchDataset.__getitem__): choice-list block, {image#k}/{table#k} -> <ImageHere>, and the
// left truncation that keeps the instruction and the end of the context within
// max_context_len tokens, dropping the earliest images first.
#include <cstdint>
#include <string>
#include <vector>

#include "eval/benchmark.h"

namespace kvb::milebench {

inline constexpr const char* kImagePlaceholder = "<ImageHere>";

// "\nChoice list: \nA. x\nB. y\nYour answer is: " (GPR1200 lists the options without letters).
std::string choice_block(const std::vector<std::string>& choices, bool with_letters);

// Replaces {image#k} and {table#k} for k = 1..n_images with <ImageHere>.
std::string map_placeholders(std::string context, size_t n_images);

struct Truncated {
  std::string text;                 // "<instruction>\n<context>" with <ImageHere> placeholders
  std::vector<std::string> images;  // the images kept, in order
};

// The official truncation loop: fragments between placeholders are visited from the end,
// each adds its tokens and then one image (n_tokens_per_image) while the budget
// max_context_len - len(instruction) allows; the text of a chunk is decode(encode(fragment)).
Truncated truncate_left(const std::string& instruction, const std::string& context,
                        std::vector<std::string> images, const TokenCodec& codec,
                        int64_t max_context_len, int64_t n_tokens_per_image);

// A tokenizer stand-in for runs without a model: one token per whitespace-led word, so that
// decode(encode(s)) == s. Counts are smaller than a BPE tokenizer's; attach the model's codec
// for the official truncation points.
TokenCodec word_codec();

}  // namespace kvb::milebench
