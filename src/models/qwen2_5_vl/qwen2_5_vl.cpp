// Qwen2.5-VL (3B/7B/32B/72B) as a Backbone: its processor and qwen-vl-utils video sampling,
// the Qwen2-VL chat template, the vision tower, M-RoPE positions, and the shared Qwen2 decoder.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "models/decoder_backbone.h"
#include "models/model.h"
#include "models/prompt_assembler.h"
#include "models/qwen2_5_vl/config.h"
#include "models/qwen2_5_vl/positions.h"
#include "models/qwen2_5_vl/preprocess_report.h"
#include "models/qwen2_5_vl/processor.h"
#include "models/qwen2_5_vl/tiny_model.h"
#include "models/qwen2_5_vl/video_sampling.h"
#include "models/qwen2_5_vl/vision_tower.h"
#include "models/qwen2_5_vl/weights.h"
#include "text/chat_template.h"
#include "vision/image.h"

namespace kvb::qwen {
namespace {

namespace fs = std::filesystem;

struct Media {
  bool video = false;
  VisionInput input;
  Grid grid;
};

struct MediaOptions {
  QwenProcessorConfig proc;
  VideoSamplingConfig video;
};

// `options`' media keys ({"min_pixels", "max_pixels", "video": {...}}) over the processor
// config file `pp` (transformers' defaults when empty). Unknown keys are errors.
MediaOptions read_media_options(const std::string& pp, const nlohmann::json& options, const std::string& what) {
  MediaOptions m;
  if (!pp.empty()) m.proc = QwenProcessorConfig::from_json(read_json_file(pp), pp);
  nlohmann::json video = nlohmann::json::object();
  ConfigReader r(options, what);
  r.get("min_pixels", m.proc.min_pixels).get("max_pixels", m.proc.max_pixels).get("video", video);
  r.finish();
  m.video = VideoSamplingConfig::from_json(video, what + ": video");
  return m;
}

class QwenBackbone : public DecoderBackbone {
 public:
  QwenBackbone(const std::string& dir, const nlohmann::json& options, const at::TensorOptions& opts)
      : DecoderBackbone(opts, Tokenizer::from_file(dir)) {
    cfg_ = parse_config(read_json_file(dir + "/config.json"), dir + "/config.json");
    const std::string pp = dir + "/preprocessor_config.json";
    const MediaOptions media = read_media_options(fs::exists(pp) ? pp : "", options, "qwen2_5_vl model options");
    proc_ = media.proc;
    video_ = media.video;
    KVB_CHECK(proc_.patch_size == cfg_.vision.patch_size && proc_.merge_size == cfg_.vision.spatial_merge_size &&
                  proc_.temporal_patch_size == cfg_.vision.temporal_patch_size,
              "{}: patch/merge/temporal sizes disagree with config.json's vision_config", pp);
    read_stop_ids(dir, cfg_.eos_token_ids);
    check_vocab(dir, cfg_.text.vocab_size);
    w_ = load_weights(dir, cfg_, opts_);
    dec_ = TextDecoder(text_decoder_spec(cfg_), w_.text, opts_);
  }

  std::string family() const override { return "qwen2_5_vl"; }
  nlohmann::json describe() const override {
    return {{"family", family()}, {"config", config_json(cfg_)},
            {"processor", {{"min_pixels", proc_.min_pixels}, {"max_pixels", proc_.max_pixels}}},
            {"video", {{"fps", video_.fps}, {"max_frames", video_.max_frames}, {"total_pixels", video_.total_pixels}}}};
  }

