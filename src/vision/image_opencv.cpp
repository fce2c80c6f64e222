// Image decoding with OpenCV (left out of builds with -DKVB_WITH_OPENCV=OFF).
#include <ATen/ATen.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "vision/image.h"

namespace kvb {
namespace {

// PIL's Image.MAX_IMAGE_PIXELS * 2: above it PIL (and so every Python reference pipeline) raises
// DecompressionBombError instead of decoding.
constexpr int64_t kMaxImagePixels = 178956970;

// A JPEG's last scan must end with the end-of-image marker. Entropy-coded data stuffs every 0xFF,
// so neither marker can appear inside it; an EXIF thumbnail's markers come before the last scan.
bool jpeg_truncated(const std::string& b) {
  if (b.size() < 3 || static_cast<unsigned char>(b[0]) != 0xFF || static_cast<unsigned char>(b[1]) != 0xD8) return false;
  const size_t sos = b.rfind("\xFF\xDA");
  return sos == std::string::npos || b.find("\xFF\xD9", sos) == std::string::npos;
}

Image from_mat(cv::Mat m, const std::string& encoded, const std::string& what) {
  KVB_CHECK(!m.empty(), "{}: cannot decode image (unknown format or corrupt data)", what);
  KVB_CHECK(static_cast<int64_t>(m.total()) <= kMaxImagePixels,
            "{}: image is {}x{} = {} pixels, more than the {} that PIL (and so the reference pipelines) decode",
            what, m.cols, m.rows, static_cast<int64_t>(m.total()), kMaxImagePixels);
  // 16-bit PNG/TIFF: scale to 8 bits as a >> 8 would lose rounding; /257 maps 65535 to 255.
  if (m.depth() == CV_16U) m.convertTo(m, CV_8U, 1.0 / 257.0);
  else if (m.depth() != CV_8U) m.convertTo(m, CV_8U);
  const int ch = m.channels();
  KVB_CHECK(ch == 1 || ch == 3 || ch == 4, "{}: unsupported channel count {}", what, ch);
  cv::Mat rgb;
  if (ch == 1) cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
  else if (ch == 3) cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
  else cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGBA);
  rgb = rgb.isContinuous() ? rgb : rgb.clone();
  at::Tensor t = at::from_blob(rgb.data, {rgb.rows, rgb.cols, rgb.channels()}, at::kByte).clone();
  if (ch == 4) t = composite_over_white(t);
  // IMREAD_UNCHANGED keeps the stored orientation; apply EXIF ourselves (as exif_transpose).
  return Image{apply_exif_orientation(t, exif_orientation(encoded))};
}

}  // namespace

bool vision_decoding_available() { return true; }

Image decode_image_bytes(const std::string& bytes, const std::string& label) {
  KVB_CHECK(!bytes.empty(), "{}: empty image data", label);
  // libjpeg fills a cut-off JPEG with grey and only warns; PIL raises "image file is truncated".
  KVB_CHECK(!jpeg_truncated(bytes), "{}: JPEG data is truncated (no end-of-image marker after the last scan)", label);
  cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat m;
  try {
    m = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    KVB_FAIL("{}: cannot decode image: {}", label, e.what());
  }
  return from_mat(m, bytes, label);
}

Image decode_image_file(const std::string& path) { return decode_image_bytes(read_image_file(path), path); }

}  // namespace kvb
