// Small text helpers the adapters share: ASCII case folding, URL schemes, `data:` URLs (the form
// OpenAI clients inline images, audio and files in) and the paths of params in error messages.
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

// A param's path as error messages name it: indexed("messages", 2) is "messages[2]",
// dotted("tools[0]", "type") is "tools[0].type".
std::string indexed(std::string_view param, std::size_t i);
std::string dotted(std::string_view param, std::string_view member);

}  // namespace switchyard::providers
