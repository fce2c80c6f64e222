#pragma once
// Chat templates as code, one per model family (no Jinja engine). Each reproduces the
// checkpoint's own template exactly:
//  "qwen2_5_vl" (also "qwen2_vl"): Qwen/Qwen2.5-VL-*-Instruct chat_template.json. Messages are
//    <|im_start|>ROLE\n...<|im_end|>\n; an image is <|vision_start|><|image_pad|><|vision_end|>,
//    a video <|vision_start|><|video_pad|><|vision_end|>, in place among the text; without a
//    leading system message the default "You are a helpful assistant." is added.
//  "llava": llava-hf/llava-1.5-*-hf chat_template.json: "USER: <image>\n... ASSISTANT:"; per
//    message all images come first, then each text followed by a space; a system message's
//    text is written bare. LLaVA-1.5 has no video input (an error).
//  "llava_onevision": llava-hf/llava-onevision-qwen2-*-ov-hf chat_template.json: ChatML
//    (<|im_start|>ROLE\n...<|im_end|>\n, no default system message); per message all images as
//    "<image>\n", then all videos as "<video>\n", then the texts concatenated.
// One placeholder token per media item: the model's processor expands it to the real number
// of vision tokens.
#include <string>
#include <vector>

#include "engine/prompt.h"

namespace kvb {

std::string render_chat(const std::string& family, const std::vector<Message>& messages,
                        bool add_generation_prompt = true);

// Families render_chat knows, sorted.
std::vector<std::string> chat_template_families();

}  // namespace kvb
