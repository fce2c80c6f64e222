#pragma once
// Uncompressed 24-bit Windows BMP (BITMAPINFOHEADER or later, BI_RGB), decoded by our own
// code: the one image format a build without OpenCV can read (synthetic test images, BMP
// files in datasets). Rows bottom-up (positive height) or top-down (negative height), each
// padded to 4 bytes, pixels stored B, G, R.
#include <string>

namespace kvb {

struct Image;

// True when `bytes` start with the BMP signature "BM".
bool is_bmp(const std::string& bytes);

// Throws kvb::Error naming `label` for a truncated file or a BMP variant other than
// uncompressed 24-bit (palettes, 16/32-bit, RLE, bit fields).
Image decode_bmp(const std::string& bytes, const std::string& label);

}  // namespace kvb
