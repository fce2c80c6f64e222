#pragma once
// Model families. A family (src/models/<family>/) is a text decoder (models/text_decoder.h) x
// a vision encoder x a processor x a chat template, and turns a Hugging Face folder into a
// `Backbone`, which the shared engine (src/engine/) drives. The prompt assembly
// (models/prompt_assembler.h) is shared too. Attention, the KV cache, compression and decoding
// live in the engine, so a new family never touches them.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/kv_layout.h"
#include "core/prompt.h"
#include "vision/image.h"

namespace kvb {

// A prompt made ready for the decoder.
struct PreparedPrompt {
  at::Tensor ids;             // [T] int64, media pads expanded to one id per media token
  at::Tensor embeddings;      // [T, H] model dtype/device, media features scattered in
  at::Tensor positions;       // [R, T] int64 RoPE positions (R = 3 for M-RoPE, 1 for 1-D)
  int64_t next_position = 0;  // position of the first token after the prompt
  at::Tensor modality;        // [T] uint8 (Modality)
  std::vector<Span> media;    // one span per image / per video frame group (temporal grid step)
  double vision_ms = 0;       // preprocessing + vision tower
};

class Backbone {
 public:
  virtual ~Backbone() = default;
  virtual std::string family() const = 0;
  virtual ModelGeometry geometry() const = 0;
  virtual nlohmann::json describe() const = 0;
  virtual at::TensorOptions options() const = 0;  // dtype + device of activations

  virtual PreparedPrompt prepare(const std::vector<Message>& messages) = 0;
  virtual std::vector<int64_t> encode_text(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;  // skips special tokens
  virtual std::vector<int64_t> stop_ids() const = 0;

  virtual at::Tensor embed(const at::Tensor& ids) const = 0;  // [n] -> [n, H]
  // Positions for n tokens continuing after a prompt: next_position + [0, n), in [R, n].
  virtual at::Tensor continue_positions(int64_t next_position, int64_t n) const = 0;
  // RoPE tables for positions [R, n]; opaque to the engine, handed back to project_qkv.
  virtual at::Tensor rope(const at::Tensor& positions) const = 0;
  // First half of decoder layer `layer`: q [Hq, n, D], k and v [Hkv, n, D]; q, k post-RoPE.
  virtual void project_qkv(int64_t layer, const at::Tensor& hidden, const at::Tensor& rope, at::Tensor& q,
                           at::Tensor& k, at::Tensor& v) const = 0;
  // Second half: output projection of attn [n, Hq*D], residual, MLP; returns the new hidden.
  virtual at::Tensor finish_layer(int64_t layer, const at::Tensor& hidden, const at::Tensor& attn) const = 0;
  virtual at::Tensor final_norm(const at::Tensor& hidden) const = 0;  // [n, H]
  virtual at::Tensor lm_head(const at::Tensor& normed) const = 0;     // [n, V] float32

  // Training (`kvbench train-organism`): the weight buffers the forward reads, each once (set
  // requires_grad on these), and the checkpoint's tensors under their published names as views of
  // them (what a trainer saves). Families that are not trained here keep the defaults, which throw.
  virtual std::vector<at::Tensor> weight_buffers() const;
  virtual std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const;
};

struct MediaInput {  // what `kvbench preprocess` hands a family
  const Image* image = nullptr;  // a decoded image, or
  std::string video;             // a video file
};

class ModelFamily {
 public:
  static constexpr const char* kKind = "model family";
  virtual ~ModelFamily() = default;
  // config.json `model_type` values this family loads.
  virtual std::vector<std::string> model_types() const = 0;
  // `options` holds the family's own load keys only (the engine removed its own); unknown
  // keys are errors. `tensor_options` is the dtype/device to run in.
  virtual std::unique_ptr<Backbone> load(const std::string& dir, const nlohmann::json& options,
                                         const at::TensorOptions& tensor_options) const = 0;
  // Writes a random checkpoint with the real config keys, tensor names and tokenizer files.
  // `options`: family keys picking the geometry (qwen2_5_vl: {"geometry": "tiny"|"7b"|"3b",
  // "layers": N, "vision_depth": N}); empty = the tiny test model.
  virtual void make_tiny(const std::string& out_dir, uint64_t seed, const nlohmann::json& options) const = 0;
  // The family's chat template, one placeholder per image or video.
  virtual std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt) const = 0;
  // `kvbench preprocess`: the family's media preprocessing alone on one media item (an image
  // already decoded, or a video file), reporting sizes, grid, tokens and time per stage.
  // `processor_config`: a preprocessor_config.json, or empty for the processor's defaults;
  // `options`: the media keys of the family's model options. Default: not supported.
  virtual nlohmann::json preprocess_report(const MediaInput& media, const std::string& processor_config,
                                           const nlohmann::json& options) const;
};

// The chat template of the registered family `family` (UsageError naming the known ones).
std::string render_chat(const std::string& family, const std::vector<Message>& messages,
                        bool add_generation_prompt = true);

}  // namespace kvb
