// qwen-vl-utils' video sampling arithmetic (no OpenCV here; decoding is in video_sampling_opencv.cpp).
#include "models/qwen2_5_vl/video_sampling.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "core/prompt.h"
#include "vision/resize.h"
#include "vision/round_by_factor.h"

namespace kvb {

VideoSamplingConfig VideoSamplingConfig::from_json(const json& j, const std::string& what) {
  VideoSamplingConfig c;
  ConfigReader r(j, what);
  r.get("fps", c.fps)
      .get("nframes", c.nframes)
      .get("min_frames", c.min_frames)
      .get("max_frames", c.max_frames)
      .get("min_pixels", c.min_pixels)
      .get("max_pixels", c.max_pixels)
      .get("total_pixels", c.total_pixels);
  r.finish();
  KVB_CHECK(c.fps > 0, "{}: 'fps' must be positive, got {}", what, c.fps);
  KVB_CHECK(c.nframes >= 0 && c.min_frames >= 1 && c.max_frames >= c.min_frames,
            "{}: need nframes >= 0 and 1 <= min_frames <= max_frames", what);
  KVB_CHECK(c.min_pixels > 0 && c.max_pixels >= 0 && c.total_pixels > 0,
            "{}: min_pixels and total_pixels must be positive, max_pixels >= 0", what);
  return c;
}

int64_t smart_nframes(const VideoSamplingConfig& cfg, int64_t total_frames, double video_fps) {
  const int64_t ff = cfg.frame_factor;
  int64_t nframes = 0;
  if (cfg.nframes > 0) {
    nframes = round_by_factor(static_cast<double>(cfg.nframes), ff);
  } else {
    KVB_CHECK(video_fps > 0, "video frame rate {} is not positive", video_fps);
    const int64_t min_frames = ceil_by_factor(static_cast<double>(cfg.min_frames), ff);
    const int64_t max_frames =
        floor_by_factor(static_cast<double>(std::min(cfg.max_frames, total_frames)), ff);
    double n = static_cast<double>(total_frames) / video_fps * cfg.fps;
    n = std::min(std::min(std::max(n, static_cast<double>(min_frames)), static_cast<double>(max_frames)),
                 static_cast<double>(total_frames));
    nframes = floor_by_factor(n, ff);
  }
  KVB_CHECK(nframes >= ff && nframes <= total_frames,
            "video has {} frames: cannot sample {} (need {} <= nframes <= total frames)", total_frames,
            nframes, ff);
  return nframes;
}

std::vector<int64_t> sample_frame_indices(int64_t total_frames, int64_t nframes) {
  // torch.linspace(0, total_frames - 1, nframes) in float32 (ATen's CPU kernel: the first half
  // counts up from start, the second half down from end), then .round() (half to even).
  std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(nframes, 0)));
  if (nframes == 1) idx[0] = 0;
  if (nframes <= 1) return idx;
  const float start = 0.0f, end = static_cast<float>(total_frames - 1);
  const float step = (end - start) / static_cast<float>(nframes - 1);
  const int64_t halfway = nframes / 2;
  for (int64_t i = 0; i < nframes; ++i) {
    float v = i < halfway ? start + step * static_cast<float>(i)
                          : end - step * static_cast<float>(nframes - i - 1);
    idx[static_cast<size_t>(i)] = static_cast<int64_t>(std::nearbyint(v));
  }
  return idx;
}

std::pair<int64_t, int64_t> smart_resize_qwen_vl_utils(int64_t height, int64_t width, int64_t factor,
                                                       double min_pixels, double max_pixels) {
  KVB_CHECK(height > 0 && width > 0, "frame size {}x{} is empty", height, width);
  const double ratio = static_cast<double>(std::max(height, width)) / std::min(height, width);
  KVB_CHECK(ratio <= 200, "frame {}x{}: aspect ratio {:.1f} exceeds 200", height, width, ratio);
  int64_t h_bar = std::max(factor, round_by_factor(static_cast<double>(height), factor));
  int64_t w_bar = std::max(factor, round_by_factor(static_cast<double>(width), factor));
  if (static_cast<double>(h_bar * w_bar) > max_pixels) {
    double beta = std::sqrt(static_cast<double>(height * width) / max_pixels);
    h_bar = std::max(factor, floor_by_factor(height / beta, factor));
    w_bar = std::max(factor, floor_by_factor(width / beta, factor));
  } else if (static_cast<double>(h_bar * w_bar) < min_pixels) {
    double beta = std::sqrt(min_pixels / static_cast<double>(height * width));
    h_bar = ceil_by_factor(height * beta, factor);
    w_bar = ceil_by_factor(width * beta, factor);
  }
  return {h_bar, w_bar};
}

std::pair<int64_t, int64_t> video_frame_size(int64_t height, int64_t width, int64_t nframes,
                                             const VideoSamplingConfig& cfg) {
  KVB_CHECK(nframes > 0, "video_frame_size: no frames");
  const double min_pixels = static_cast<double>(cfg.min_pixels);
  // fetch_video: max(min(VIDEO_MAX_PIXELS, total_pixels / nframes * FRAME_FACTOR), int(min_pixels * 1.05))
  double max_pixels = std::max(
      std::min(static_cast<double>(cfg.video_max_pixels),
               static_cast<double>(cfg.total_pixels) / static_cast<double>(nframes) * cfg.frame_factor),
      static_cast<double>(static_cast<int64_t>(min_pixels * 1.05)));
  if (cfg.max_pixels > 0) max_pixels = std::min(static_cast<double>(cfg.max_pixels), max_pixels);
  return smart_resize_qwen_vl_utils(height, width, cfg.image_factor, min_pixels, max_pixels);
}

