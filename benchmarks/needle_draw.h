#pragma once
// Images for the synthetic needle benchmark, drawn with OpenCV (needle_opencv.cpp) and handed
// to the model as encoded PNG bytes, so no files are written.
#include <array>
#include <cstdint>
#include <string>

namespace kvb::needle {

// False in builds with -DKVB_WITH_OPENCV=OFF: the benchmark then makes text-only haystacks.
bool images_available();

// A `size` x `size` PNG: background and shapes chosen by `seed`, `caption` written across it
// in large print (the needle image carries "CODE 4821", distractors carry letter words).
std::string draw_png(const std::string& caption, int size, uint32_t seed);

enum class Shape { Circle, Square, Triangle };

// A `size` x `size` PNG of one filled shape of colour `rgb` on a dark grey background; position,
// extent and background come from `seed`.
std::string draw_shape_png(Shape shape, const std::array<int, 3>& rgb, int size, uint32_t seed);

}  // namespace kvb::needle
