// The head of every upstream request: request line, Host, content type, user agent, the
// provider's credentials and fixed headers (built once per provider), then what changes per
// call — Accept, Content-Length, x-request-id and the client headers passed on.
#pragma once

#include <string>
#include <string_view>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {

class RequestHead {
 public:
  // `fixed` holds complete "name: value\r\n" lines: credentials, API version headers.
  RequestHead(const config::Provider& provider, std::string fixed);

  // Writes "POST <base path><path> HTTP/1.1\r\n…\r\n\r\n" to `out`, replacing its contents.
  // `path` includes any query string.
  void write(std::string& out, std::string_view path, std::size_t content_length,
             const Call& call) const;
  // "GET <base path><path>" with the same fixed headers and no body (health-check probes).
  void write_get(std::string& out, std::string_view path) const;

 private:
  std::string base_path_;
  std::string fixed_;  // Host through the credentials
};

// Appends `text` percent-encoded for a URL path segment or query value (RFC 3986 unreserved
// characters pass as they are): model and deployment names go into upstream paths.
void append_url_encoded(std::string& out, std::string_view text);

}  // namespace switchyard::providers
