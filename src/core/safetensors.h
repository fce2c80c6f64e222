#pragma once
// Safetensors reader/writer (https://github.com/huggingface/safetensors format): 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__":
// {str: str}}, then the data bytes. Files are memory-mapped; every header field is validated
// before use, and errors name the file and the tensor.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kvb {

struct TensorInfo {
  std::string name, dtype;  // dtype as in the file: F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL
  std::vector<int64_t> shape;
};

// Torch type of a safetensors dtype name; throws kvb::Error for names we do not read.
at::ScalarType scalar_type_of(const std::string& st_dtype);
// Safetensors dtype name of a torch type; throws for types the format cannot hold here.
std::string st_dtype_of(at::ScalarType t);

class SafeTensors {
 public:
  // `path` is a .safetensors file or a folder holding model.safetensors or
  // model.safetensors.index.json (sharded; shards resolved relative to the folder).
  static SafeTensors open(const std::string& path);

  const std::vector<TensorInfo>& tensors() const;  // sorted by name, over all shards
  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // missing -> error naming path and tensor
  // A fresh tensor (never a view of the mapping) converted to `dtype`.
  at::Tensor get(const std::string& name, at::ScalarType dtype = at::kFloat) const;
  // Streams tensor `name` into `dst` (any dtype and device; shape as in the file, contiguous),
  // converting on the way, then drops the file pages it read from this process's memory: a
  // loader that reads each weight straight into its final (possibly fused) buffer peaks near the
  // weights at the target dtype plus one tensor, not the files plus the weights.
  void read_into(const std::string& name, at::Tensor dst) const;
  // "__metadata__" of the file (for a sharded folder: of all shards, first shard wins).
  const std::map<std::string, std::string>& metadata() const;
  const std::string& path() const;
  // The file holding `name` (the shard, for a sharded folder).
  const std::string& file_of(const std::string& name) const;

  struct Impl;

 private:
  explicit SafeTensors(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Writes tensors (any device/layout; stored contiguous on CPU) in the layout of the official
// writer: tensors ordered by decreasing dtype alignment then name, header padded with spaces to
// a multiple of 8. Written to a temporary file and renamed, so a crash never leaves half a file.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace kvb
