// switchyard-mock: an OpenAI-compatible provider for the integration tests. It answers chat
// completions (JSON or SSE), lists models, and fails on demand as scripted by x-mock-* headers
// (see response_script.hpp); /_mock/* lets a test read what it saw. Not for production: one
// mutex for its statistics, no limits beyond keeping a bad client from crashing it.
#pragma once

#include "response_script.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>

namespace switchyard::mock {

struct MockConfig {
  boost::asio::ip::address address;
  unsigned short port = 0;  // 0: an ephemeral port, reported on stdout and in port_file
  std::string name = "mock";
  std::string port_file;  // empty: none
  std::string tls_cert;   // both empty: plain HTTP
  std::string tls_key;
  int threads = 1;
  ResponseScript defaults;  // overridden per request by x-mock-* headers
};

// Serves until SIGINT or SIGTERM. Returns the process exit code: 0 after a signal, 1 when it
// cannot start (address in use, unreadable certificate, ...), with the reason on stderr.
int run_mock_server(const MockConfig& config);

}  // namespace switchyard::mock
