// LLaVA-OneVision as a Backbone: the published ChatML template with <image>/<video>, the anyres
// image processor and <image> expansion as LlavaOnevisionProcessor counts it, the SigLIP tower +
// projector, pack_image_features (tiles to one grid, unpadding, anyres_max pooling, a newline
// per row after the base image), video frames pooled 2x2 with one newline after the video, and
// the shared Qwen2 decoder (q/k/v bias, 1-D RoPE).
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "models/decoder_backbone.h"
#include "models/llava_onevision/config.h"
#include "models/llava_onevision/pack.h"
#include "models/llava_onevision/tiny_model.h"
#include "models/llava_onevision/video_frames.h"
#include "models/llava_onevision/weights.h"
#include "models/model.h"
#include "models/prompt_assembler.h"
#include "text/chat_template.h"
#include "vision/anyres_processor.h"
#include "vision/image.h"

namespace kvb::llava_onevision {
namespace {

namespace fs = std::filesystem;

class OnevisionBackbone : public DecoderBackbone {
 public:
  OnevisionBackbone(const std::string& dir, const nlohmann::json& options, const at::TensorOptions& opts)
      : DecoderBackbone(opts, Tokenizer::from_file(dir)) {
    ConfigReader r(options, "llava_onevision model options");
    r.get("video_frames", video_frames_);
    r.finish();
    KVB_CHECK(video_frames_ > 0, "llava_onevision model options: 'video_frames' must be positive");
    cfg_ = parse_config(read_json_file(dir + "/config.json"), dir + "/config.json");
    const std::string pp = dir + "/preprocessor_config.json";
    KVB_CHECK(fs::exists(pp), "{} is missing (LLaVA-OneVision needs its LlavaOnevisionImageProcessor config)", pp);
    proc_ = AnyresProcessorConfig::from_json(read_json_file(pp), pp);
    KVB_CHECK(proc_.tile == cfg_.vision.image_size,
              "{}: field 'size' ({}) differs from config.json's vision_config.image_size ({})", pp, proc_.tile,
              cfg_.vision.image_size);
    // The processor counts tokens with its pinpoints, the model packs with config.json's.
    KVB_CHECK(proc_.pinpoints == cfg_.image_grid_pinpoints,
              "{}: field 'image_grid_pinpoints' differs from config.json's (the processor would count tokens for "
              "another grid than the model packs)",
              pp);
    const std::string pc = dir + "/processor_config.json";
    if (fs::exists(pc)) {
      const auto j = read_json_file(pc);
      if (j.contains("num_image_tokens") && !j["num_image_tokens"].is_null())
        KVB_CHECK(j["num_image_tokens"].is_number_integer() && j["num_image_tokens"].get<int64_t>() == cfg_.tile_tokens(),
                  "{}: field 'num_image_tokens' is {}, but the vision tower gives {} per tile", pc,
                  j["num_image_tokens"].dump(), cfg_.tile_tokens());
    }
    image_id_ = cfg_.image_token_index, video_id_ = cfg_.video_token_index;
    read_stop_ids(dir, cfg_.text.eos_token_ids);
    check_vocab(dir, cfg_.text.vocab_size);
    w_ = load_weights(dir, cfg_, opts_);
    dec_ = TextDecoder(text_decoder_spec(cfg_), w_.text, opts_);
  }

