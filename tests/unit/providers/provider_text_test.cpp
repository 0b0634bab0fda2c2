// The data URLs and URL schemes every adapter reads from OpenAI content parts.
#include <gtest/gtest.h>

#include "providers/text.hpp"

namespace switchyard::providers {
namespace {

TEST(DataUrl, ReadsTheMediaTypeAndBase64DataWhateverTheCase) {
  const auto url = read_data_url("DATA:Image/PNG;charset=x;BASE64,iVBORw0KGgo=");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->media_type, "image/png");
  EXPECT_EQ(url->data, "iVBORw0KGgo=");
}

TEST(DataUrl, RefusesWhatIsNotABase64DataUrlWithAMediaType) {
  for (const char* text : {"https://x/y.png", "data:image/png,plain", "data:;base64,AAAA",
                           "data:image/png;base64", "dat:image/png;base64,AA", ""}) {
    EXPECT_FALSE(read_data_url(text)) << text;
  }
}

TEST(UrlScheme, MatchesTheSchemeCaseInsensitivelyAndOnlyBeforeTheColon) {
  EXPECT_TRUE(has_scheme("HTTPS://example.com", "https"));
  EXPECT_TRUE(has_scheme("gs://bucket/file", "gs"));
  EXPECT_FALSE(has_scheme("https://example.com", "http"));
  EXPECT_FALSE(has_scheme("http", "http"));
}

}  // namespace
}  // namespace switchyard::providers
