#include "request_head.hpp"

#include <charconv>

namespace switchyard::providers {

RequestHead::RequestHead(const config::Provider& provider, std::string fixed)
    : base_path_(provider.base_url.path) {
  fixed_ = " HTTP/1.1\r\nHost: " + provider.base_url.authority +
           "\r\nContent-Type: application/json\r\nUser-Agent: switchyard/" SWITCHYARD_VERSION
           "\r\n" +
           std::move(fixed);
}

void RequestHead::write(std::string& out, std::string_view path, std::size_t content_length,
                        const Call& call) const {
  out.assign("POST ");
  out += base_path_;
  out += path;
  out += fixed_;
  out += call.stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n";
  out += "Content-Length: ";
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, content_length);
  out.append(digits, end);
  out += "\r\nx-request-id: ";
  out += call.request_id;
  out += "\r\n";
  out += call.forwarded;
  out += "\r\n";
}

void RequestHead::write_get(std::string& out, std::string_view path) const {
  out.assign("GET ");
  out += base_path_;
  out += path;
  out += fixed_;
  out += "Accept: application/json\r\n\r\n";
}

void append_url_encoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

}  // namespace switchyard::providers
