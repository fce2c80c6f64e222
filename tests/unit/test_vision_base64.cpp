#include <gtest/gtest.h>

#include "core/error.h"
#include "vision/base64.h"

TEST(VisionBase64, Rfc4648TestVectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"}};
  for (const auto& [enc, dec] : vectors) EXPECT_EQ(kvb::base64_decode(enc, "v"), dec) << enc;
  EXPECT_EQ(kvb::base64_decode("Zm9v\nYmFy\r\n", "v"), "foobar");  // line-wrapped
  EXPECT_EQ(kvb::base64_decode("Zm8", "v"), "fo");                  // unpadded
  std::string bin = kvb::base64_decode("/+8A", "v");                // 0xFF 0xEF 0x00
  ASSERT_EQ(bin.size(), 3u);
  EXPECT_EQ(static_cast<unsigned char>(bin[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(bin[1]), 0xEF);
  EXPECT_EQ(bin[2], '\0');
}

TEST(VisionBase64, BadInputNamesLabel) {
  for (const char* bad : {"Zm9v!mFy", "Zm9vY", "Zg==Zg==", "Zg==="}) {
    try {
      kvb::base64_decode(bad, "hr_bench_8k.tsv row 5");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const kvb::Error& e) {
      EXPECT_NE(std::string(e.what()).find("hr_bench_8k.tsv row 5"), std::string::npos) << e.what();
    }
  }
}
