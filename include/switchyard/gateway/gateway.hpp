// The request pipeline behind the HTTP server: which endpoint and whose key, then for chat
// completions and embeddings parse → resolve the route → choose what serves it (complexity,
// budgets) → the key's limits → dispatch (raced against the client going away) → settle spend
// → log. The cache slots in here in front of dispatch. One Gateway per worker thread.
#pragma once

#include <memory>
#include "switchyard/async.hpp"

#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/dispatch/health_check.hpp"
#include "switchyard/gateway/key_ring.hpp"
#include "switchyard/routing/complexity.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/server/request.hpp"
#include "switchyard/server/responder.hpp"
#include "switchyard/state/ledger.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::gateway {

using server::Request;

class Gateway {
 public:
  // One worker's gateway runs the providers' health checks (`health_checks`) for all of them.
  Gateway(Executor ex, std::shared_ptr<const routing::RouteTable> routes,
          std::shared_ptr<dispatch::HealthBoard> board, std::shared_ptr<state::Ledger> ledger,
          bool health_checks);
  ~Gateway();

  // Starts the background work (health checks), once the worker's loop runs.
  void start();
  Awaitable<void> handle(const Request& request, server::Responder& out);

  // Readiness goes false for the load balancer once shutdown has begun.
  void set_draining();
  void sweep_idle() { dispatcher_.sweep_idle(); }
  void close_idle() { dispatcher_.close_idle(); }

 private:
  // `key`: the client's gateway key, when keys are configured.
  Awaitable<void> chat(const Request& request, server::Responder& out,
                       telemetry::RequestRecord& record, const config::GatewayKey* key);
  Awaitable<void> embeddings(const Request& request, server::Responder& out,
                             telemetry::RequestRecord& record, const config::GatewayKey* key);
  // Resolves the route and runs the dispatch, answering with its error if no target served.
  Awaitable<void> serve(dispatch::DispatchRequest& dispatch, server::Responder& out,
                        telemetry::RequestRecord& record, const config::GatewayKey* key);
  static void prefer(dispatch::DispatchRequest& dispatch, server::Responder& out,
                     telemetry::RequestRecord& record);
  // Header x-switchyard-provider, else the body's metadata.preferred_provider; empty if neither.
  static std::string_view preferred_provider(const dispatch::DispatchRequest& dispatch);

  // Which route serves a request naming `asked`, and why.
  struct Choice {
    const routing::Route* route = nullptr;    // serves; the last one tried when refused
    std::optional<routing::Verdict> verdict;  // a classifier route's
    std::string reason;                       // for the log line; empty when `asked` serves
    std::optional<api::ApiError> refusal;     // a spent budget without a `then`, …
  };
  // A classifier route picks simple or complex (asking its classifier only when
  // `ask_classifier`); a route whose budget is spent hands over to its `then`.
  Awaitable<Choice> choose(const dispatch::DispatchRequest& request, const routing::Route& asked,
                           bool ask_classifier);
  // POST /admin/explain: the choice and plan for a chat body, without calling any upstream.
  Awaitable<void> explain(const Request& request, server::Responder& out,
                          telemetry::RequestRecord& record);
  // Books the response in the record and logs it (unless `quiet`).
  static void finish(server::Responder& out, telemetry::RequestRecord& record, bool quiet);
  static Awaitable<void> reject(const api::ApiError& error, server::Responder& out,
                                telemetry::RequestRecord& record);

  std::shared_ptr<const routing::RouteTable> routes_;
  std::shared_ptr<state::Ledger> ledger_;
  KeyRing keys_;
  dispatch::Dispatcher dispatcher_;
  std::unique_ptr<dispatch::HealthChecker> health_checker_;
  bool draining_ = false;
};

}  // namespace switchyard::gateway
