#pragma once
// Bicubic resizing as the Python references do it, in pure ATen/C++ (no OpenCV: its
// INTER_CUBIC does not antialias when downscaling).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace kvb {

// PIL's Image.resize((out_w, out_h), Image.BICUBIC) on an 8-bit image [H, W, C] uint8:
// separable antialiased cubic (a = -0.5, support scaled by the downscale factor), fixed-point
// coefficients and uint8 rounding/clipping after each pass, horizontal pass first — exactly
// Pillow's libImaging/Resample.c. Used for images (HF Qwen2VLImageProcessor, qwen-vl-utils).
at::Tensor resize_bicubic_pil(const at::Tensor& hwc_u8, int64_t out_h, int64_t out_w);

// torch.nn.functional.interpolate(mode="bicubic", antialias=True, align_corners=False) in
// float32 on a uint8 image, then clamp to [0, 255] and round (torchvision's resize of a uint8
// tensor). qwen-vl-utils resizes video frames this way. [H, W, C] uint8 -> [H, W, C] uint8.
at::Tensor resize_bicubic_torch_aa(const at::Tensor& hwc_u8, int64_t out_h, int64_t out_w);

}  // namespace kvb
