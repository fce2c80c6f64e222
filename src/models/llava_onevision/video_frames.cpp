#include "models/llava_onevision/video_frames.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "models/qwen2_5_vl/video_sampling.h"

namespace kvb::llava_onevision {

std::vector<Image> load_video_frames(const MediaRef& media, int64_t frames) {
  if (media.bytes.empty() && !media.path.empty() && std::filesystem::is_directory(media.path)) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(media.path)) {
      std::string ext = e.path().extension().string();
      for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (e.is_regular_file() && (ext == ".bmp" || ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".webp"))
        files.push_back(e.path().string());
    }
    KVB_CHECK(!files.empty(), "{}: a video folder needs frame images (.bmp .png .jpg .jpeg .webp); found none",
              media.label.empty() ? media.path : media.label);
    std::sort(files.begin(), files.end());
    std::vector<Image> out;
    for (const auto& f : files) out.push_back(decode_image_file(f));
    return out;
  }
  VideoSamplingConfig vc;
  vc.nframes = frames;
  if (media.max_pixels > 0) vc.max_pixels = media.max_pixels;
  return load_media_video(media, vc).frames;
}

}  // namespace kvb::llava_onevision
