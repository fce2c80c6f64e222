#pragma once
// SHA-256 of a file (OpenSSL), to check that a checkpoint is the one goldens were made from.
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace kvb::test {

inline std::string sha256_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KVB_CHECK(f.good(), "cannot read {}", path);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(f.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += hex[md[i] >> 4], out += hex[md[i] & 15];
  return out;
}

}  // namespace kvb::test
