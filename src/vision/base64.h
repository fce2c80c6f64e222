#pragma once
// Base64 (RFC 4648, standard alphabet) decoding for images embedded in dataset files
// (HR-Bench TSV cells). Whitespace is skipped; padding is optional.
#include <string>

namespace kvb {

// Throws kvb::Error naming `label` and the offending position on a character outside the
// alphabet, data after padding, or a length that cannot be base64.
std::string base64_decode(const std::string& text, const std::string& label);

}  // namespace kvb
