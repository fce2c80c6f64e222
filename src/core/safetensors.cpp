#include "core/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/json_parse.h"
#include "core/strings.h"

namespace kvb {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The official reader refuses larger headers; so do we, before allocating anything.
constexpr uint64_t kMaxHeader = 100'000'000;

struct DtypeDesc {
  const char* name;
  at::ScalarType type;
  int64_t size;
  int rank;  // the official writer's alignment order (larger = written first)
};

// rank follows safetensors' Dtype enum order, which the official writer sorts by.
const DtypeDesc kDtypes[] = {
    {"BOOL", at::kBool, 1, 0},  {"U8", at::kByte, 1, 1},    {"I8", at::kChar, 1, 2},
    {"I16", at::kShort, 2, 5},  {"F16", at::kHalf, 2, 7},   {"BF16", at::kBFloat16, 2, 8},
    {"I32", at::kInt, 4, 9},    {"F32", at::kFloat, 4, 11}, {"F64", at::kDouble, 8, 12},
    {"I64", at::kLong, 8, 13},
};

const DtypeDesc* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeDesc& desc_of(at::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d;
  KVB_FAIL("safetensors: cannot store torch dtype {}", c10::toString(t));
}

std::string supported_names() {
  std::string s;
  for (const auto& d : kDtypes) s += (s.empty() ? "" : " ") + std::string(d.name);
  return s;
}

std::string shape_str(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// A read-only mapping of one file, unmapped when the last SafeTensors copy goes.
struct MappedFile {
  std::string path;
  const uint8_t* data = nullptr;
  size_t size = 0;

  explicit MappedFile(std::string p) : path(std::move(p)) {
    int fd = ::open(path.c_str(), O_RDONLY);
    KVB_CHECK(fd >= 0, "{}: cannot open: {}", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      KVB_FAIL("{}: not a regular file", path);
    }
    size = static_cast<size_t>(st.st_size);
    if (size > 0) {
      void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      KVB_CHECK(m != MAP_FAILED, "{}: cannot map: {}", path, std::strerror(errno));
      data = static_cast<const uint8_t*>(m);
    } else {
      ::close(fd);
    }
  }
  ~MappedFile() {
    if (data) ::munmap(const_cast<uint8_t*>(data), size);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
};

struct Entry {
  TensorInfo info;
  const DtypeDesc* dtype = nullptr;
  std::shared_ptr<const MappedFile> file;
  uint64_t begin = 0, end = 0;  // absolute byte offsets within the file
};

uint64_t read_offset(const json& v, const std::string& where) {
  if (!v.is_number_unsigned()) KVB_FAIL("{}: data_offsets must be two non-negative integers, got {}", where, v.dump());
  return v.get<uint64_t>();
}

// Parses and validates one file's header; appends its tensors to `out`.
void parse_file(const std::shared_ptr<const MappedFile>& f, std::vector<Entry>& out,
                std::map<std::string, std::string>& metadata) {
  const std::string& path = f->path;
  KVB_CHECK(f->size >= 8, "{}: file is {} bytes, too short for the 8-byte header length (truncated?)", path, f->size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | f->data[i];  // little-endian on any host
  KVB_CHECK(n <= kMaxHeader, "{}: header length {} exceeds the {}-byte limit (not a safetensors file?)", path, n,
            kMaxHeader);
  KVB_CHECK(8 + n <= f->size, "{}: header length {} runs past the end of the file ({} bytes; truncated?)", path, n,
            f->size);
  const uint64_t data_begin = 8 + n, data_size = f->size - data_begin;

  json header;
  try {
    header = parse_json(std::string_view(reinterpret_cast<const char*>(f->data) + 8, n));
  } catch (const json::parse_error& e) {
    KVB_FAIL("{}: header is not valid JSON: {}", path, e.what());
  }
  KVB_CHECK(header.is_object(), "{}: header must be a JSON object, got {}", path, header.type_name());

  std::vector<Entry> mine;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      KVB_CHECK(v.is_object(), "{}: __metadata__ must be an object of strings", path);
      for (auto m = v.begin(); m != v.end(); ++m) {
        KVB_CHECK(m.value().is_string(), "{}: __metadata__ key '{}' must be a string, got {}", path, m.key(),
                  m.value().dump());
        metadata.emplace(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    const std::string where = fmt::format("{}: tensor '{}'", path, name);
    KVB_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"),
              "{}: entry must be an object with dtype, shape and data_offsets, got {}", where, v.dump());
    const json &jd = v["dtype"], &js = v["shape"], &jo = v["data_offsets"];
    KVB_CHECK(jd.is_string(), "{}: dtype must be a string, got {}", where, jd.dump());
    Entry e;
    e.info.name = name;
    e.info.dtype = jd.get<std::string>();
    e.dtype = find_dtype(e.info.dtype);
    KVB_CHECK(e.dtype, "{}: unknown dtype '{}' (supported: {})", where, e.info.dtype, supported_names());
    KVB_CHECK(js.is_array(), "{}: shape must be a list of non-negative integers, got {}", where, js.dump());
    unsigned __int128 bytes = static_cast<unsigned __int128>(e.dtype->size);
    for (const auto& d : js) {
      KVB_CHECK(d.is_number_unsigned(), "{}: shape must be a list of non-negative integers, got {}", where, js.dump());
      e.info.shape.push_back(d.get<int64_t>());
      bytes *= d.get<uint64_t>();
      KVB_CHECK(bytes <= f->size, "{}: shape {} is larger than the whole file", where, js.dump());
    }
    KVB_CHECK(jo.is_array() && jo.size() == 2, "{}: data_offsets must be [begin, end], got {}", where, jo.dump());
    uint64_t b = read_offset(jo[0], where), en = read_offset(jo[1], where);
    KVB_CHECK(b <= en, "{}: data_offsets [{}, {}] end before they begin", where, b, en);
    KVB_CHECK(bytes == en - b, "{}: shape {} x {} ({} bytes each) needs {} bytes, but data_offsets [{}, {}] hold {}",
              where, shape_str(e.info.shape), e.info.dtype, e.dtype->size, static_cast<uint64_t>(bytes), b, en, en - b);
    KVB_CHECK(en <= data_size,
              "{}: data_offsets [{}, {}] lie outside the data section ({} bytes; file truncated?)", where, b, en,
              data_size);
    e.file = f;
    e.begin = data_begin + b;
    e.end = data_begin + en;
    mine.push_back(std::move(e));
  }
  std::sort(mine.begin(), mine.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < mine.size(); ++i) {
    const Entry &p = mine[i - 1], &c = mine[i];
    // Zero-byte tensors occupy no bytes and so cannot overlap anything.
    if (c.begin < p.end && c.begin != c.end)
      KVB_FAIL("{}: tensor '{}' data_offsets [{}, {}] overlap tensor '{}' [{}, {}]", path, c.info.name,
               c.begin - data_begin, c.end - data_begin, p.info.name, p.begin - data_begin, p.end - data_begin);
  }
  for (auto& e : mine) out.push_back(std::move(e));
}

}  // namespace

at::ScalarType scalar_type_of(const std::string& st_dtype) {
  const DtypeDesc* d = find_dtype(st_dtype);
  KVB_CHECK(d, "unknown safetensors dtype '{}' (supported: {})", st_dtype, supported_names());
  return d->type;
}

std::string st_dtype_of(at::ScalarType t) { return desc_of(t).name; }

struct SafeTensors::Impl {
  std::string path;
  std::vector<TensorInfo> infos;  // sorted by name
  std::map<std::string, Entry> entries;
  std::map<std::string, std::string> metadata;
};

SafeTensors SafeTensors::open(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  std::vector<Entry> all;
  std::error_code ec;
  fs::path p(path), index;
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "model.safetensors.index.json"))
      index = p / "model.safetensors.index.json";
    else if (fs::exists(p / "model.safetensors"))
      p /= "model.safetensors";
    else
      KVB_FAIL("{}: folder holds neither model.safetensors nor model.safetensors.index.json", path);
  } else if (ends_with(p.string(), ".index.json")) {
    index = p;
  } else if (!fs::exists(p, ec)) {
    KVB_FAIL("{}: no such file or folder", path);
  }