std::vector<Image> resize_video_frames(const std::vector<Image>& frames, const VideoSamplingConfig& cfg) {
  KVB_CHECK(!frames.empty(), "resize_video_frames: no frames");
  auto [h, w] = video_frame_size(frames[0].height(), frames[0].width(),
                                 static_cast<int64_t>(frames.size()), cfg);
  std::vector<Image> out;
  out.reserve(frames.size());
  for (const auto& f : frames) {
    KVB_CHECK(f.height() == frames[0].height() && f.width() == frames[0].width(),
              "resize_video_frames: frames differ in size ({}x{} vs {}x{})", f.height(), f.width(),
              frames[0].height(), frames[0].width());
    out.push_back(Image{resize_bicubic_torch_aa(f.rgb, h, w)});
  }
  return out;
}

VisionInput preprocess_video(const SampledVideo& video, const QwenProcessorConfig& cfg) {
  KVB_CHECK(!video.frames.empty(), "preprocess_video: no frames");
  KVB_CHECK(video.sample_fps > 0, "preprocess_video: sample_fps must be positive");
  // The HF processor applies its own smart_resize to each frame; for frames qwen-vl-utils has
  // already sized this is the identity.
  auto [h, w] = smart_resize(video.frames[0].height(), video.frames[0].width(), cfg.factor(),
                             cfg.min_pixels, cfg.max_pixels);
  std::vector<at::Tensor> frames;
  frames.reserve(video.frames.size());
  for (const auto& f : video.frames) frames.push_back(resize_bicubic_pil(f.rgb, h, w));
  VisionInput out = patchify_frames(frames, cfg);
  out.second_per_grid_t = static_cast<double>(cfg.temporal_patch_size) / video.sample_fps;
  return out;
}

SampledVideo sample_frame_folder(const std::string& dir, const VideoSamplingConfig& cfg) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string ext = e.path().extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (e.is_regular_file() && (ext == ".bmp" || ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp"))
      files.push_back(e.path().string());
  }
  KVB_CHECK(!files.empty(), "{}: a video folder needs frame images (.bmp .png .jpg .jpeg .webp); found none", dir);
  std::sort(files.begin(), files.end());
  // Each frame goes through fetch_image: the image defaults MIN_PIXELS = 4*28*28 and
  // MAX_PIXELS = 16384*28*28, an element's max_pixels lowering the cap.
  const double max_pixels = cfg.max_pixels > 0 ? std::min<double>(cfg.max_pixels, 16384.0 * 28 * 28) : 16384.0 * 28 * 28;
  SampledVideo out;
  for (const auto& f : files) {
    const Image img = decode_image_file(f);
    const auto [h, w] = smart_resize_qwen_vl_utils(img.height(), img.width(), cfg.image_factor, 4.0 * 28 * 28, max_pixels);
    out.frames.push_back(Image{resize_bicubic_pil(img.rgb, h, w)});
    KVB_CHECK(out.frames.back().height() == out.frames[0].height() && out.frames.back().width() == out.frames[0].width(),
              "{}: frame {} is {}x{} after resizing, the first frame {}x{}: a video's frames must share one size", dir, f,
              w, h, out.frames[0].width(), out.frames[0].height());
  }
  out.total_frames = static_cast<int64_t>(files.size());
  for (int64_t i = 0; i < out.total_frames; ++i) out.frame_indices.push_back(i);
  // The frame count is rounded up to FRAME_FACTOR by repeating the last frame.
  while (static_cast<int64_t>(out.frames.size()) % cfg.frame_factor != 0) {
    out.frames.push_back(out.frames.back());
    out.frame_indices.push_back(out.total_frames - 1);
  }
  out.video_fps = out.sample_fps = cfg.fps;
  return out;
}

SampledVideo load_media_video(const MediaRef& media, const VideoSamplingConfig& cfg) {
  const std::string label = media.label.empty() ? (media.path.empty() ? "video bytes" : media.path) : media.label;
  try {
    if (media.bytes.empty()) {
      KVB_CHECK(!media.path.empty(), "video has neither a path nor bytes");
      if (std::filesystem::is_directory(media.path)) return sample_frame_folder(media.path, cfg);
      return sample_video(media.path, cfg);
    }
    static std::atomic<int> counter{0};
    const auto tmp = std::filesystem::temp_directory_path() /
                     fmt::format("kvb_video_{}_{}.bin", static_cast<long>(::getpid()), counter++);
    {
      std::ofstream f(tmp, std::ios::binary);
      KVB_CHECK(f.write(media.bytes.data(), static_cast<std::streamsize>(media.bytes.size())),
                "cannot write temporary file {}", tmp.string());
    }
    struct Remove {
      std::filesystem::path p;
      ~Remove() { std::error_code ec; std::filesystem::remove(p, ec); }
    } remove{tmp};
    return sample_video(tmp.string(), cfg);
  } catch (const Error& e) {
    // The decoders' own errors already name the file.
    if (media.label.empty() || media.label == media.path) throw;
    throw Error(fmt::format("{}: {}", label, e.what()));
  }
}

#ifndef KVB_WITH_OPENCV
SampledVideo sample_video(const std::string& path, const VideoSamplingConfig&) {
  KVB_FAIL("{}: cannot decode videos: kvbench was built without OpenCV (-DKVB_WITH_OPENCV=OFF)", path);
}
#endif

}  // namespace kvb
