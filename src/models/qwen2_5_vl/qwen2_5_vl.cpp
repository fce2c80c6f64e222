// Qwen2.5-VL (3B/7B/32B/72B) as a Backbone: prompt processing (chat template, media
// preprocessing, pad expansion, vision tower, M-RoPE positions) and the Qwen2 decoder halves.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "engine/ops.h"
#include "models/model.h"
#include "models/qwen2_5_vl/config.h"
#include "models/qwen2_5_vl/positions.h"
#include "models/qwen2_5_vl/tiny_model.h"
#include "models/qwen2_5_vl/vision_tower.h"
#include "models/qwen2_5_vl/weights.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "vision/image.h"
#include "vision/qwen_processor.h"
#include "vision/video.h"

namespace kvb::qwen {
namespace {

namespace fs = std::filesystem;

struct Media {
  bool video = false;
  VisionInput input;
  Grid grid;
};

class QwenBackbone : public Backbone {
 public:
  QwenBackbone(const std::string& dir, const nlohmann::json& options, const at::TensorOptions& opts)
      : opts_(opts), tok_(Tokenizer::from_file(dir)) {
    cfg_ = parse_config(read_json_file(dir + "/config.json"), dir + "/config.json");
    const std::string pp = dir + "/preprocessor_config.json";
    if (fs::exists(pp)) proc_ = QwenProcessorConfig::from_json(read_json_file(pp), pp);
    nlohmann::json video = nlohmann::json::object();
    ConfigReader r(options, "qwen2_5_vl model options");
    r.get("min_pixels", proc_.min_pixels).get("max_pixels", proc_.max_pixels).get("video", video);
    r.finish();
    video_ = VideoSamplingConfig::from_json(video, "qwen2_5_vl model options: video");
    KVB_CHECK(proc_.patch_size == cfg_.vision.patch_size && proc_.merge_size == cfg_.vision.spatial_merge_size &&
                  proc_.temporal_patch_size == cfg_.vision.temporal_patch_size,
              "{}: patch/merge/temporal sizes disagree with config.json's vision_config", pp);
    stops_ = cfg_.eos_token_ids;
    const std::string gen = dir + "/generation_config.json";
    if (fs::exists(gen)) {
      const auto g = read_json_file(gen);
      if (g.is_object() && g.contains("eos_token_id")) {
        const auto& e = g["eos_token_id"];
        const bool ids = e.is_number_integer() ||
                         (e.is_array() && std::all_of(e.begin(), e.end(), [](const auto& x) { return x.is_number_integer(); }));
        KVB_CHECK(ids, "{}: field 'eos_token_id' must be an integer or a list of integers, got {}", gen, e.dump());
        if (e.is_number_integer()) stops_.push_back(e.get<int64_t>());
        else
          for (const auto& x : e) stops_.push_back(x.get<int64_t>());
      }
    }
    // A token id past the embedding rows fails only when a prompt happens to contain it.
    KVB_CHECK(tok_.vocab_size() <= cfg_.text.vocab_size,
              "{}/tokenizer.json: token ids reach {}, but config.json's vocab_size is {}", dir, tok_.vocab_size() - 1,
              cfg_.text.vocab_size);
    w_ = load_weights(dir, cfg_, opts_);
    const int64_t D = cfg_.text.head_dim();
    inv_freq_ = 1.0 / at::pow(cfg_.text.rope_theta, at::arange(0, D, 2, at::kLong).to(at::kFloat) / static_cast<double>(D));
    // Which position axis (t, h, w) drives each rotary frequency: mrope_section splits them.
    std::vector<int64_t> axis;
    for (int a = 0; a < 3; ++a)
      for (int64_t i = 0; i < cfg_.text.mrope_section[a]; ++i) axis.push_back(a);
    axis_of_ = at::tensor(axis, at::kLong);
  }

  std::string family() const override { return "qwen2_5_vl"; }
  ModelGeometry geometry() const override {
    const auto& t = cfg_.text;
    return {t.num_hidden_layers, t.num_attention_heads, t.num_key_value_heads, t.head_dim()};
  }
  nlohmann::json describe() const override {
    return {{"family", family()}, {"config", config_json(cfg_)},
            {"processor", {{"min_pixels", proc_.min_pixels}, {"max_pixels", proc_.max_pixels}}},
            {"video", {{"fps", video_.fps}, {"max_frames", video_.max_frames}, {"total_pixels", video_.total_pixels}}}};
  }
  at::TensorOptions options() const override { return opts_; }

  PreparedPrompt prepare(const std::vector<Message>& messages) override {
    PreparedPrompt p;
    Timer timer;
    std::vector<Media> media;
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
        media.push_back(std::move(md));
      }

