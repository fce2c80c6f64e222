// LLaVA-1.5 as a Backbone: the published chat template, CLIPImageProcessor, <image> expansion
// as LlavaProcessor does it, the CLIP tower + projector, and the shared LLaMA decoder (1-D RoPE).
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "models/decoder_backbone.h"
#include "models/llava/config.h"
#include "models/llava/tiny_model.h"
#include "models/llava/vision_tower.h"
#include "models/llava/weights.h"
#include "models/model.h"
#include "models/prompt_assembler.h"
#include "text/chat_template.h"
#include "vision/clip_processor.h"
#include "vision/image.h"

namespace kvb::llava {
namespace {

namespace fs = std::filesystem;

class LlavaBackbone : public DecoderBackbone {
 public:
  LlavaBackbone(const std::string& dir, const nlohmann::json& options, const at::TensorOptions& opts)
      : DecoderBackbone(opts, Tokenizer::from_file(dir)) {
    ConfigReader(options, "llava model options").finish();
    cfg_ = parse_config(read_json_file(dir + "/config.json"), dir + "/config.json");
    const std::string pp = dir + "/preprocessor_config.json";
    KVB_CHECK(fs::exists(pp), "{} is missing (LLaVA needs its CLIPImageProcessor config)", pp);
    proc_ = ClipProcessorConfig::from_json(read_json_file(pp), pp);
    KVB_CHECK(proc_.crop_height == cfg_.vision.image_size && proc_.crop_width == cfg_.vision.image_size,
              "{}: field 'crop_size' ({}x{}) differs from config.json's vision_config.image_size ({})", pp,
              proc_.crop_height, proc_.crop_width, cfg_.vision.image_size);
    read_stop_ids(dir, {cfg_.text.eos_token_id});
    w_ = load_weights(dir, cfg_, opts_);
    dec_ = TextDecoder(text_decoder_spec(cfg_), w_.text, opts_);
  }

  std::string family() const override { return "llava"; }
  nlohmann::json describe() const override {
    return {{"family", family()}, {"config", config_json(cfg_)}, {"image_tokens", cfg_.image_tokens()}};
  }

  PreparedPrompt prepare(const std::vector<Message>& messages) override {
    PreparedPrompt p;
    Timer timer;
    std::vector<at::Tensor> pixels;
    for (const auto& m : messages)
      for (const auto& s : m.content)
        if (s.kind == Segment::Kind::Image) pixels.push_back(clip_preprocess(load_media_image(s.media), proc_));
    // The template rejects videos with a message naming the item.
    const std::vector<int64_t> raw = tok_.encode(render_llava_chat(messages, true), true);
    // LlavaProcessor repeats the <image> string image_tokens times before tokenizing; the
    // tokenizer splits added tokens out first, so expanding the id is the same.
    const int64_t image_id = cfg_.image_token_index;
    const std::vector<MediaTokens> tokens(pixels.size(), MediaTokens{image_id, kImage, 1, cfg_.image_tokens()});
    expand_placeholders(raw, {image_id}, tokens, p);
    const int64_t T = p.ids.size(0);
    p.embeddings = embed(p.ids.to(opts_.device()));
    if (!pixels.empty())
      scatter_features(p.embeddings, p.ids, image_id, image_features(w_, cfg_, at::stack(pixels).to(opts_.device())));
    p.positions = at::arange(T, at::kLong).unsqueeze(0);
    p.next_position = T;
    p.vision_ms = pixels.empty() ? 0.0 : timer.ms();
    spdlog::debug("llava: {} tokens, {} images, preprocessing + vision tower {:.1f} ms", T, pixels.size(), p.vision_ms);
    return p;
  }

 private:
  Config cfg_;
  ClipProcessorConfig proc_;
  Weights w_;
};

class LlavaFamily : public ModelFamily {
 public:
  explicit LlavaFamily(const nlohmann::json&) {}
  std::vector<std::string> model_types() const override { return {"llava"}; }
  std::unique_ptr<Backbone> load(const std::string& dir, const nlohmann::json& options,
                                 const at::TensorOptions& opts) const override {
    return std::make_unique<LlavaBackbone>(dir, options, opts);
  }
  void make_tiny(const std::string& out_dir, uint64_t seed, const nlohmann::json& options) const override {
    std::string tokenizer;
    int64_t layers = 0, vision_layers = 0, image_size = 0;
    ConfigReader r(options, "llava make-tiny-model options");
    r.get("tokenizer", tokenizer).get("layers", layers).get("vision_depth", vision_layers).get("image_size", image_size);
    r.finish();
    Config c = tiny_config();
    if (layers > 0) c.text.num_hidden_layers = layers;
    if (vision_layers > 0) c.vision.num_hidden_layers = vision_layers;
    if (image_size > 0) {
      KVB_CHECK(image_size % c.vision.patch_size == 0, "llava make-tiny-model options: image_size {} is not a multiple of the patch size {}",
                image_size, c.vision.patch_size);
      c.vision.image_size = image_size;
    }
    write_random_model(out_dir, c, seed, tokenizer);
  }
  std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt) const override {
    return render_llava_chat(messages, add_generation_prompt);
  }
};

}  // namespace
KVB_REGISTER(ModelFamily, LlavaFamily, "llava", "LLaVA-1.5 (7B/13B): CLIP ViT-L/14-336 + 2-layer GELU projector + LLaMA/Vicuna, 1-D RoPE");
}  // namespace kvb::llava