  if (index.empty()) {
    parse_file(std::make_shared<MappedFile>(p.string()), all, impl->metadata);
  } else {
    json idx;
    std::ifstream in(index);
    KVB_CHECK(in, "{}: cannot open", index.string());
    try {
      idx = parse_json(in);
    } catch (const json::parse_error& e) {
      KVB_FAIL("{}: invalid JSON: {}", index.string(), e.what());
    }
    KVB_CHECK(idx.is_object() && idx.contains("weight_map") && idx["weight_map"].is_object(),
              "{}: missing 'weight_map' object", index.string());
    std::map<std::string, std::string> weight_map;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      KVB_CHECK(it.value().is_string(), "{}: weight_map['{}'] must be a file name", index.string(), it.key());
      weight_map[it.key()] = it.value().get<std::string>();
    }
    std::set<std::string> shards;
    for (const auto& kv : weight_map) shards.insert(kv.second);
    for (const auto& s : shards) parse_file(std::make_shared<MappedFile>((index.parent_path() / s).string()), all,
                                            impl->metadata);
    std::map<std::string, std::string> where;
    for (const auto& e : all) where.emplace(e.info.name, fs::path(e.file->path).filename().string());
    for (const auto& [name, shard] : weight_map) {
      auto it = where.find(name);
      KVB_CHECK(it != where.end() && it->second == shard, "{}: weight_map puts tensor '{}' in {}, which does not hold it",
                index.string(), name, shard);
    }
  }
  for (auto& e : all) {
    const std::string name = e.info.name, file = e.file->path;
    auto [it, fresh] = impl->entries.emplace(name, std::move(e));
    KVB_CHECK(fresh, "{}: tensor '{}' appears in both {} and {}", path, name, it->second.file->path, file);
  }
  for (const auto& kv : impl->entries) impl->infos.push_back(kv.second.info);
  return SafeTensors(std::move(impl));
}

