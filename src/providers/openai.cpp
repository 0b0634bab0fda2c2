#include "switchyard/providers/openai.hpp"

#include <array>
#include <charconv>

namespace switchyard::providers::openai {

ErrorClass classify_status(int status) {
  if (status == 408 || status == 409 || status == 429 || status >= 500)
    return ErrorClass::retryable;
  if (status == 401 || status == 402 || status == 403 || status == 404)
    return ErrorClass::fall_over;
  return ErrorClass::final;
}

RequestEncoder::RequestEncoder(const config::Provider& provider) {
  prefix_ = "POST " + provider.base_url.path +
            "/chat/completions HTTP/1.1\r\nHost: " + provider.base_url.authority +
            "\r\nContent-Type: application/json\r\nUser-Agent: switchyard/" SWITCHYARD_VERSION
            "\r\n";
  if (!provider.api_key.empty()) prefix_ += "Authorization: Bearer " + provider.api_key + "\r\n";
}

void RequestEncoder::chat_head(std::string& out, std::size_t content_length,
                               std::string_view request_id, bool stream,
                               std::string_view forwarded) const {
  out.assign(prefix_);
  out += stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n";
  out += "Content-Length: ";
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, content_length);
  out.append(digits, end);
  out += "\r\nx-request-id: ";
  out += request_id;
  out += "\r\n";
  out += forwarded;
  out += "\r\n";
}

bool forwards_header(const config::Provider& provider, std::string_view name) {
  // Credentials belong to the gateway's hop, framing and encoding to each hop itself
  // (connection-specific fields: RFC 9110 §7.6.1; Trailer announces chunked trailers, and the
  // upstream request is sent with a Content-Length).
  static constexpr std::array<std::string_view, 20> kNever = {"authorization",
                                                              "proxy-authorization",
                                                              "api-key",
                                                              "x-api-key",
                                                              "x-goog-api-key",
                                                              "cookie",
                                                              "host",
                                                              "content-length",
                                                              "content-type",
                                                              "transfer-encoding",
                                                              "connection",
                                                              "proxy-connection",
                                                              "keep-alive",
                                                              "upgrade",
                                                              "te",
                                                              "trailer",
                                                              "expect",
                                                              "accept-encoding",
                                                              "accept",
                                                              "x-request-id"};
  for (const auto n : kNever)
    if (name == n) return false;
  for (const auto& pattern : provider.forward_headers) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (name.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1))) return true;
    } else if (name == pattern) {
      return true;
    }
  }
  return false;
}

}  // namespace switchyard::providers::openai
