// The client's HTTP request as the server hands it on: its head as read (method, target, version,
// fields by name; http1::Head) and its body. The server keeps one per connection and refills it
// for each request, so a request's head and body cost no allocation once the connection has
// carried one as large.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/http1/parser.hpp"

namespace switchyard::request {

class HttpRequest : public http1::Head {
 public:
  HttpRequest() = default;
  // A request the gateway makes of itself, or a test makes: `head` is its request line and field
  // lines as a client would send them (each ending in CRLF, without the empty line), read the
  // way a client's are. Throws std::invalid_argument when they do not parse.
  HttpRequest(std::string_view head, std::string body);

  const std::string& body() const { return body_; }
  std::string& body() { return body_; }

  // Frees the head's and the body's memory where it is more than `bytes`.
  void release_beyond(std::size_t bytes) {
    http1::Head::release_beyond(bytes);
    if (body_.capacity() > bytes) body_ = std::string();
  }

 private:
  std::string body_;
};

}  // namespace switchyard::request
