// The Qwen2.5-VL prompt path honours a benchmark's video element (MediaRef.fps, as qwen-vl-utils
// reads "fps" from the element) and takes a video as in-memory bytes as well as a file.
#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include <fstream>
#include <iterator>

#include "core/registry.h"
#include "tests/unit/qwen_test_support.h"

namespace {

// 37 frames of 97x213 at 10 fps; below VIDEO_MIN_PIXELS, so frames are resized to 224x476
// (16x34 merged patches of 14 px after the 2x2 merge: 136 tokens per temporal pair of frames).
std::string write_clip() {
  const std::string path = (kvb::test::scratch_dir() / "clip.avi").string();
  std::filesystem::create_directories(kvb::test::scratch_dir());
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(213, 97));
  EXPECT_TRUE(w.isOpened()) << "OpenCV cannot write MJPG/AVI";
  for (int k = 0; k < 37; ++k) w.write(cv::Mat(97, 213, CV_8UC3, cv::Scalar(128, 200 - 5 * k, 6 * k + 10)));
  return path;
}

int64_t media_tokens(const kvb::MediaRef& clip) {
  auto full = kvb::Registry<kvb::CompressionMethod>::instance().create("full", nlohmann::json::object());
  kvb::GenerationOptions opt;
  opt.max_new_tokens = 1;
  const std::vector<kvb::Message> msgs{{"user", {kvb::video_segment(clip), kvb::text_segment("What moves?")}}};
  return kvb::test::tiny_qwen_model(0).generate(msgs, opt, *full).media_tokens;
}

TEST(QwenVideo, ElementFpsAndBytes) {
  const std::string path = write_clip();
  kvb::MediaRef clip{path, "", "clip"};
  // Default fps 2: 37 / 10 * 2 = 7.4 -> 6 frames -> 3 temporal groups.
  EXPECT_EQ(media_tokens(clip), 3 * 136);
  // fps 1 (FAVOR-Bench's element): 3.7 -> raised to FPS_MIN_FRAMES 4 -> 2 temporal groups.
  clip.fps = 1.0;
  EXPECT_EQ(media_tokens(clip), 2 * 136);
  std::ifstream f(path, std::ios::binary);
  kvb::MediaRef bytes{"", std::string(std::istreambuf_iterator<char>(f), {}), "clip bytes"};
  bytes.fps = 1.0;
  EXPECT_EQ(media_tokens(bytes), 2 * 136);
}

}  // namespace
