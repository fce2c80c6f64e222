#pragma once
// What `kvbench preprocess` reports for Qwen2.5-VL: the processor (and, for a video,
// qwen-vl-utils' sampling) run alone, with sizes, grid, token count and time per stage, for
// checking a dataset's token budget and for `make bench`.
#include <nlohmann/json.hpp>

#include <string>

#include "models/qwen2_5_vl/processor.h"
#include "models/qwen2_5_vl/video_sampling.h"
#include "vision/image.h"

namespace kvb::qwen {

nlohmann::json image_report(const Image& image, const QwenProcessorConfig& cfg);
nlohmann::json video_report(const std::string& path, const VideoSamplingConfig& vc, const QwenProcessorConfig& cfg);

}  // namespace kvb::qwen
