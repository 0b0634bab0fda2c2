// Routes one parsed request of switchyard-mock. Two planes:
//   - scripted endpoints (everything outside /_mock/): counted in /_mock/stats, logged in
//     /_mock/requests, answered in the wire format their path belongs to (wire_format.hpp:
//     OpenAI chat completions, embeddings and models; Anthropic messages; Gemini
//     generateContent, streamGenerateContent and embeddings), guarded by --api-key, and shaped
//     by the request's ResponseScript;
//   - control endpoints (/_mock/stats, /_mock/requests, /_mock/reset, /_mock/defaults): never
//     counted or logged, so reading the statistics does not change them.
#pragma once

#include "exchange.hpp"
#include "mock_defaults.hpp"
#include "mock_server.hpp"
#include "mock_stats.hpp"
#include "response_channel.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace switchyard::mock {

class MockEndpoints {
 public:
  MockEndpoints(const MockConfig& config, MockStats& stats, MockDefaults& defaults)
      : config_(config), stats_(stats), defaults_(defaults) {}

  boost::asio::awaitable<ConnectionFate> handle(const Request& request,
                                                ResponseChannel& channel) const;

  // The body answering bytes that are not an HTTP request (or one over the size limits).
  std::string malformed_http_body(std::string_view reason) const;

 private:
  boost::asio::awaitable<ConnectionFate> handle_scripted(const Request& request,
                                                         std::string_view path,
                                                         std::string_view query,
                                                         ResponseChannel& channel) const;
  boost::asio::awaitable<ConnectionFate> handle_control(const Request& request,
                                                        std::string_view path,
                                                        std::string_view query,
                                                        ResponseChannel& channel) const;
  std::string error_message(std::string_view what) const;

  const MockConfig& config_;
  MockStats& stats_;
  MockDefaults& defaults_;
};

}  // namespace switchyard::mock
