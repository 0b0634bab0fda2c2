#include "wire_format.hpp"

#include <algorithm>
#include <charconv>

namespace switchyard::mock {
namespace {

constexpr std::string_view kModelsSegment = "/models/";

std::string percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      decoded.push_back(' ');
      continue;
    }
    unsigned value = 0;
    if (text[i] == '%' && i + 2 < text.size()) {
      const char* begin = text.data() + i + 1;
      auto [end, ec] = std::from_chars(begin, begin + 2, value, 16);
      if (ec == std::errc{} && end == begin + 2) {
        decoded.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    decoded.push_back(text[i]);
  }
  return decoded;
}

}  // namespace

WireFormat wire_format_of(std::string_view path) {
  if (path.ends_with("/v1/messages") || path.ends_with("/v1/messages/count_tokens"))
    return WireFormat::anthropic;
  if (gemini_target(path)) return WireFormat::gemini;
  return WireFormat::openai;
}

std::optional<GeminiTarget> gemini_target(std::string_view path) {
  const std::size_t models = path.rfind(kModelsSegment);
  if (models == std::string_view::npos) return std::nullopt;
  std::string_view last = path.substr(models + kModelsSegment.size());
  const std::size_t colon = last.find(':');
  // OpenAI's retrieve-model paths are not Gemini's: "/v1/models/gpt-4o" has no method, and a
  // fine-tuned model id ("ft:gpt-4o:org::id") has more than one colon.
  if (colon == std::string_view::npos || colon == 0 || last.rfind(':') != colon ||
      last.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return GeminiTarget{std::string(last.substr(0, colon)), std::string(last.substr(colon + 1))};
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return percent_decode(pair.substr(name.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace switchyard::mock
