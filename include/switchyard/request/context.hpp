// One client request while it is served: made by the server's session once the request is read
// (or by whoever asks the gateway's loopback), filled in at the edge (the gateway), handed down by
// reference to the handler and the dispatcher, gone when the response is logged.
// Holds what every layer may need of the request — the HTTP message, where the answer goes, the
// record that becomes its log line and span, the key it came with, its deadline and its
// cancellation — so that no layer threads them one by one.
//
// Example (a handler):
//   Awaitable<void> Models::handle(request::Context& request) {
//     co_await request.response().send(200, "application/json", routes_.models_json());
//   }
#pragma once

#include <chrono>
#include <utility>

#include "switchyard/request/cancellation.hpp"
#include "switchyard/request/http.hpp"
#include "switchyard/request/response_sink.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::config {
struct GatewayKey;
}

namespace switchyard::request {

struct Context {
  Context(const HttpRequest& message, ResponseSink& sink) : http(message), response_(&sink) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const HttpRequest& http;
  telemetry::RequestRecord record;
  // The client's gateway key, when keys are configured (checked at the edge).
  const config::GatewayKey* key = nullptr;
  // Aborted when the client hangs up while the sink watches it.
  Cancellation cancel;
  // The API the client speaks (the endpoint's): the shape of its errors.
  api::Dialect dialect = api::Dialect::openai;
  // No attempt runs and no backoff sleeps past this (set once the route is known).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  // Where the answer goes.
  ResponseSink& response() const { return *response_; }
  // From now on the answer goes through `sink` (which wraps the previous one, to copy or add to
  // what is sent); restored by the returned object's destruction.
  class Through {
   public:
    Through(Context& c, ResponseSink& sink) : c_(c), previous_(std::exchange(c.response_, &sink)) {}
    ~Through() { c_.response_ = previous_; }
    Through(const Through&) = delete;
    Through& operator=(const Through&) = delete;

   private:
    Context& c_;
    ResponseSink* previous_;
  };

  std::string_view request_id() const { return response_->request_id(); }
  // Refuses the request before any upstream was asked: the error goes to the client, its message
  // and code into the record.
  Awaitable<void> refuse(const api::ApiError& error);

 private:
  ResponseSink* response_;
};

}  // namespace switchyard::request
