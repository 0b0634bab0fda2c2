// The steps that serve a chat completion or an embeddings request once its body is parsed, in
// order: the model or route it names and whether its key may use it → the client's deadline → the
// route that serves it (complexity, budgets) → the key's limits → the response cache (chat) →
// the client's preferred provider → the dispatcher, raced against the client going away → the
// route's and the key's spend. Shared by the chat and embeddings handlers; admin/explain asks it
// for the route choice alone.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "switchyard/api/error.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/request/context.hpp"
#include "switchyard/routing/complexity.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/state/limit_keeper.hpp"

namespace switchyard::handlers {

// The name a route's spend is kept under across replicas.
inline std::string route_budget(const routing::Route& route) {
  return "route:" + route.name;
}

// The provider the client prefers: header x-switchyard-provider, else the body's
// metadata.preferred_provider; empty if neither.
std::string_view preferred_provider(const dispatch::DispatchRequest& job,
                                    const request::Context& request);

class Inference {
 public:
  explicit Inference(Services& services) : services_(services) {}

  // Serves `job` (its `chat` or `embeddings` set) for `request`, answering the client whatever
  // happens.
  Awaitable<void> serve(dispatch::DispatchRequest& job, request::Context& request);

  // Which route serves a request naming `asked`, and why.
  struct Choice {
    const routing::Route* route = nullptr;    // serves; the last one tried when refused
    std::optional<routing::Verdict> verdict;  // a classifier route's
    std::string reason;                       // for the log line; empty when `asked` serves
    std::optional<api::ApiError> refusal;     // a spent budget without a `then`, …
    // The serving route's budget reservation (serving, and the route has a budget).
    std::unique_ptr<state::Reservation> hold;
  };
  // Serving asks a classifier route's classifier and reserves the request's worst-case cost on
  // a budget (for the client's deadline, else the route's); explaining does neither.
  enum class Mode { serve, explain };
  // A classifier route picks simple or complex; a route whose budget has no room for the request
  // hands over to its `then`.
  Awaitable<Choice> choose(const dispatch::DispatchRequest& job, const routing::Route& asked,
                           std::string_view request_id, Mode mode,
                           std::optional<config::Millis> client_deadline = {});
  // How long a request on `route` may take: the client's deadline, else the route's.
  static config::Millis deadline(const routing::Route& route,
                                 std::optional<config::Millis> client_deadline);
  // How long its budget reservations are held at most: its deadline and a margin, so that one
  // settling at the deadline still finds its own (Redis drops it then: a replica that died
  // mid-request leaks nothing for longer).
  static config::Millis hold_for(const routing::Route& route,
                                 std::optional<config::Millis> client_deadline);

  // The route `job` names (into `asked`), or why the request may not use it.
  std::optional<api::ApiError> find_route(const dispatch::DispatchRequest& job,
                                          const request::Context& request,
                                          const routing::Route*& asked) const;

 private:
  // Moves `job` to the route that serves it and reads the client's deadline (into
  // `client_deadline`), the route's budget reservation into `hold`; false when the request was
  // refused (the refusal sent). Its own coroutine:
  // with the choice and the refusal in serve()'s frame, that frame would be past the size Asio
  // recycles, a slower malloc a request.
  Awaitable<bool> route(dispatch::DispatchRequest& job, request::Context& request,
                        std::optional<config::Millis>& client_deadline,
                        std::unique_ptr<state::Reservation>& hold);
  // The client's x-switchyard-deadline (into `into`), when it sent one, or why it is malformed.
  static std::optional<api::ApiError> read_deadline(const request::Context& request,
                                                    std::optional<config::Millis>& into);
  // Moves `job` to the route `choice` picked and records why; or the refusal.
  std::optional<api::ApiError> take(Choice choice, dispatch::DispatchRequest& job,
                                    request::Context& request) const;
  // The client's preferred provider reorders the plan when the route has a target there.
  static void prefer(dispatch::DispatchRequest& job, request::Context& request);
  // Charges what the answer cost to the route that served, releasing its reservation.
  void charge_route(std::unique_ptr<state::Reservation>& hold,
                    const telemetry::RequestRecord& record);
  // Ends a request that reached dispatch: true when no target answered and the error in
  // `result` is for the client; false when it was answered or has gone.
  static bool conclude(const dispatch::DispatchResult& result, request::Context& request);

  Services& services_;
};

}  // namespace switchyard::handlers
