// Safetensors reader/writer. The writer is checked byte-for-byte against the official crate's
// own test vectors (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization and
// test_empty); bad files are built by hand, one per failure mode.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/safetensors.h"

namespace fs = std::filesystem;

namespace {

class SafeTensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("kvb_st_{}_{}", ::getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A raw file: 8-byte little-endian header length, header text, then `data`.
  std::string raw(const std::string& name, const std::string& header, const std::string& data,
                  int64_t declared_len = -1) {
    std::string path = file(name);
    std::ofstream out(path, std::ios::binary);
    uint64_t n = declared_len < 0 ? header.size() : static_cast<uint64_t>(declared_len);
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << data;
    return path;
  }

  // Opening `path` (and reading every tensor) fails with a message holding each of `parts`.
  static void expect_error(const std::string& path, const std::vector<std::string>& parts) {
    try {
      auto st = kvb::SafeTensors::open(path);
      for (const auto& t : st.tensors()) st.get(t.name);
      FAIL() << "no error for " << path;
    } catch (const kvb::Error& e) {
      for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "missing '" << p
                                                                                              << "' in: " << e.what();
    }
  }

  fs::path dir_;
};

std::string bytes_of(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

}  // namespace

TEST_F(SafeTensorsTest, WriterMatchesOfficialVectors) {
  // safetensors test_serialization: {"attn.0": F32 [1,2,3] = 0..5}
  auto path = file("a.safetensors");
  kvb::write_safetensors(path, {{"attn.0", at::arange(6, at::kFloat).reshape({1, 2, 3})}});
  std::string expected = bytes_of(
      {64,  0,   0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 46,  48,  34,  58,  123, 34,  100,
       116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,  44,  34,  115, 104, 97,  112, 101, 34,  58,  91,
       49,  44,  50,  44,  51,  93,  44,  34,  100, 97,  116, 97,  95,  111, 102, 102, 115, 101, 116, 115, 34,
       58,  91,  48,  44,  50,  52,  93,  125, 125, 0,   0,   0,   0,   0,   0,   128, 63,  0,   0,   0,   64,
       0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64});
  EXPECT_EQ(read_bytes(path), expected);
  auto st = kvb::SafeTensors::open(path);
  EXPECT_TRUE(at::equal(st.get("attn.0"), at::arange(6, at::kFloat).reshape({1, 2, 3})));

  // test_empty, without and with metadata (header padded with spaces to a multiple of 8)
  kvb::write_safetensors(path, {});
  EXPECT_EQ(read_bytes(path), bytes_of({8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32}));
  kvb::write_safetensors(path, {}, {{"framework", "pt"}});
  EXPECT_EQ(read_bytes(path),
            bytes_of({40, 0,   0,   0,   0,   0,   0,   0,  123, 34,  95, 95, 109, 101, 116, 97,
                      100, 97, 116, 97,  95,  95,  34,  58, 123, 34,  102, 114, 97, 109, 101, 119,
                      111, 114, 107, 34, 58,  34,  112, 116, 34,  125, 125, 32, 32,  32,  32,  32}));
  EXPECT_EQ(kvb::SafeTensors::open(path).metadata().at("framework"), "pt");
}

TEST_F(SafeTensorsTest, RoundTripAllDtypes) {
  at::manual_seed(7);
  std::vector<std::pair<std::string, at::Tensor>> in = {
      {"f32", at::randn({37, 5})},
      {"f16", at::randn({3, 7, 5}).to(at::kHalf)},
      {"bf16", at::randn({501}).to(at::kBFloat16)},
      {"i64", at::randint(-1000000, 1000000, {11, 3}, at::kLong)},
      {"i32", at::randint(-5000, 5000, {13}, at::kInt)},
      {"u8", at::randint(0, 256, {2, 9}, at::kByte)},
      {"bool", at::randint(0, 2, {17}, at::kLong).to(at::kBool)},
      {"scalar", at::scalar_tensor(2.5)},
      {"empty", at::empty({0, 4})},
      {"strided", at::randn({6, 4}).t()},  // non-contiguous input
  };
  auto path = file("rt.safetensors");
  kvb::write_safetensors(path, in, {{"format", "pt"}, {"note", "odd sizes"}});
  auto st = kvb::SafeTensors::open(path);
  ASSERT_EQ(st.tensors().size(), in.size());
  for (size_t i = 1; i < st.tensors().size(); ++i) EXPECT_LT(st.tensors()[i - 1].name, st.tensors()[i].name);
  for (const auto& [name, t] : in) {
    const auto& info = st.info(name);
    EXPECT_EQ(info.shape, t.sizes().vec()) << name;
    EXPECT_EQ(info.dtype, kvb::st_dtype_of(t.scalar_type())) << name;
    at::Tensor same = st.get(name, t.scalar_type());
    EXPECT_EQ(same.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(at::equal(same, t)) << name;
    EXPECT_TRUE(at::equal(st.get(name), t.to(at::kFloat))) << name;  // default: converted to float
  }
  EXPECT_EQ(st.metadata().at("note"), "odd sizes");
  // Each tensor's data starts 8-byte aligned in the file, as the official writer guarantees.
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
}

TEST_F(SafeTensorsTest, BoolBytesOtherThanOneAreTrue) {
  auto path = raw("b.safetensors", R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", bytes_of({0, 1, 7}));
  at::Tensor m = kvb::SafeTensors::open(path).get("m", at::kBool);
  EXPECT_EQ(m.scalar_type(), at::kBool);
  EXPECT_FALSE(m[0].item<bool>());
  EXPECT_TRUE(m[1].item<bool>());
  EXPECT_TRUE(m[2].item<bool>());
}

TEST_F(SafeTensorsTest, MissingTensorNamesFileAndTensor) {
  auto path = file("m.safetensors");
  kvb::write_safetensors(path, {{"a", at::ones({2})}});
  auto st = kvb::SafeTensors::open(path);
  EXPECT_FALSE(st.has("nope"));
  try {
    st.info("nope");
    FAIL() << "no error";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(st.get("nope"), kvb::Error);
}

TEST_F(SafeTensorsTest, TruncatedFile) {
  auto path = file("t.safetensors");
  kvb::write_safetensors(path, {{"w", at::ones({37})}});
  fs::resize_file(path, fs::file_size(path) - 5);
  expect_error(path, {path, "'w'", "truncated"});
  fs::resize_file(path, 5);  // not even the header length
  expect_error(path, {path, "truncated"});
}

TEST_F(SafeTensorsTest, HeaderLengthPastEnd) {
  auto path = raw("h.safetensors", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd", 4096);
  expect_error(path, {path, "header length 4096", "past the end"});
}

TEST_F(SafeTensorsTest, BadJsonHeader) {
  auto path = raw("j.safetensors", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", "abcd");
  expect_error(path, {path, "not valid JSON"});
  path = raw("j2.safetensors", R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "abcd");
  expect_error(path, {path, "'w'", "shape"});
}

TEST_F(SafeTensorsTest, OffsetsOutOfRange) {
  auto path = raw("o.safetensors", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", "12345678");
  expect_error(path, {path, "'w'", "[4, 12]", "outside the data section (8 bytes"});
}

TEST_F(SafeTensorsTest, OverlappingOffsets) {
  auto path = raw("v.safetensors",
                  R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  std::string(12, 'x'));
  expect_error(path, {path, "'b'", "overlap tensor 'a'"});
}

TEST_F(SafeTensorsTest, ShapeTimesDtypeMismatch) {
  auto path = raw("s.safetensors", R"({"w":{"dtype":"BF16","shape":[3,5],"data_offsets":[0,28]}})",
                  std::string(28, 'x'));
  expect_error(path, {path, "'w'", "[3, 5] x BF16", "needs 30 bytes", "hold 28"});
}

TEST_F(SafeTensorsTest, UnknownDtype) {
  auto path = raw("d.safetensors", R"({"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}})", "xx");
  expect_error(path, {path, "'w'", "unknown dtype 'Q4_K'"});
}

TEST_F(SafeTensorsTest, ShardedFolder) {
  at::manual_seed(3);
  at::Tensor a = at::randn({5, 3}), b = at::randn({7}).to(at::kHalf), c = at::arange(11, at::kLong);
  auto folder = dir_ / "model";
  fs::create_directories(folder);
  kvb::write_safetensors((folder / "model-00001-of-00002.safetensors").string(), {{"x.a", a}, {"x.c", c}},
                         {{"format", "pt"}});
  kvb::write_safetensors((folder / "model-00002-of-00002.safetensors").string(), {{"y.b", b}});
  std::ofstream(folder / "model.safetensors.index.json")
      << R"({"metadata":{"total_size":0},"weight_map":{"x.a":"model-00001-of-00002.safetensors",)"
      << R"("x.c":"model-00001-of-00002.safetensors","y.b":"model-00002-of-00002.safetensors"}})";
  auto st = kvb::SafeTensors::open(folder.string());
  ASSERT_EQ(st.tensors().size(), 3u);
  EXPECT_EQ(st.tensors()[2].name, "y.b");
  EXPECT_EQ(st.tensors()[2].dtype, "F16");
  EXPECT_TRUE(at::equal(st.get("x.a"), a));
  EXPECT_TRUE(at::equal(st.get("y.b", at::kHalf), b));
  EXPECT_TRUE(at::equal(st.get("x.c", at::kLong), c));
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_NE(st.file_of("y.b").find("00002-of"), std::string::npos);

  auto copy = st;  // copies share the mapping and outlive the original
  st = kvb::SafeTensors::open((folder / "model-00002-of-00002.safetensors").string());
  EXPECT_TRUE(at::equal(copy.get("x.a"), a));

  // An index that points a tensor at the wrong shard is an error naming the index and tensor.
  std::ofstream(folder / "model.safetensors.index.json")
      << R"({"weight_map":{"x.a":"model-00002-of-00002.safetensors"}})";
  expect_error(folder.string(), {"model.safetensors.index.json", "'x.a'", "model-00002-of-00002"});
  fs::remove(folder / "model.safetensors.index.json");
  expect_error(folder.string(), {folder.string(), "neither model.safetensors"});
  kvb::write_safetensors((folder / "model.safetensors").string(), {{"single", a}});
  EXPECT_TRUE(kvb::SafeTensors::open(folder.string()).has("single"));
}

namespace {

// Streaming reads convert on the way and fill slices of fused buffers; the values equal get()'s,
// also after the pages were dropped and read again.
TEST_F(SafeTensorsTest, ReadIntoConvertsAndFillsFusedSlices) {
  at::manual_seed(37);
  const at::Tensor a = at::randn({37, 5}), b = at::randn({11, 5}).to(at::kBFloat16), m = at::randint(0, 2, {7}).to(at::kBool);
  kvb::write_safetensors(file("w.safetensors"), {{"a", a}, {"b", b}, {"m", m}});
  const auto st = kvb::SafeTensors::open(file("w.safetensors"));
  at::Tensor fused = at::empty({48, 5}, at::kBFloat16);
  st.read_into("a", fused.narrow(0, 0, 37));
  st.read_into("b", fused.narrow(0, 37, 11));
  EXPECT_TRUE(fused.narrow(0, 0, 37).equal(a.to(at::kBFloat16)));
  EXPECT_TRUE(fused.narrow(0, 37, 11).equal(b));
  at::Tensor f32 = at::empty({37, 5});
  st.read_into("a", f32);  // the same pages again, after they were dropped
  EXPECT_TRUE(f32.equal(a));
  EXPECT_TRUE(st.get("a").equal(a));
  at::Tensor mask = at::empty({7}, at::kBool);
  st.read_into("m", mask);
  EXPECT_TRUE(mask.equal(m));
  at::Tensor wrong = at::empty({36, 5});
  try {
    st.read_into("a", wrong);
    FAIL() << "no error for a destination of another shape";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'a' has shape [37, 5]"), std::string::npos) << e.what();
  }
}

}  // namespace
