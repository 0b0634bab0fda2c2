// A stand-in OpenTelemetry collector for tests: an HTTP/1.1 server (keep-alive) on 127.0.0.1 and
// a free port, on its own thread, that records every request and answers with a status the test
// chooses — or holds its answers back until released, to play a slow collector. Plus the reading
// of OTLP/JSON export bodies into a flat list of spans.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace switchyard::testing {

struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  // The header's value, or "" when absent; `name` in lower case.
  std::string header(const std::string& name) const;
};

class OtlpReceiver {
 public:
  OtlpReceiver();
  // Stops the server and joins its thread; requests being held are abandoned.
  ~OtlpReceiver();
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  int port() const;
  std::string endpoint() const;  // "http://127.0.0.1:<port>/v1/traces"

  // Every request so far, in arrival order.
  std::vector<Received> received() const;
  // Waits until `condition` holds for the requests so far (checked on each arrival).
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // The status of every later response (200 at first), with an empty JSON object as the body.
  void respond_with(int status);
  // Requests are still recorded, but answered only after release_responses().
  void hold_responses();
  void release_responses();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The spans of OTLP/JSON ExportTraceServiceRequest bodies, in order, each the span object as
// sent plus "resource" (the resource's attributes) and "attrs" (the span's attributes) as flat
// key → value objects, where intValue becomes a number, and "scope" (the scope's name).
std::vector<nlohmann::json> otlp_spans(const std::string& body);
std::vector<nlohmann::json> otlp_spans(const std::vector<Received>& requests);

}  // namespace switchyard::testing
