// switchyard-mock: a fake LLM provider for the integration tests, speaking the three wire
// formats of docs/providers.md, each told apart by its path (wire_format.hpp):
//   OpenAI     .../chat/completions (JSON or SSE), .../embeddings, GET .../v1/models
//   Anthropic  .../v1/messages (JSON or SSE)
//   Gemini     .../models/{m}:generateContent, :streamGenerateContent (?alt=sse or a JSON
//              array), :batchEmbedContents, :embedContent
// Each answers text, tool calls or the echo of a tool result the same way (conversation.hpp),
// checks the API key each provider expects (--api-key, api_key.hpp), and fails on demand as
// scripted by x-mock-* headers (response_script.hpp); /_mock/* lets a test read what it saw.
// Not for production: one mutex for its statistics, no limits beyond keeping a bad client from
// crashing it.
#pragma once

#include "response_script.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>
#include <vector>

namespace switchyard::mock {

struct MockConfig {
  boost::asio::ip::address address;
  unsigned short port = 0;  // 0: an ephemeral port, reported on stdout and in port_file
  std::string name = "mock";
  std::string port_file;  // empty: none
  std::string tls_cert;   // both empty: plain HTTP
  std::string tls_key;
  int threads = 1;
  // Empty: no key required; else each format must carry one of them its own way.
  std::vector<std::string> api_keys;
  // The command line's; changed at run time by POST /_mock/defaults (mock_defaults.hpp) and
  // overridden per request by x-mock-* headers.
  ResponseScript defaults;
};

// Serves until SIGINT or SIGTERM. Returns the process exit code: 0 after a signal, 1 when it
// cannot start (address in use, unreadable certificate, ...), with the reason on stderr.
int run_mock_server(const MockConfig& config);

}  // namespace switchyard::mock
