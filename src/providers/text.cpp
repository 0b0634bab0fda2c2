#include "text.hpp"

namespace switchyard::providers {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has_scheme(std::string_view url, std::string_view scheme) {
  return url.size() > scheme.size() && url[scheme.size()] == ':' &&
         ascii_lower(url.substr(0, scheme.size())) == scheme;
}

std::optional<DataUrl> read_data_url(std::string_view url) {
  if (!has_scheme(url, "data")) return std::nullopt;
  url.remove_prefix(5);
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const std::string meta = ascii_lower(url.substr(0, comma));
  if (!meta.ends_with(";base64")) return std::nullopt;
  DataUrl parsed{meta.substr(0, meta.find(';')), url.substr(comma + 1)};
  if (parsed.media_type.empty()) return std::nullopt;
  return parsed;
}

std::string indexed(std::string_view param, std::size_t i) {
  return std::string(param) + "[" + std::to_string(i) + "]";
}

std::string dotted(std::string_view param, std::string_view member) {
  return std::string(param) + "." + std::string(member);
}

}  // namespace switchyard::providers
