// Serves one chat or embeddings request from a route's targets: tries them in order, moves on
// after a failure another target might not have (connect, timeout, the retryable and fall-over
// error classes of providers/) as long as nothing has reached the client, and relays the first
// good response through the target's adapter — JSON whole, streams event by event with
// backpressure. Retries with backoff, breakers and hedging plug into run()'s loop.
// One Dispatcher per worker thread; it owns that thread's upstream connection pools.
#pragma once

#include <memory>
#include <string>
#include <vector>
#include "switchyard/async.hpp"

#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/api/error.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/server/request.hpp"
#include "switchyard/server/responder.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/upstream/connection.hpp"

namespace switchyard::upstream {
class Exchange;
}

namespace switchyard::dispatch {

class BufferPool;

struct DispatchRequest {
  const server::Fields& headers;  // the client's, for forward_headers
  std::string_view request_id;
  std::string_view model;  // what the client asked for: a route or a model alias
  const routing::Route* route = nullptr;
  // Responses report the serving model's upstream name instead of `model`.
  bool report_upstream_model = false;
  // Exactly one of these is set.
  const api::ChatRequest* chat = nullptr;
  const api::EmbeddingsRequest* embeddings = nullptr;
};

// Shared between the dispatch and the client watch: when the client disconnects, whatever
// upstream exchange is in flight is aborted at once, and no further target is tried.
class Cancellation final : public server::Responder::Listener {
 public:
  void client_gone() override { abort(); }
  void abort();
  bool aborted() const { return aborted_; }
  void set_active(upstream::Exchange* exchange) { active_ = exchange; }

 private:
  upstream::Exchange* active_ = nullptr;
  bool aborted_ = false;
};

struct DispatchResult {
  bool responded = false;  // something was sent to the client (success or relayed error)
  // When nothing was sent: the error for the client.
  api::ApiError error;
};

class Dispatcher {
 public:
  Dispatcher(Executor ex, const config::Config& config);
  ~Dispatcher();

  Awaitable<DispatchResult> run(const DispatchRequest& request, server::Responder& out,
                                telemetry::RequestRecord& record, Cancellation& cancel);

  // Closes idle upstream connections past their expiry.
  void sweep_idle();
  // Closes all idle upstream connections (shutdown).
  void close_idle();

 private:
  struct Attempt;
  Awaitable<void> attempt(Attempt& a);
  Awaitable<void> relay_json(Attempt& a, upstream::Exchange& exchange);
  Awaitable<void> relay_stream(Attempt& a, upstream::Exchange& exchange);
  static void build_forwarded(const DispatchRequest& request, const config::Provider& provider,
                              std::string& out);
  void add_route_headers(server::Responder& out, const DispatchRequest& request,
                         const routing::Target& target, std::size_t attempts);

  std::vector<std::unique_ptr<upstream::Origin>> origins_;  // by provider index
  std::unique_ptr<BufferPool> buffers_;
};

}  // namespace switchyard::dispatch