const std::vector<TensorInfo>& SafeTensors::tensors() const { return impl_->infos; }
bool SafeTensors::has(const std::string& name) const { return impl_->entries.count(name) > 0; }
const std::map<std::string, std::string>& SafeTensors::metadata() const { return impl_->metadata; }
const std::string& SafeTensors::path() const { return impl_->path; }

static const Entry& entry_of(const SafeTensors::Impl& impl, const std::string& name) {
  auto it = impl.entries.find(name);
  KVB_CHECK(it != impl.entries.end(), "{}: no tensor '{}' (the file holds {} tensors)", impl.path, name,
            impl.entries.size());
  return it->second;
}

const TensorInfo& SafeTensors::info(const std::string& name) const { return entry_of(*impl_, name).info; }
const std::string& SafeTensors::file_of(const std::string& name) const { return entry_of(*impl_, name).file->path; }

at::Tensor SafeTensors::get(const std::string& name, at::ScalarType dtype) const {
  const Entry& e = entry_of(*impl_, name);
  const bool is_bool = e.dtype->type == at::kBool;
  // Bytes other than 0/1 are not valid torch bools: read BOOL as bytes and compare with 0.
  const at::ScalarType src = is_bool ? at::kByte : e.dtype->type;
  at::Tensor raw = at::empty(e.info.shape, at::TensorOptions().dtype(src));
  if (e.end > e.begin) {
    KVB_CHECK(raw.nbytes() == e.end - e.begin, "{}: tensor '{}': size mismatch", e.file->path, name);
    // A copy out of the mapping: the result outlives the file and is always aligned.
    std::memcpy(raw.data_ptr(), e.file->data + e.begin, e.end - e.begin);
  }
  if (is_bool) raw = raw.ne(0);
  return raw.scalar_type() == dtype ? raw : raw.to(dtype);
}

void SafeTensors::read_into(const std::string& name, at::Tensor dst) const {
  const Entry& e = entry_of(*impl_, name);
  KVB_CHECK(dst.sizes().vec() == e.info.shape && dst.is_contiguous(),
            "{}: tensor '{}' has shape {}, the destination {}", e.file->path, name, shape_str(e.info.shape),
            shape_str(dst.sizes().vec()));
  if (e.end == e.begin) return;
  const uint8_t* src = e.file->data + e.begin;
  const auto elem = static_cast<uintptr_t>(c10::elementSize(e.dtype->type));
  if (e.dtype->type != at::kBool && dst.device().is_cpu() && reinterpret_cast<uintptr_t>(src) % elem == 0) {
    // Converted straight out of the mapping: no intermediate copy.
    dst.copy_(at::from_blob(const_cast<uint8_t*>(src), e.info.shape, at::TensorOptions().dtype(e.dtype->type)));
  } else {
    dst.copy_(get(name, e.dtype->type == at::kBool ? at::kBool : e.dtype->type));
  }
  // The pages fully inside this tensor are not needed again.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(src) + page - 1) / page * page;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(e.file->data + e.end) / page * page;
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  struct Item {
    std::string name;
    const DtypeDesc* dtype;
    at::Tensor data;
  };
  std::vector<Item> items;
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    KVB_CHECK(!name.empty() && name != "__metadata__", "{}: invalid tensor name '{}'", path, name);
    KVB_CHECK(seen.insert(name).second, "{}: tensor '{}' given twice", path, name);
    KVB_CHECK(t.defined(), "{}: tensor '{}' is undefined", path, name);
    const DtypeDesc* d = find_dtype(st_dtype_of(t.scalar_type()));
    items.push_back({name, d, t.detach().to(at::kCPU).contiguous()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.dtype->rank != b.dtype->rank ? a.dtype->rank > b.dtype->rank : a.name < b.name;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& it : items) {
    const uint64_t n = it.data.nbytes();
    header[it.name] = {{"dtype", it.dtype->name}, {"shape", it.data.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps every tensor 8-byte aligned in the file

  const std::string tmp = fmt::format("{}.tmp{}", path, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  KVB_CHECK(f, "{}: cannot create: {}", tmp, std::strerror(errno));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bool ok = std::fwrite(len, 1, 8, f) == 8 && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& it : items) {
    if (!ok) break;
    at::Tensor bytes = it.dtype->type == at::kBool ? it.data.to(at::kByte) : it.data;
    const size_t n = bytes.nbytes();
    ok = n == 0 || std::fwrite(bytes.data_ptr(), 1, n, f) == n;
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    KVB_FAIL("{}: write failed: {}", path, std::strerror(errno));
  }
}

}  // namespace kvb
