#include "vision/bmp.h"

#include <ATen/ATen.h>

#include <cstdint>

#include "core/error.h"
#include "vision/image.h"

namespace kvb {

bool is_bmp(const std::string& bytes) { return bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M'; }

Image decode_bmp(const std::string& b, const std::string& label) {
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
  auto u16 = [&](size_t i) { return u8(i) | (u8(i + 1) << 8); };
  auto u32 = [&](size_t i) { return u16(i) | (u16(i + 2) << 16); };
  KVB_CHECK(is_bmp(b) && b.size() >= 54, "{}: not a BMP file or truncated header ({} bytes)", label, b.size());
  const uint32_t data_offset = u32(10), header_size = u32(14);
  KVB_CHECK(header_size >= 40, "{}: BMP header of {} bytes (only BITMAPINFOHEADER and later are read)", label,
            header_size);
  const int64_t width = static_cast<int32_t>(u32(18));
  const int64_t signed_height = static_cast<int32_t>(u32(22));
  const uint32_t planes = u16(26), bpp = u16(28), compression = u32(30);
  KVB_CHECK(planes == 1 && bpp == 24 && compression == 0,
            "{}: BMP with {} bits per pixel and compression {}: only uncompressed 24-bit BMP is decoded without "
            "OpenCV",
            label, bpp, compression);
  const int64_t height = signed_height < 0 ? -signed_height : signed_height;
  KVB_CHECK(width > 0 && height > 0 && width <= 65535 && height <= 65535, "{}: BMP size {}x{} out of range", label,
            width, signed_height);
  const int64_t row = (width * 3 + 3) / 4 * 4;
  KVB_CHECK(data_offset >= 54 && static_cast<int64_t>(data_offset) + row * height <= static_cast<int64_t>(b.size()),
            "{}: BMP pixel data truncated (needs {} bytes from offset {}, file has {})", label, row * height,
            data_offset, b.size());
  at::Tensor rgb = at::empty({height, width, 3}, at::kByte);
  uint8_t* out = rgb.data_ptr<uint8_t>();
  for (int64_t y = 0; y < height; ++y) {
    const int64_t src_row = signed_height > 0 ? height - 1 - y : y;  // positive height: bottom-up
    const size_t base = data_offset + static_cast<size_t>(src_row * row);
    for (int64_t x = 0; x < width; ++x) {
      uint8_t* px = out + (y * width + x) * 3;
      const size_t p = base + static_cast<size_t>(x) * 3;
      px[0] = static_cast<uint8_t>(u8(p + 2)), px[1] = static_cast<uint8_t>(u8(p + 1)), px[2] = static_cast<uint8_t>(u8(p));
    }
  }
  return Image{rgb};
}

}  // namespace kvb
