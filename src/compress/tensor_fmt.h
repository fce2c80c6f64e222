#pragma once
// Tensor shapes and dtypes as text for error messages (fmt cannot format at:: types directly).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>

namespace kvb {

inline std::string shape_str(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }
inline std::string shape_str(const at::Tensor& t) {
  return t.defined() ? shape_str(t.sizes()) : std::string("undefined");
}
inline std::string dtype_str(const at::Tensor& t) { return c10::toString(t.scalar_type()); }

}  // namespace kvb