  std::string family() const override { return "llava_onevision"; }
  nlohmann::json describe() const override {
    return {{"family", family()},
            {"config", config_json(cfg_)},
            {"tile_tokens", cfg_.tile_tokens()},
            {"video_frames", video_frames_},
            {"video_tokens_per_frame", video_frame_tokens(cfg_)}};
  }
  PreparedPrompt prepare(const std::vector<Message>& messages) override {
    PreparedPrompt p;
    Timer timer;
    // The template renders each message's images, then its videos: the same order as here.
    std::vector<AnyresImage> images;
    std::vector<at::Tensor> videos;
    for (const auto& m : messages) {
      for (const auto& s : m.content)
        if (s.kind == Segment::Kind::Image) images.push_back(anyres_preprocess(load_media_image(s.media), proc_));
      for (const auto& s : m.content)
        if (s.kind == Segment::Kind::Video) {
          std::vector<at::Tensor> frames;
          for (const auto& f : load_video_frames(s.media, video_frames_)) frames.push_back(squash_preprocess(f, proc_));
          videos.push_back(at::stack(frames));
        }
    }
    const std::vector<int64_t> raw = tok_.encode(render_llava_onevision_chat(messages, true), false);
    // Per image its layout's tokens in one span; per video one span per frame, the newline after
    // the whole video closing the last frame's span.
    std::vector<MediaTokens> tokens;
    size_t next_image = 0, next_video = 0;
    for (int64_t id : raw) {
      if (id == image_id_ && next_image < images.size())
        tokens.push_back({image_id_, kImage, 1, layout(images[next_image++]).tokens()});
      else if (id == video_id_ && next_video < videos.size())
        tokens.push_back({video_id_, kVideo, videos[next_video++].size(0), video_frame_tokens(cfg_), 1});
    }
    expand_placeholders(raw, {image_id_, video_id_}, tokens, p);
    const int64_t T = p.ids.size(0);
    p.embeddings = embed(p.ids.to(opts_.device()));
    if (!images.empty()) {
      std::vector<at::Tensor> packed;
      for (const auto& im : images) {
        const at::Tensor feats = w_.projector(siglip_features(w_.tower, cfg_, im.pixel_values.to(opts_.device())));
        packed.push_back(pack_image(feats, layout(im), w_.image_newline));
      }
      scatter_features(p.embeddings, p.ids, image_id_, at::cat(packed));
    }
    if (!videos.empty()) {
      std::vector<at::Tensor> packed;
      for (const auto& v : videos)
        packed.push_back(pack_video(w_.projector(siglip_features(w_.tower, cfg_, v.to(opts_.device()))),
                                    cfg_.vision.patches_per_side(), w_.image_newline));
      scatter_features(p.embeddings, p.ids, video_id_, at::cat(packed));
    }
    p.positions = at::arange(T, at::kLong).unsqueeze(0);
    p.next_position = T;
    p.vision_ms = images.empty() && videos.empty() ? 0.0 : timer.ms();
    spdlog::debug("llava_onevision: {} tokens, {} images, {} videos, preprocessing + vision tower {:.1f} ms", T,
                  images.size(), videos.size(), p.vision_ms);
    return p;
  }

 private:
  AnyresLayout layout(const AnyresImage& im) const {
    return anyres_layout(im.height, im.width, cfg_.image_grid_pinpoints, cfg_.vision.image_size,
                         cfg_.vision.patches_per_side(), cfg_.max_tiles);
  }

  Config cfg_;
  AnyresProcessorConfig proc_;
  Weights w_;
  int64_t image_id_ = 0, video_id_ = 0, video_frames_ = 8;
};

class OnevisionFamily : public ModelFamily {
 public:
  explicit OnevisionFamily(const nlohmann::json&) {}
  std::vector<std::string> model_types() const override { return {"llava_onevision"}; }
  std::unique_ptr<Backbone> load(const std::string& dir, const nlohmann::json& options,
                                 const at::TensorOptions& opts) const override {
    return std::make_unique<OnevisionBackbone>(dir, options, opts);
  }
  void make_tiny(const std::string& out_dir, uint64_t seed, const nlohmann::json& options) const override {
    std::string tokenizer, geometry = "tiny";
    int64_t layers = 0, vision_layers = 0, image_size = 0;
    ConfigReader r(options, "llava_onevision make-tiny-model options");
    r.get("tokenizer", tokenizer).get("layers", layers).get("vision_depth", vision_layers).get("image_size", image_size);
    r.get("geometry", geometry);
    r.finish();
    KVB_CHECK(geometry == "tiny", "llava_onevision make-tiny-model options: geometry '{}' is not offered (tiny only)",
              geometry);
    Config c = tiny_config();
    if (layers > 0) c.text.num_hidden_layers = layers;
    if (vision_layers > 0) c.vision.num_hidden_layers = vision_layers;
    if (image_size > 0) {
      KVB_CHECK(image_size % c.vision.patch_size == 0,
                "llava_onevision make-tiny-model options: image_size {} is not a multiple of the patch size {}",
                image_size, c.vision.patch_size);
      c.vision.image_size = image_size;
      c.image_grid_pinpoints = default_pinpoints(image_size);
    }
    write_random_model(out_dir, c, seed, tokenizer);
  }
  std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt) const override {
    return render_llava_onevision_chat(messages, add_generation_prompt);
  }
};

}  // namespace
KVB_REGISTER(ModelFamily, OnevisionFamily, "llava_onevision",
             "LLaVA-OneVision (qwen2 7B/0.5B): SigLIP-so400m/14-384 anyres_max_9 tiles + image_newline, 2x2-pooled "
             "video frames, 2-layer GELU projector + Qwen2, 1-D RoPE");
}  // namespace kvb::llava_onevision
