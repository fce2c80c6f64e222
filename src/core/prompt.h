#pragma once
// What a benchmark hands the model: chat messages whose content interleaves text and media.
// Shared by benchmarks (which build it), chat templates (which render it) and the engine.
#include <cstdint>
#include <string>
#include <vector>

namespace kvb {

struct MediaRef {
  std::string path;   // a file on disk, or
  std::string bytes;  // the encoded file itself (e.g. base64-decoded from a TSV cell)
  std::string label;  // how errors name it ("hr_bench_4k.tsv row 17")
  int64_t max_pixels = 0;  // > 0: the benchmark's per-image (per-frame for videos) resolution cap (the processor resizes below it)
  double fps = 0;          // > 0 (videos): frames per second to sample, qwen-vl-utils' "fps" key (FAVOR-Bench: 1.0)
};

struct Segment {
  enum class Kind { Text, Image, Video };
  Kind kind = Kind::Text;
  std::string text;  // Kind::Text
  MediaRef media;    // Kind::Image / Kind::Video
};

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::vector<Segment> content;
};

inline Segment text_segment(std::string t) { return {Segment::Kind::Text, std::move(t), {}}; }
inline Segment image_segment(MediaRef m) { return {Segment::Kind::Image, {}, std::move(m)}; }
inline Segment video_segment(MediaRef m) { return {Segment::Kind::Video, {}, std::move(m)}; }

}  // namespace kvb
