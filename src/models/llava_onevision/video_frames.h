#pragma once
// A video's frames as LlavaOnevisionVideoProcessor receives them: a folder of frame images
// (every file, sorted by name, undecimated and unresized), or a video file sampled to `frames`
// frames (the qwen-vl-utils sampler with nframes = frames, which also resizes to its pixel
// budget before vision/anyres_processor.h's squash_preprocess). Errors name the media.
#include <cstdint>
#include <vector>

#include "core/prompt.h"
#include "vision/image.h"

namespace kvb::llava_onevision {

std::vector<Image> load_video_frames(const MediaRef& media, int64_t frames);

}  // namespace kvb::llava_onevision