    spdlog::debug("qwen2_5_vl: media preprocessing {:.1f} ms", timer.ms());
    const std::vector<int64_t> raw = tok_.encode(render_chat("qwen2_5_vl", messages, true), false);
    std::vector<int64_t> ids;
    std::vector<uint8_t> modality;
    size_t next = 0;
    const int64_t unit = cfg_.vision.spatial_merge_size * cfg_.vision.spatial_merge_size;
    for (int64_t id : raw) {
      const bool img = id == cfg_.image_token_id, vid = id == cfg_.video_token_id;
      if (!img && !vid) {
        ids.push_back(id);
        modality.push_back(kText);
        continue;
      }
      KVB_CHECK(next < media.size() && media[next].video == vid,
                "the rendered prompt has a {} pad where the messages have {}", vid ? "video" : "image",
                next < media.size() ? (media[next].video ? "a video" : "an image") : "no more media");
      const Grid& g = media[next].grid;
      const int64_t per_frame = g.h * g.w / unit;
      for (int64_t t = 0; t < g.t; ++t) p.media.push_back({static_cast<int64_t>(ids.size()) + t * per_frame,
                                                            static_cast<int64_t>(ids.size()) + (t + 1) * per_frame,
                                                            static_cast<uint8_t>(vid ? kVideo : kImage)});
      ids.insert(ids.end(), g.t * per_frame, id);
      modality.insert(modality.end(), g.t * per_frame, vid ? kVideo : kImage);
      ++next;
    }
    KVB_CHECK(next == media.size(), "the messages hold {} media items, the rendered prompt has {} pads", media.size(),
              next);

    p.ids = at::tensor(ids, at::kLong);
    p.modality = at::tensor(std::vector<int64_t>(modality.begin(), modality.end()), at::kLong).to(at::kByte);
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
      const at::Tensor feats = vision_forward(w_, cfg_.vision, at::cat(pixels), grids);
      const at::Tensor mask = p.ids.eq(vid ? cfg_.video_token_id : cfg_.image_token_id).to(opts_.device());
      p.embeddings.index_put_({mask}, feats.to(p.embeddings.scalar_type()));
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

  std::vector<int64_t> encode_text(const std::string& text) const override { return tok_.encode(text, false); }
  std::string decode(const std::vector<int64_t>& ids) const override {
    // Ids of the padded embedding rows beyond the tokenizer decode to nothing, as in HF.
    std::vector<int64_t> known;
    for (auto id : ids)
      if (id >= 0 && id < tok_.vocab_size()) known.push_back(id);
    return tok_.decode(known, true);
  }
  std::vector<int64_t> stop_ids() const override { return stops_; }

  at::Tensor embed(const at::Tensor& ids) const override { return at::embedding(w_.embed, ids); }
  at::Tensor continue_positions(int64_t next, int64_t n) const override {
    return at::arange(next, next + n, at::kLong).unsqueeze(0).expand({3, n}).contiguous();
  }
  at::Tensor rope(const at::Tensor& positions) const override {
    // freqs[n, j] = position on axis(j) * inv_freq[j], in float32 like transformers.
    const at::Tensor pos = positions.to(at::kFloat).index_select(0, axis_of_).t();  // [n, D/2]
    const at::Tensor freqs = pos * inv_freq_.unsqueeze(0);
    const at::Tensor emb = at::cat({freqs, freqs}, -1);
    return at::stack({emb.cos(), emb.sin()}).to(opts_);  // [2, n, D]
  }
  void project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q, at::Tensor& k,
                   at::Tensor& v) const override {
    decoder_project_qkv(w_.layers[layer], decoder_shape(), hidden, rope, q, k, v);
  }
  at::Tensor finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const override {
    return decoder_finish(w_.layers[layer], decoder_shape(), hidden, attn);
  }
  at::Tensor final_norm(const at::Tensor& hidden) const override {
    return rms_norm(hidden, w_.final_norm, cfg_.text.rms_norm_eps);
  }
  at::Tensor lm_head(const at::Tensor& normed) const override { return at::linear(normed, w_.lm_head).to(at::kFloat); }
  std::vector<at::Tensor> weight_buffers() const override { return w_.buffers(); }
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const override { return w_.published; }

 private:
  DecoderShape decoder_shape() const {
    return {cfg_.text.num_attention_heads, cfg_.text.num_key_value_heads, cfg_.text.head_dim(), cfg_.text.rms_norm_eps};
  }

  at::TensorOptions opts_;
  Tokenizer tok_;
  Config cfg_;
  QwenProcessorConfig proc_;
  VideoSamplingConfig video_;
  Weights w_;
  std::vector<int64_t> stops_;
  at::Tensor inv_freq_, axis_of_;
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
    int64_t layers = 0, vision_depth = 0;
    ConfigReader r(options, "qwen2_5_vl make-tiny-model options");
    r.get_choice("geometry", geometry, {"tiny", "organism", "3b", "7b"}).get("layers", layers).get("vision_depth", vision_depth);
    r.finish();
    write_random_model(out_dir, geometry_config(geometry, layers, vision_depth), seed);
  }
};

}  // namespace
KVB_REGISTER(ModelFamily, QwenFamily, "qwen2_5_vl", "Qwen2.5-VL (3B/7B/32B/72B): ViT with window attention + Qwen2 LLM, M-RoPE");
}  // namespace kvb::qwen
