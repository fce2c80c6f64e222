#pragma once
// Decoded images as the Qwen-VL pipeline sees them: 8-bit RGB, EXIF orientation applied,
// grey expanded to RGB and alpha composited over white (qwen-vl-utils' to_rgb).
// Decoding needs OpenCV; a build with -DKVB_WITH_OPENCV=OFF throws "built without OpenCV".
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace kvb {

struct MediaRef;

struct Image {
  at::Tensor rgb;  // [H, W, 3] uint8, contiguous, RGB order
  int64_t height() const { return rgb.size(0); }
  int64_t width() const { return rgb.size(1); }
};

// True when this build can decode images and videos (KVB_WITH_OPENCV=ON).
bool vision_decoding_available();

// JPEG/PNG/WebP/BMP... from a file or from the encoded bytes. Errors name the file / `label`.
Image decode_image_file(const std::string& path);
Image decode_image_bytes(const std::string& bytes, const std::string& label);
// The bytes of an image file: regular files only, at most kMaxImageFileBytes (a device such as
// /dev/zero, a FIFO or a huge file would otherwise be read forever or into all memory).
constexpr int64_t kMaxImageFileBytes = int64_t{512} << 20;
std::string read_image_file(const std::string& path);
// MediaRef with `bytes` set decodes those, else reads `path`; errors use `label` when set.
Image load_media_image(const MediaRef& media);

// Pure helpers (no OpenCV), also used by the decoders.
// [H, W, 4] uint8 RGBA -> RGB over a white background, with Pillow's integer blend
// (Image.paste(rgba, mask=alpha) onto white, as qwen-vl-utils' to_rgb does).
at::Tensor composite_over_white(const at::Tensor& rgba);
// EXIF orientation tag (1..8) read from a JPEG's APP1 segment; 1 when absent or unreadable.
int exif_orientation(const std::string& encoded);
// Applies an EXIF orientation (1..8) to an [H, W, C] image (what PIL.ImageOps.exif_transpose does).
at::Tensor apply_exif_orientation(const at::Tensor& hwc, int orientation);

}  // namespace kvb
