// qwen-vl-utils' frame-count, frame-index and frame-size rules (vision_process.py), checked
// against a line-by-line transcription of the Python and values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/qwen2_5_vl/video_sampling.h"

namespace {

// smart_nframes() of qwen-vl-utils with ele = {"fps": fps} (Python float semantics; round()
// is half to even).
int64_t py_smart_nframes(int64_t total, double video_fps, double fps, int64_t min_f, int64_t max_f) {
  auto ceil_f = [](double v, int64_t f) { return static_cast<int64_t>(std::ceil(v / f)) * f; };
  auto floor_f = [](double v, int64_t f) { return static_cast<int64_t>(std::floor(v / f)) * f; };
  const int64_t FRAME_FACTOR = 2;
  double min_frames = static_cast<double>(ceil_f(static_cast<double>(min_f), FRAME_FACTOR));
  double max_frames = static_cast<double>(floor_f(static_cast<double>(std::min(max_f, total)), FRAME_FACTOR));
  double nframes = total / video_fps * fps;
  nframes = std::min(std::min(std::max(nframes, min_frames), max_frames), static_cast<double>(total));
  return floor_f(nframes, FRAME_FACTOR);
}

using Size = std::pair<int64_t, int64_t>;

}  // namespace

TEST(VideoSampling, NframesWorkedExamples) {
  kvb::VideoSamplingConfig cfg;  // fps 2, min 4, max 768
  EXPECT_EQ(kvb::smart_nframes(cfg, 37, 10.0), 6);      // 3.7 s * 2 = 7.4 -> 6
  EXPECT_EQ(kvb::smart_nframes(cfg, 300, 30.0), 20);    // 10 s -> 20
  EXPECT_EQ(kvb::smart_nframes(cfg, 9, 30.0), 4);       // 0.6 -> min_frames 4
  EXPECT_EQ(kvb::smart_nframes(cfg, 3, 30.0), 2);       // min_frames capped by floor(3 / 2) * 2
  EXPECT_EQ(kvb::smart_nframes(cfg, 20000, 25.0), 768); // FPS_MAX_FRAMES
  EXPECT_THROW(kvb::smart_nframes(cfg, 1, 30.0), kvb::Error);  // fewer than FRAME_FACTOR frames
  kvb::VideoSamplingConfig fixed;
  fixed.nframes = 7;  // round(7 / 2) * 2 = round(3.5) * 2 = 8 (half to even)
  EXPECT_EQ(kvb::smart_nframes(fixed, 100, 30.0), 8);
  fixed.nframes = 5;  // round(2.5) * 2 = 4
  EXPECT_EQ(kvb::smart_nframes(fixed, 100, 30.0), 4);
}

TEST(VideoSampling, NframesMatchesTranscriptionOverAGrid) {
  int checked = 0;
  for (int64_t total : {2, 5, 37, 61, 250, 501, 1999, 90001})
    for (double vfps : {7.0, 23.976, 25.0, 29.97, 60.0})
      for (double fps : {0.5, 1.0, 2.0, 3.3})
        for (int64_t max_f : {16, 768}) {
          kvb::VideoSamplingConfig cfg;
          cfg.fps = fps;
          cfg.max_frames = max_f;
          int64_t want = py_smart_nframes(total, vfps, fps, cfg.min_frames, max_f);
          EXPECT_EQ(kvb::smart_nframes(cfg, total, vfps), want)
              << "total " << total << " video_fps " << vfps << " fps " << fps << " max " << max_f;
          ++checked;
        }
  EXPECT_EQ(checked, 320);
}

TEST(VideoSampling, FrameIndicesAreRoundedLinspace) {
  // torch.linspace(0, 36, 6) = [0, 7.2, 14.4, 21.6, 28.8, 36] -> round -> [0, 7, 14, 22, 29, 36]
  EXPECT_EQ(kvb::sample_frame_indices(37, 6), (std::vector<int64_t>{0, 7, 14, 22, 29, 36}));
  // [0, 1.5, 3]: 1.5 rounds half to even -> 2; [0, 2.5, 5]: 2.5 -> 2.
  EXPECT_EQ(kvb::sample_frame_indices(4, 3), (std::vector<int64_t>{0, 2, 3}));
  EXPECT_EQ(kvb::sample_frame_indices(6, 3), (std::vector<int64_t>{0, 2, 5}));
  EXPECT_EQ(kvb::sample_frame_indices(9, 1), (std::vector<int64_t>{0}));
  // Against exact rational arithmetic wherever the true value is not within float error of .5.
  for (int64_t total = 2; total <= 700; total += 7) {
    for (int64_t n = 2; n <= std::min<int64_t>(total, 64); n += 2) {
      auto idx = kvb::sample_frame_indices(total, n);
      ASSERT_EQ(static_cast<int64_t>(idx.size()), n);
      EXPECT_EQ(idx.front(), 0);
      EXPECT_EQ(idx.back(), total - 1);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t num = (total - 1) * i, den = n - 1;  // exact value num / den
        const int64_t twice_frac = 2 * (num % den);
        if (std::abs(twice_frac - den) * 1000 < den) continue;  // within 1e-3 of a half
        const int64_t nearest = num / den + (twice_frac > den ? 1 : 0);
        ASSERT_EQ(idx[i], nearest) << "total " << total << " n " << n << " i " << i;
      }
    }
  }
}

TEST(VideoSampling, FrameSizeFollowsFetchVideo) {
  // Values from qwen-vl-utils' fetch_video arithmetic (Python): VIDEO_MIN_PIXELS = 128*28*28,
  // max_pixels = max(min(768*28*28, VIDEO_TOTAL_PIXELS / nframes * 2), int(min_pixels * 1.05)).
  kvb::VideoSamplingConfig cfg;
  EXPECT_EQ(kvb::video_frame_size(480, 640, 6, cfg), Size(476, 644));
  EXPECT_EQ(kvb::video_frame_size(97, 213, 6, cfg), Size(224, 476));  // upscaled to min
  EXPECT_EQ(kvb::video_frame_size(1080, 1920, 8, cfg), Size(560, 1008));
  EXPECT_EQ(kvb::video_frame_size(1080, 1920, 700, cfg), Size(364, 672));
  EXPECT_EQ(kvb::video_frame_size(2000, 30, 4, cfg), Size(2604, 56));
  cfg.total_pixels = 28 * 28 * 64;  // budget below the floor: 1.05 * min_pixels wins
  EXPECT_EQ(kvb::video_frame_size(97, 213, 6, cfg), Size(224, 476));
  cfg = kvb::VideoSamplingConfig{};
  cfg.max_pixels = 28 * 28 * 130;  // "max_pixels" in ele lowers the cap
  auto s = kvb::video_frame_size(1080, 1920, 8, cfg);
  EXPECT_LE(s.first * s.second, 28 * 28 * 130);
  EXPECT_EQ(s.first % 28, 0);
}

TEST(VideoSampling, ConfigFromJson) {
  auto c = kvb::VideoSamplingConfig::from_json(
      nlohmann::json::parse(R"({"fps": 1.0, "max_frames": 32, "max_pixels": 200704})"), "favor_bench");
  EXPECT_EQ(c.fps, 1.0);
  EXPECT_EQ(c.max_frames, 32);
  EXPECT_EQ(c.max_pixels, 200704);
  try {
    kvb::VideoSamplingConfig::from_json(nlohmann::json::parse(R"({"fsp": 1})"), "favor_bench");
    FAIL() << "unknown key accepted";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fsp"), std::string::npos) << e.what();
  }
}
