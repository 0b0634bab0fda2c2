// What switchyard-mock does with one request. The command line sets the defaults; x-mock-*
// request headers override them per request, so an integration test can script exactly the
// provider failure it wants (a 429 with retry-after, a stream that dies after two chunks, ...).
#pragma once

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mock {

struct ResponseScript {
  int status = 0;           // 0: answer normally; otherwise an OpenAI-shaped error with it
  std::string retry_after;  // sent as retry-after with a scripted status; empty: not sent
  int delay_ms = 0;         // before the response head
  int chunks = 3;           // content chunks of a stream; completion_tokens everywhere
  int chunk_delay_ms = 0;   // before each content chunk
  int drop_after = -1;      // content chunks sent before the connection is cut; -1: never
  bool malformed = false;
  int error_event_after = -1;  // content chunks sent before an error event; -1: never
  bool no_done = false;
  std::optional<std::string> content;  // nullopt: "Hello from <name>."
};

// Sets one directive, named as in the header without its "x-mock-" prefix ("delay-ms").
// The command line and the headers both go through here so they accept the same values.
// Returns an error message for an unknown directive or a bad value.
std::optional<std::string> apply_directive(ResponseScript& script, std::string_view directive,
                                           std::string_view value);

// Applies a request's x-mock-* headers on top of `script`, unless x-mock-target names another
// mock: one request fanned out by the gateway to several mocks then scripts only one of them.
// Returns an error message for a bad header; a typo should fail a test loudly, not be ignored.
std::optional<std::string> apply_request_headers(ResponseScript& script,
                                                 const boost::beast::http::fields& headers,
                                                 std::string_view mock_name);

}  // namespace switchyard::mock
