#pragma once
// Images for the synthetic needle benchmark, drawn with OpenCV (needle_opencv.cpp) and handed
// to the model as encoded PNG bytes, so no files are written.
#include <cstdint>
#include <string>

namespace kvb::needle {

// False in builds with -DKVB_WITH_OPENCV=OFF: the benchmark then makes text-only haystacks.
bool images_available();

// A `size` x `size` PNG: background and shapes chosen by `seed`, `caption` written across it
// in large print (the needle image carries "CODE 4821", distractors carry letter words).
std::string draw_png(const std::string& caption, int size, uint32_t seed);

}  // namespace kvb::needle
