// Video decoding with OpenCV VideoCapture (left out of builds with -DKVB_WITH_OPENCV=OFF).
#include <ATen/ATen.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "models/qwen2_5_vl/video_sampling.h"

namespace kvb {
namespace {

// Reads the frames at `indices` (ascending) by decoding sequentially: seeking is not
// frame-exact for many codecs. Returns fewer frames when the stream ends early.
std::vector<Image> read_frames(const std::string& path, const std::vector<int64_t>& indices) {
  cv::VideoCapture cap(path);
  KVB_CHECK(cap.isOpened(), "{}: cannot open video", path);
  std::vector<Image> out;
  out.reserve(indices.size());
  size_t next = 0;
  cv::Mat bgr, rgb;
  for (int64_t f = 0; next < indices.size(); ++f) {
    if (!cap.grab()) break;
    if (indices[next] != f) continue;
    KVB_CHECK(cap.retrieve(bgr) && !bgr.empty(), "{}: cannot decode frame {}", path, f);
    if (bgr.channels() == 1) cv::cvtColor(bgr, rgb, cv::COLOR_GRAY2RGB);
    else cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    at::Tensor t = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte).clone();
    while (next < indices.size() && indices[next] == f) out.push_back(Image{t}), ++next;
  }
  return out;
}

int64_t count_frames(const std::string& path) {
  cv::VideoCapture cap(path);
  KVB_CHECK(cap.isOpened(), "{}: cannot open video", path);
  int64_t n = 0;
  while (cap.grab()) ++n;
  return n;
}

}  // namespace

SampledVideo sample_video(const std::string& path, const VideoSamplingConfig& cfg) {
  SampledVideo v;
  KVB_CHECK(std::ifstream(path).good(), "{}: cannot open video file", path);
  {
    cv::VideoCapture cap(path);
    KVB_CHECK(cap.isOpened(), "{}: cannot open video (missing file or unsupported codec)", path);
    v.video_fps = cap.get(cv::CAP_PROP_FPS);
    v.total_frames = static_cast<int64_t>(std::llround(cap.get(cv::CAP_PROP_FRAME_COUNT)));
  }
  KVB_CHECK(v.video_fps > 0, "{}: video reports no frame rate", path);
  if (v.total_frames <= 0) v.total_frames = count_frames(path);
  KVB_CHECK(v.total_frames > 0, "{}: video has no frames", path);

  for (int attempt = 0; attempt < 2; ++attempt) {
    const int64_t n = smart_nframes(cfg, v.total_frames, v.video_fps);
    v.frame_indices = sample_frame_indices(v.total_frames, n);
    std::vector<Image> frames = read_frames(path, v.frame_indices);
    if (static_cast<int64_t>(frames.size()) == n) {
      v.frames = resize_video_frames(frames, cfg);
      v.sample_fps = static_cast<double>(n) / std::max<double>(static_cast<double>(v.total_frames), 1e-6) *
                     v.video_fps;
      return v;
    }
    // The container's frame count was wrong: count the decodable frames and sample again.
    v.total_frames = count_frames(path);
    KVB_CHECK(v.total_frames > 0, "{}: video has no decodable frames", path);
  }
  KVB_FAIL("{}: could not read the sampled frames (frame count unstable)", path);
}

}  // namespace kvb