  PreparedPrompt prepare(const std::vector<Message>& messages) override {
    PreparedPrompt p;
    Timer timer;
    std::vector<Media> media;
    std::vector<MediaTokens> tokens;
    const int64_t unit = cfg_.vision.spatial_merge_size * cfg_.vision.spatial_merge_size;
    for (const auto& m : messages)
      for (const auto& s : m.content) {
        if (s.kind == Segment::Kind::Text) continue;
        Media md;
        md.video = s.kind == Segment::Kind::Video;
        // A benchmark's per-item resolution cap lowers the processor's max_pixels.
        const int64_t cap = s.media.max_pixels;
        if (md.video) {
          VideoSamplingConfig vc = video_;
          if (cap > 0) vc.max_pixels = vc.max_pixels > 0 ? std::min(vc.max_pixels, cap) : cap;
          // The benchmark's video element (FAVOR-Bench: fps 1.0) wins over the model default,
          // as qwen-vl-utils reads "fps" from the element itself.
          if (s.media.fps > 0) vc.fps = s.media.fps, vc.nframes = 0;
          md.input = preprocess_video(load_media_video(s.media, vc), proc_);
        } else {
          QwenProcessorConfig pc = proc_;
          if (cap > 0) pc.max_pixels = std::min(pc.max_pixels, cap), pc.min_pixels = std::min(pc.min_pixels, pc.max_pixels);
          md.input = preprocess_image(load_media_image(s.media), pc);
        }
        const auto g = md.input.grid_thw.reshape({-1});
        md.grid = {g[0].item<int64_t>(), g[1].item<int64_t>(), g[2].item<int64_t>()};
        // One span per temporal grid step (a frame group of a video; an image has one).
        tokens.push_back({md.video ? cfg_.video_token_id : cfg_.image_token_id, md.video ? kVideo : kImage, md.grid.t,
                          md.grid.h * md.grid.w / unit});
        media.push_back(std::move(md));
      }

    spdlog::debug("qwen2_5_vl: media preprocessing {:.1f} ms", timer.ms());
    const std::vector<int64_t> raw = tok_.encode(render_qwen_vl_chat(messages, true), false);
    const std::vector<int64_t> ids =
        expand_placeholders(raw, {cfg_.image_token_id, cfg_.video_token_id}, tokens, p);
    p.embeddings = embed(p.ids.to(opts_.device()));
    std::vector<Grid> images, videos;
    std::vector<double> spg;
    for (bool vid : {false, true}) {
      std::vector<at::Tensor> pixels;
      std::vector<Grid> grids;
      for (const auto& md : media)
        if (md.video == vid) {
          pixels.push_back(md.input.pixel_values);
          grids.push_back(md.grid);
          if (vid) spg.push_back(md.input.second_per_grid_t);
        }
      (vid ? videos : images) = grids;
      if (grids.empty()) continue;
      scatter_features(p.embeddings, p.ids, vid ? cfg_.video_token_id : cfg_.image_token_id,
                       vision_forward(w_, cfg_.vision, at::cat(pixels), grids));
    }
    spdlog::debug("qwen2_5_vl: preprocessing + vision tower {:.1f} ms", timer.ms());
    const RopeIndex ri = rope_index(ids, images, videos, spg,
                                    {cfg_.image_token_id, cfg_.video_token_id, cfg_.vision.spatial_merge_size,
                                     cfg_.vision.tokens_per_second});
    p.positions = ri.positions;
    p.next_position = ri.next_position;
    p.vision_ms = media.empty() ? 0.0 : timer.ms();
    return p;
  }

  std::vector<at::Tensor> weight_buffers() const override { return w_.buffers(); }
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const override { return w_.published; }

 private:
  Config cfg_;
  QwenProcessorConfig proc_;
  VideoSamplingConfig video_;
  Weights w_;
};

class QwenFamily : public ModelFamily {
 public:
  explicit QwenFamily(const nlohmann::json&) {}
  std::vector<std::string> model_types() const override { return {"qwen2_5_vl"}; }
  std::unique_ptr<Backbone> load(const std::string& dir, const nlohmann::json& options,
                                 const at::TensorOptions& opts) const override {
    return std::make_unique<QwenBackbone>(dir, options, opts);
  }
  void make_tiny(const std::string& out_dir, uint64_t seed, const nlohmann::json& options) const override {
    std::string geometry = "tiny";
    int64_t layers = 0, vision_depth = 0, merges = 0;
    std::vector<std::string> corpus;  // the organism's tokenizer learns `merges` BPE merges on it
    ConfigReader r(options, "qwen2_5_vl make-tiny-model options");
    r.get_choice("geometry", geometry, {"tiny", "organism", "3b", "7b"}).get("layers", layers).get("vision_depth", vision_depth);
    r.get("bpe_corpus", corpus).get("bpe_merges", merges);
    r.finish();
    Config c = geometry_config(geometry, layers, vision_depth);
    KVB_CHECK(merges >= 0, "qwen2_5_vl make-tiny-model options: bpe_merges must be >= 0 (got {})", merges);
    // A corpus without merges would silently learn nothing.
    KVB_CHECK(corpus.empty() || merges > 0, "qwen2_5_vl make-tiny-model options: bpe_corpus needs bpe_merges > 0");
    if (merges == 0) return write_random_model(out_dir, c, seed);
    KVB_CHECK(geometry == "organism" && !corpus.empty(),
              "qwen2_5_vl make-tiny-model options: bpe_merges needs geometry 'organism' and a bpe_corpus");
    const nlohmann::json tok = byte_tokenizer_json(corpus, merges);
    c.text.vocab_size = organism_vocab(tok);
    write_random_model(out_dir, c, seed, "", tok);
  }
  std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt) const override {
    return render_qwen_vl_chat(messages, add_generation_prompt);
  }
  nlohmann::json preprocess_report(const MediaInput& media, const std::string& processor_config,
                                   const nlohmann::json& options) const override {
    const MediaOptions m = read_media_options(processor_config, options, "qwen2_5_vl preprocess options");
    return media.image ? image_report(*media.image, m.proc) : video_report(media.video, m.video, m.proc);
  }
};

}  // namespace
KVB_REGISTER(ModelFamily, QwenFamily, "qwen2_5_vl", "Qwen2.5-VL (3B/7B/32B/72B): ViT with window attention + Qwen2 LLM, M-RoPE");
}  // namespace kvb::qwen
