#include "text/chat_template.h"

#include <cctype>

#include "core/error.h"

namespace kvb {
namespace {

void require_roles(const std::vector<Message>& messages, const char* name) {
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].role.empty()) throw UsageError(fmt::format("chat template '{}': messages[{}] has no role", name, i));
}

}  // namespace

std::string render_qwen_vl_chat(const std::vector<Message>& messages, bool add_generation_prompt) {
  require_roles(messages, "qwen_vl");
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (i == 0 && m.role != "system") out += "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
    out += "<|im_start|>" + m.role + "\n";
    for (const Segment& s : m.content) {
      switch (s.kind) {
        case Segment::Kind::Text: out += s.text; break;
        case Segment::Kind::Image: out += "<|vision_start|><|image_pad|><|vision_end|>"; break;
        case Segment::Kind::Video: out += "<|vision_start|><|video_pad|><|vision_end|>"; break;
      }
    }
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llava_chat(const std::vector<Message>& messages, bool add_generation_prompt) {
  require_roles(messages, "llava");
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role != "system") {
      std::string role = m.role;
      for (char& c : role) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out += role + ": ";
    }
    for (const Segment& s : m.content) {
      if (s.kind == Segment::Kind::Video)
        throw UsageError(fmt::format("chat template 'llava': messages[{}] has a video, but LLaVA-1.5 takes images only{}",
                                     i, s.media.label.empty() ? "" : " (" + s.media.label + ")"));
      if (s.kind == Segment::Kind::Image) out += "<image>\n";
    }
    for (const Segment& s : m.content)
      if (s.kind == Segment::Kind::Text) out += s.text + " ";
  }
  if (add_generation_prompt) out += "ASSISTANT:";
  return out;
}

// llava-hf/llava-onevision-qwen2-*-ov-hf: ChatML without a default system message; per message
// all images, then all videos, each as its placeholder and a newline, then the texts joined bare.
std::string render_llava_onevision_chat(const std::vector<Message>& messages, bool add_generation_prompt) {
  require_roles(messages, "llava_onevision");
  std::string out;
  for (const Message& m : messages) {
    out += "<|im_start|>" + m.role + "\n";
    for (auto kind : {Segment::Kind::Image, Segment::Kind::Video})
      for (const Segment& s : m.content)
        if (s.kind == kind) out += kind == Segment::Kind::Image ? "<image>\n" : "<video>\n";
    for (const Segment& s : m.content)
      if (s.kind == Segment::Kind::Text) out += s.text;
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace kvb
