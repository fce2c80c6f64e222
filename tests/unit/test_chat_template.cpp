// Expected strings are the output of the checkpoints' own Jinja templates (Qwen2.5-VL-Instruct
// chat_template.json and llava-hf llava-1.5 chat_template.json) rendered with jinja2 for the
// same conversations.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/model.h"

namespace {

using kvb::Message;
kvb::Segment T(const std::string& t) { return kvb::text_segment(t); }
kvb::Segment I() { return kvb::image_segment({"a.jpg", "", ""}); }
kvb::Segment V() { return kvb::video_segment({"v.mp4", "", "clip 3"}); }

const std::vector<Message> kSingle = {{"user", {I(), T("Describe this image.")}}};
const std::vector<Message> kMulti = {
    {"system", {T("S")}}, {"user", {I(), I(), T("Q")}}, {"assistant", {T("A")}}, {"user", {T("more")}}};
const std::vector<Message> kVideo = {{"user", {T("Watch "), V(), T(" then "), I(), T("answer.")}}};
const std::vector<Message> kTurns = {{"user", {I(), T("Q1")}}, {"assistant", {T("A1")}}, {"user", {T("Q2")}}};
const std::vector<Message> kSysInterleaved = {{"system", {T("A chat.")}}, {"user", {T("Look"), I(), T("and tell"), I()}}};

TEST(ChatTemplate, QwenDefaultSystemPromptAndImage) {
  EXPECT_EQ(kvb::render_chat("qwen2_5_vl", kSingle),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
            "<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(kvb::render_chat("qwen2_5_vl", kSingle, false),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
            "<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n");
}

TEST(ChatTemplate, QwenSystemMultipleImagesAndTurns) {
  EXPECT_EQ(kvb::render_chat("qwen2_5_vl", kMulti),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
            "<|vision_start|><|image_pad|><|vision_end|>Q<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
            "<|im_start|>user\nmore<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(kvb::render_chat("qwen2_5_vl", kSysInterleaved, false),
            "<|im_start|>system\nA chat.<|im_end|>\n<|im_start|>user\nLook<|vision_start|><|image_pad|><|vision_end|>"
            "and tell<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n");
}

TEST(ChatTemplate, QwenVideoInPlace) {
  EXPECT_EQ(kvb::render_chat("qwen2_5_vl", kVideo),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWatch "
            "<|vision_start|><|video_pad|><|vision_end|> then <|vision_start|><|image_pad|><|vision_end|>answer."
            "<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, LlavaImagesFirstThenText) {
  EXPECT_EQ(kvb::render_chat("llava", kSingle), "USER: <image>\nDescribe this image. ASSISTANT:");
  EXPECT_EQ(kvb::render_chat("llava", kSingle, false), "USER: <image>\nDescribe this image. ");
  EXPECT_EQ(kvb::render_chat("llava", kMulti), "S USER: <image>\n<image>\nQ ASSISTANT: A USER: more ASSISTANT:");
  EXPECT_EQ(kvb::render_chat("llava", kTurns), "USER: <image>\nQ1 ASSISTANT: A1 USER: Q2 ASSISTANT:");
  EXPECT_EQ(kvb::render_chat("llava", kSysInterleaved, false), "A chat. USER: <image>\n<image>\nLook and tell ");
}

TEST(ChatTemplate, Errors) {
  EXPECT_THROW(kvb::render_chat("llava", kVideo), kvb::UsageError);
  EXPECT_THROW(kvb::render_chat("gpt9", kSingle), kvb::UsageError);
  EXPECT_THROW(kvb::render_chat("qwen2_5_vl", {{"", {T("x")}}}), kvb::UsageError);
  try {
    kvb::render_chat("llava", kVideo);
  } catch (const kvb::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("clip 3"), std::string::npos) << e.what();
  }
}

}  // namespace
