// Video decoding + qwen-vl-utils sampling on a synthetic MJPG/AVI written with OpenCV: each
// frame is a flat colour that encodes its index, so the sampled frames can be identified.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include "core/error.h"
#include "core/prompt.h"
#include "models/qwen2_5_vl/video_sampling.h"

namespace {

constexpr int kFrames = 37, kHeight = 97, kWidth = 213;
constexpr double kFps = 10.0;

double red_of(int64_t k) { return 6.0 * k + 10; }  // frame k is RGB (6k + 10, 200 - 5k, 128)

// One file per test: ctest -j runs the tests of this file at once, and each deletes its file.
std::string write_video() {
  std::string path = ::testing::TempDir() + "kvb_vision_video_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                     std::to_string(::getpid()) + ".avi";
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kFps, cv::Size(kWidth, kHeight));
  EXPECT_TRUE(w.isOpened()) << "OpenCV cannot write MJPG/AVI";
  for (int k = 0; k < kFrames; ++k) {
    cv::Mat frame(kHeight, kWidth, CV_8UC3, cv::Scalar(128, 200 - 5 * k, red_of(k)));  // BGR
    w.write(frame);
  }
  return path;
}

}  // namespace

TEST(VideoOpenCV, SamplesFramesAsQwenVlUtils) {
  const std::string path = write_video();
  kvb::VideoSamplingConfig cfg;  // fps 2
  kvb::SampledVideo v = kvb::sample_video(path, cfg);
  EXPECT_EQ(v.total_frames, kFrames);
  EXPECT_DOUBLE_EQ(v.video_fps, kFps);
  // nframes = floor(37 / 10 * 2 = 7.4 to a multiple of 2) = 6; torch.linspace(0, 36, 6).round()
  const std::vector<int64_t> want{0, 7, 14, 22, 29, 36};
  EXPECT_EQ(v.frame_indices, want);
  ASSERT_EQ(v.frames.size(), want.size());
  EXPECT_DOUBLE_EQ(v.sample_fps, 6.0 / 37.0 * 10.0);
  for (size_t i = 0; i < want.size(); ++i) {
    // fetch_video: 97x213 is below VIDEO_MIN_PIXELS, so frames are upscaled to 224x476.
    ASSERT_EQ(v.frames[i].height(), 224);
    ASSERT_EQ(v.frames[i].width(), 476);
    double red = v.frames[i].rgb.select(2, 0).to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(red, red_of(want[i]), 3.0) << "sampled frame " << i << " is not source frame " << want[i];
  }

  kvb::QwenProcessorConfig pc;
  kvb::VisionInput in = kvb::preprocess_video(v, pc);
  EXPECT_EQ(in.grid_thw.sizes(), (at::IntArrayRef{1, 3}));
  EXPECT_TRUE(at::equal(in.grid_thw, at::tensor(std::vector<int64_t>{3, 16, 34}, at::kLong).reshape({1, 3})));
  EXPECT_EQ(in.pixel_values.sizes(), (at::IntArrayRef{3 * 16 * 34, 3 * 2 * 14 * 14}));
  EXPECT_DOUBLE_EQ(in.second_per_grid_t, 2.0 / (6.0 / 37.0 * 10.0));  // temporal_patch_size / fps
  EXPECT_EQ(in.num_tokens(pc.merge_size), 3 * 16 * 34 / 4);
  // Row layout [C, Tp, P, P]: the first patch of temporal group 1 holds frames 2 and 3 (source
  // frames 14 and 22); its R values at Tp = 0 and 1 normalise those frames' red.
  const int64_t row = 16 * 34;
  const float mean = 0.48145466f, stdv = 0.26862954f;
  for (int tp = 0; tp < 2; ++tp) {
    float got = in.pixel_values[row][tp * 14 * 14].item<float>();
    float want_v = (static_cast<float>(red_of(want[2 + tp]) / 255.0) - mean) / stdv;
    EXPECT_NEAR(got, want_v, 3.0 / 255 / stdv) << "temporal slot " << tp;
  }
  std::remove(path.c_str());
}

TEST(VideoOpenCV, MaxFramesAndErrors) {
  const std::string path = write_video();
  kvb::VideoSamplingConfig cfg;
  cfg.fps = 10.0;
  cfg.max_frames = 9;  // floor(9 / 2) * 2 = 8 frames
  kvb::SampledVideo v = kvb::sample_video(path, cfg);
  // torch.linspace(0, 36, 8) = 0, 5.142857, 10.285714, 15.428571, 20.571429, 25.714286, 30.857143, 36
  EXPECT_EQ(v.frame_indices, (std::vector<int64_t>{0, 5, 10, 15, 21, 26, 31, 36}));
  for (size_t i = 0; i < v.frames.size(); ++i)
    EXPECT_NEAR(v.frames[i].rgb.select(2, 0).to(at::kDouble).mean().item<double>(), red_of(v.frame_indices[i]), 3.0);
  // The same video handed over as bytes (MediaRef) samples the same frames.
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  kvb::SampledVideo vb = kvb::load_media_video(kvb::MediaRef{"", bytes, "favor clip 3"}, cfg);
  EXPECT_EQ(vb.frame_indices, v.frame_indices);
  ASSERT_EQ(vb.frames.size(), v.frames.size());
  EXPECT_TRUE(at::equal(vb.frames[3].rgb, v.frames[3].rgb));
  std::remove(path.c_str());
  try {
    kvb::load_media_video(kvb::MediaRef{"", "not a video", "favor clip 4"}, cfg);
    FAIL() << "garbage video accepted";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("favor clip 4"), std::string::npos) << e.what();
  }
  try {
    kvb::sample_video("/nonexistent/favor/clip_01.mp4", cfg);
    FAIL() << "missing video accepted";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/favor/clip_01.mp4"), std::string::npos) << e.what();
  }
}
