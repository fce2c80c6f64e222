#pragma once
// Command-line options shared by the commands that run a model on one prompt (generate,
// dump-kv): the model folder, load options, media files and the prompt text.
#include <filesystem>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/config.h"
#include "core/error.h"
#include "core/prompt.h"
#include "engine/hf_messages.h"

namespace kvb::cli {

struct ModelArgs {
  std::string model, prompt, system, dtype, device, messages_file;
  std::vector<std::string> images, videos, options;
  std::optional<int64_t> prefill_chunk;

  void add_to(CLI::App& sub) {
    sub.add_option("--model", model, "Hugging Face model folder")->required();
    sub.add_option("--image", images, "image file (repeatable; placed before the prompt text)");
    sub.add_option("--video", videos, "video file or folder of frames (repeatable; placed after the images)");
    auto* p = sub.add_option("--prompt", prompt, "user text");
    auto* sys = sub.add_option("--system", system, "system message (default: the chat template's)");
    auto* msgs = sub.add_option("--messages", messages_file,
                                "chat messages as HF JSON (text, images and videos interleaved; paths relative to the file)")
                     ->check(CLI::ExistingFile);
    msgs->excludes(p)->excludes(sys);
    sub.get_option("--image")->excludes(msgs);
    sub.get_option("--video")->excludes(msgs);
    sub.add_option("--dtype", dtype, "float32 | bfloat16 | float16 (default: float32 on CPU)");
    sub.add_option("--device", device, "cpu | cuda | cuda:N (default cpu)");
    sub.add_option("--prefill-chunk", prefill_chunk, "prefill chunk in tokens (0 = one shot; default 2048)");
    sub.add_option("--model-option", options, "model load option key=value (e.g. max_pixels=401408, video.fps=1)");
  }

  nlohmann::json load_options() const {
    nlohmann::json o = nlohmann::json::object();
    if (!dtype.empty()) o["dtype"] = dtype;
    if (!device.empty()) o["device"] = device;
    if (prefill_chunk) o["prefill_chunk"] = *prefill_chunk;
    apply_overrides(o, options, "--model-option");
    return o;
  }

  // Media files are checked here, before a load that can take minutes.
  std::vector<Message> messages() const {
    std::vector<Message> m = unchecked_messages();
    for (const auto& msg : m)
      for (const auto& seg : msg.content)
        if (seg.kind != Segment::Kind::Text && seg.media.bytes.empty() && !std::filesystem::exists(seg.media.path))
          throw UsageError(fmt::format("{}{}: no such {} file", seg.media.label == seg.media.path ? "" : seg.media.label + ": ",
                                       seg.media.path, seg.kind == Segment::Kind::Image ? "image" : "video"));
    return m;
  }

 private:
  std::vector<Message> unchecked_messages() const {
    if (!messages_file.empty())
      return messages_from_json(read_json_file(messages_file),
                                std::filesystem::path(messages_file).parent_path().string(), messages_file);
    if (prompt.empty()) throw UsageError("give the prompt: --prompt TEXT or --messages FILE.json");
    std::vector<Message> m;
    if (!system.empty()) m.push_back({"system", {text_segment(system)}});
    Message user{"user", {}};
    for (const auto& f : images) user.content.push_back(image_segment({f, "", f}));
    for (const auto& f : videos) user.content.push_back(video_segment({f, "", f}));
    user.content.push_back(text_segment(prompt));
    m.push_back(std::move(user));
    return m;
  }
};

}  // namespace kvb::cli
