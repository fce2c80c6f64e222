// `kvbench generate --messages FILE.json` (HF chat format, text and images interleaved) as a user
// runs it: on the tiny checkpoint the HF goldens were made from, the greedy ids equal HF
// transformers' for the same interleaved two-image prompt; bad files get one clear error.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "e2e/run_kvbench.h"
#include "e2e/scratch_dir.h"
#include "engine/hf_messages.h"
#include "unit/error_text.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path& scratch() {
  static const kvb::test::ScratchDir s("kvb_e2e_messages_");
  return s.path;
}

kvb::test::KvbenchRun kvbench(const std::string& args) { return kvb::test::run_kvbench("-q " + args); }

const std::string kMedia = std::string(KVB_TEST_DATA) + "/parity/qwen/goldens/media";

fs::path write(const std::string& name, const json& j) {
  const fs::path p = scratch() / name;
  std::ofstream(p) << j.dump(1);
  return p;
}

TEST(CliGenerateMessages, InterleavedImagesMatchHfGreedyIds) {
  const json golden = kvb::read_json_file(std::string(KVB_TEST_DATA) + "/parity/qwen/goldens/goldens.json");
  const fs::path model = scratch() / "tiny";
  const kvb::test::KvbenchRun made = kvbench("make-tiny-model --seed " + golden["checkpoint"]["seed"].dump() + " --out " + model.string());
  ASSERT_EQ(made.code, 0) << made.out;
  // One image by a file:// URL, one by a path relative to the messages file.
  fs::copy_file(kMedia + "/img_121x45.bmp", scratch() / "second.bmp", fs::copy_options::overwrite_existing);
  const fs::path msgs = write("two_images.json", json::array({{{"role", "user"}, {"content", {
      {{"type", "text"}, {"text", "Compare the first picture"}},
      {{"type", "image"}, {"image", "file://" + kMedia + "/img_59x83.bmp"}},
      {{"type", "text"}, {"text", "with the second"}},
      {{"type", "image"}, {"image", "second.bmp"}},
      {{"type", "text"}, {"text", "and say which is brighter."}}}}}}));
  const kvb::test::KvbenchRun r = kvbench("generate --model " + model.string() + " --messages " + msgs.string() + " --max-new-tokens 16 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const json got = json::parse(r.out);
  EXPECT_EQ(got["ids"], golden["cases"]["two_images"]["greedy"]["float32"]["tokens"]) << r.out;
  EXPECT_EQ(got["prompt_tokens"], golden["cases"]["two_images"]["tokens"]);
}

TEST(CliGenerateMessages, ClearErrors) {
  const fs::path ok = write("ok.json", json::array({{{"role", "user"}, {"content", "hi"}}}));
  kvb::test::KvbenchRun r = kvbench("generate --model /nonexistent --messages " + ok.string() + " --prompt hi");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("excludes"), std::string::npos) << r.out;
  r = kvbench("generate --model /nonexistent");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--messages"), std::string::npos) << r.out;
  // A missing picture is named, element and file, before the model loads (here: there is none).
  const fs::path gone = write("gone.json", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image"}, {"image", "nowhere.png"}}})}}}));
  r = kvbench("generate --model /nonexistent --messages " + gone.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("gone.json[0].content[0].image: " + (gone.parent_path() / "nowhere.png").string() + ": no such image file"),
            std::string::npos) << r.out;
  r = kvbench("generate --model /nonexistent --prompt hi --video nowhere.mp4");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("nowhere.mp4: no such video file"), std::string::npos) << r.out;
}

TEST(HfMessages, ParsesInterleavedContentAndRejectsBadFields) {
  const json j = json::parse(R"([{"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "A"}, {"type": "image", "image": "x/a.png", "max_pixels": 401408},
                                 {"type": "video", "video": "/abs/frames", "fps": 1.0}, {"text": "B"}]}])");
  const auto m = kvb::messages_from_json(j, "/data", "m.json");
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(m[1].content.size(), 4u);
  EXPECT_EQ(m[1].content[1].media.path, "/data/x/a.png");
  EXPECT_EQ(m[1].content[1].media.max_pixels, 401408);
  EXPECT_EQ(m[1].content[2].kind, kvb::Segment::Kind::Video);
  EXPECT_EQ(m[1].content[2].media.path, "/abs/frames");
  EXPECT_DOUBLE_EQ(m[1].content[2].media.fps, 1.0);
  EXPECT_EQ(m[1].content[3].text, "B");
  auto err = [](const char* s) { return kvb::test::error_text([&] { kvb::messages_from_json(json::parse(s), "/d", "m.json"); }); };
  EXPECT_NE(err(R"([{"role": "user", "content": [{"type": "image", "image": "a.png", "colour": 1}]}])").find("m.json[0].content[0]: unknown key 'colour'"), std::string::npos);
  EXPECT_NE(err(R"([{"role": "robot", "content": "x"}])").find("field 'role'"), std::string::npos);
  EXPECT_NE(err(R"([{"role": "user", "content": [{"type": "video", "video": ["a.png", "b.png"]}]}])").find("folder"), std::string::npos);
  EXPECT_NE(err(R"([{"role": "user", "content": [{"type": "image", "image": "https://x/y.png"}]}])").find("not a local file"), std::string::npos);
  EXPECT_NE(err(R"([{"role": "user", "content": [{"type": "audio"}]}])").find("field 'type'"), std::string::npos);
  EXPECT_NE(err(R"({"role": "user"})").find("non-empty JSON array"), std::string::npos);
}

}  // namespace
