#pragma once
// Chat templates as code (no Jinja engine); a model family picks its own (ModelFamily::
// render_chat). Each reproduces the checkpoint's own template exactly:
//  render_qwen_vl_chat: Qwen/Qwen2.5-VL-*-Instruct (and Qwen2-VL) chat_template.json. Messages are
//    <|im_start|>ROLE\n...<|im_end|>\n; an image is <|vision_start|><|image_pad|><|vision_end|>,
//    a video <|vision_start|><|video_pad|><|vision_end|>, in place among the text; without a
//    leading system message the default "You are a helpful assistant." is added.
//  render_llava_chat: llava-hf/llava-1.5-*-hf chat_template.json: "USER: <image>\n... ASSISTANT:"; per
//    message all images come first, then each text followed by a space; a system message's
//    text is written bare. LLaVA-1.5 has no video input (an error).
//  render_llava_onevision_chat: llava-hf/llava-onevision-qwen2-*-ov-hf chat_template.json: ChatML
//    (<|im_start|>ROLE\n...<|im_end|>\n, no default system message); per message all images as
//    "<image>\n", then all videos as "<video>\n", then the texts concatenated.
// One placeholder token per media item: the model's processor expands it to the real number
// of vision tokens.
#include <string>
#include <vector>

#include "core/prompt.h"

namespace kvb {

std::string render_qwen_vl_chat(const std::vector<Message>& messages, bool add_generation_prompt = true);
std::string render_llava_chat(const std::vector<Message>& messages, bool add_generation_prompt = true);
std::string render_llava_onevision_chat(const std::vector<Message>& messages, bool add_generation_prompt = true);

}  // namespace kvb
