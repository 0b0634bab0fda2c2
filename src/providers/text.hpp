// Small text helpers the adapters share: ASCII case folding, URL schemes and `data:` URLs (the
// form OpenAI clients inline images, audio and files in).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::providers {

std::string ascii_lower(std::string_view text);
// `url` starts with `scheme` followed by ':', whatever the case ("HTTPS://…" is https).
bool has_scheme(std::string_view url, std::string_view scheme);

// "data:<media type>[;…];base64,<data>".
struct DataUrl {
  std::string media_type;  // lower case, parameters dropped
  std::string_view data;   // the base64 text, a view into the URL
};
// nullopt unless `url` is a base64 data URL naming a media type.
std::optional<DataUrl> read_data_url(std::string_view url);

}  // namespace switchyard::providers
