// Image helpers that need no OpenCV, and the decoder stubs of a build without it.
#include "vision/image.h"

#include <ATen/ATen.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/prompt.h"
#include "vision/bmp.h"

namespace kvb {

at::Tensor composite_over_white(const at::Tensor& rgba) {
  KVB_CHECK(rgba.dim() == 3 && rgba.size(2) == 4 && rgba.scalar_type() == at::kByte,
            "composite_over_white: expected [H, W, 4] uint8, got {}", c10::str(rgba.sizes()));
  // Pillow's paste with an "L" mask: DIV255(dst * (255 - a) + src * a) with dst = 255, where
  // DIV255(v) = ((v + 128) >> 8) + (v + 128)) >> 8 (exact rounding of v / 255).
  at::Tensor c = rgba.slice(2, 0, 3).to(at::kInt);
  at::Tensor a = rgba.slice(2, 3, 4).to(at::kInt);
  at::Tensor t = c * a + (255 - a) * 255 + 128;
  at::Tensor v = (at::bitwise_right_shift(t, 8) + t);
  return at::bitwise_right_shift(v, 8).to(at::kByte).contiguous();
}

int exif_orientation(const std::string& s) {
  auto u8 = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(s[i])); };
  if (s.size() < 4 || u8(0) != 0xFF || u8(1) != 0xD8) return 1;  // not a JPEG
  size_t pos = 2;
  while (pos + 4 <= s.size()) {
    if (u8(pos) != 0xFF) return 1;
    unsigned marker = u8(pos + 1);
    if (marker == 0xFF) { ++pos; continue; }          // fill byte
    if (marker == 0xDA || marker == 0xD9) return 1;   // image data starts: no EXIF seen
    size_t len = (u8(pos + 2) << 8) | u8(pos + 3);
    if (len < 2 || pos + 2 + len > s.size()) return 1;
    size_t seg = pos + 4, seg_end = pos + 2 + len;
    if (marker == 0xE1 && seg_end - seg >= 14 && s.compare(seg, 6, std::string("Exif\0\0", 6)) == 0) {
      size_t tiff = seg + 6;
      bool le = s[tiff] == 'I' && s[tiff + 1] == 'I';
      if (!le && !(s[tiff] == 'M' && s[tiff + 1] == 'M')) return 1;
      auto rd16 = [&](size_t i) { return le ? u8(i) | (u8(i + 1) << 8) : (u8(i) << 8) | u8(i + 1); };
      auto rd32 = [&](size_t i) {
        return le ? rd16(i) | (static_cast<size_t>(rd16(i + 2)) << 16)
                  : (static_cast<size_t>(rd16(i)) << 16) | rd16(i + 2);
      };
      size_t ifd = tiff + rd32(tiff + 4);
      if (ifd + 2 > seg_end) return 1;
      unsigned n = rd16(ifd);
      for (unsigned e = 0; e < n; ++e) {
        size_t ent = ifd + 2 + 12 * static_cast<size_t>(e);
        if (ent + 12 > seg_end) return 1;
        if (rd16(ent) == 0x0112 && rd16(ent + 2) == 3) {  // Orientation, SHORT
          unsigned o = rd16(ent + 8);
          return o >= 1 && o <= 8 ? static_cast<int>(o) : 1;
        }
      }
      return 1;
    }
    pos = seg_end;
  }
  return 1;
}

at::Tensor apply_exif_orientation(const at::Tensor& hwc, int orientation) {
  // The transposes PIL.ImageOps.exif_transpose applies for tags 2..8.
  switch (orientation) {
    case 2: return hwc.flip({1}).contiguous();                      // FLIP_LEFT_RIGHT
    case 3: return hwc.flip({0, 1}).contiguous();                   // ROTATE_180
    case 4: return hwc.flip({0}).contiguous();                      // FLIP_TOP_BOTTOM
    case 5: return hwc.permute({1, 0, 2}).contiguous();             // TRANSPOSE
    case 6: return hwc.permute({1, 0, 2}).flip({1}).contiguous();   // ROTATE_270 (90° clockwise)
    case 7: return hwc.permute({1, 0, 2}).flip({0, 1}).contiguous();  // TRANSVERSE
    case 8: return hwc.permute({1, 0, 2}).flip({0}).contiguous();   // ROTATE_90 (90° counter-clockwise)
    default: return hwc;
  }
}

std::string read_image_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  KVB_CHECK(!ec && std::filesystem::exists(status), "{}: cannot open image file", path);
  KVB_CHECK(std::filesystem::is_regular_file(status), "{}: not a regular file", path);
  const auto size = std::filesystem::file_size(path, ec);
  KVB_CHECK(!ec && size <= static_cast<uintmax_t>(kMaxImageFileBytes), "{}: image file is {} bytes, over the {} limit",
            path, size, kMaxImageFileBytes);
  std::ifstream f(path, std::ios::binary);
  KVB_CHECK(f, "{}: cannot open image file", path);
  std::string bytes(size, '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(size));
  KVB_CHECK(f.gcount() == static_cast<std::streamsize>(size), "{}: cannot read image file", path);
  return bytes;
}

Image load_media_image(const MediaRef& media) {
  if (!media.bytes.empty()) return decode_image_bytes(media.bytes, media.label.empty() ? "image bytes" : media.label);
  KVB_CHECK(!media.path.empty(), "{}: image has neither a path nor bytes",
            media.label.empty() ? "media" : media.label);
  // The decoders' own errors already name the file.
  if (media.label.empty() || media.label == media.path) return decode_image_file(media.path);
  try {
    return decode_image_file(media.path);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", media.label, e.what()));
  }
}

#ifndef KVB_WITH_OPENCV
// Without OpenCV only what our own code decodes: uncompressed 24-bit BMP.
namespace {
bool has_bmp_extension(const std::string& path) {
  if (path.size() < 4) return false;
  std::string ext = path.substr(path.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".bmp";
}
[[noreturn]] void no_opencv(const std::string& what) {
  KVB_FAIL("{}: cannot decode images: kvbench was built without OpenCV (-DKVB_WITH_OPENCV=OFF; only "
           "uncompressed 24-bit BMP is read without it)",
           what);
}
}  // namespace
bool vision_decoding_available() { return false; }
Image decode_image_bytes(const std::string& bytes, const std::string& label) {
  if (!is_bmp(bytes)) no_opencv(label);
  return decode_bmp(bytes, label);
}
Image decode_image_file(const std::string& path) {
  // What could not be read could not be decoded either.
  if (!std::ifstream(path, std::ios::binary) && !has_bmp_extension(path)) no_opencv(path);
  return decode_image_bytes(read_image_file(path), path);
}
#endif

}  // namespace kvb
