// Serves one chat or embeddings request from a route's targets — the policy engine between the
// gateway and the providers. It ranks the targets (strategy, breakers, health), tries each with
// its own retry budget and jittered backoff, honours what upstreams ask (Retry-After, rate-limit
// resets), moves on after failures another target might not have, optionally hedges a slow
// first target with the next one, and keeps all of it inside the request's deadline. Nothing is
// switched once a byte has reached the client.
// One Dispatcher per worker thread; it owns that thread's upstream connection pools and shares
// the HealthBoard with the other workers.
#pragma once

#include <array>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "switchyard/async.hpp"

#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/api/error.hpp"
#include "switchyard/api/messages_request.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/dispatch/shared_health.hpp"
#include "switchyard/request/context.hpp"
#include "switchyard/result.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/state/limit_keeper.hpp"
#include "switchyard/upstream/connection.hpp"

namespace switchyard::upstream {
class Exchange;
}

namespace switchyard::dispatch {

class BufferPool;
struct Hedge;

// What to dispatch: the parsed body and the route it goes to. Who asked, where the answer goes
// and by when are the request's Context.
struct DispatchRequest {
  std::string_view model;  // what the client asked for: a route or a model alias
  const routing::Route* route = nullptr;
  // Responses report the serving model's upstream name instead of `model`.
  bool report_upstream_model = false;
  // Exactly one of these is set.
  const api::ChatRequest* chat = nullptr;
  const api::EmbeddingsRequest* embeddings = nullptr;
  const api::MessagesRequest* messages = nullptr;
  // Whichever it is, as the body and `model` the client sent.
  const api::ModelField& client() const {
    if (chat) return *chat;
    if (messages) return *messages;
    return *embeddings;
  }
  // The chat completion it asks for: a Messages request's chat equivalent (translated at the
  // first call); nullptr for embeddings and for a Messages request that is malformed.
  const api::ChatRequest* chat_view() const { return messages ? messages->chat() : chat; }
  bool stream() const { return chat ? chat->stream() : messages != nullptr && messages->stream(); }
  // A Messages request asking for its token count (count_tokens): only Anthropic targets are
  // tried, and their count is the answer.
  bool count_tokens = false;
  // A provider the client prefers: its targets go to the front of the plan (the gateway only
  // sets it when the route has any).
  std::string_view preferred_provider;
  // Estimated prompt tokens plus the output cap: what a provider's tpm limit is charged before
  // sending (corrected to the reported usage after). 0 when no target's provider counts tokens.
  std::uint64_t estimated_tokens = 0;
};

// Success: the client was answered (an upstream's answer, or its refusal relayed). Otherwise
// nothing was sent, and the error is what the client is to be told.
using DispatchResult = Result<void, api::ApiError>;

class Dispatcher {
 public:
  // Keeps `previous`'s connection pool of every provider whose definition did not change (a
  // reload drops no warm connection it need not).
  // `limit_keeper` counts the providers' rate limits and `shared_health` tells the other replicas
  // of breakers opening (both through Redis, when configured).
  Dispatcher(Executor ex, const config::Config& config, std::shared_ptr<HealthBoard> board,
             state::LimitKeeper& limit_keeper, SharedHealth& shared_health,
             const Dispatcher* previous);
  ~Dispatcher();

  // Serves `request` for `context`: answers its client (success, or an error an upstream gave
  // that every target would give), fills its record, stops when its cancellation is aborted and
  // tries nothing past its deadline. When nothing was sent, the result holds the error to send.
  Awaitable<DispatchResult> run(const DispatchRequest& request, request::Context& context);

  // The external classifier's difficulty score for `prompt`, asked of the `judge` model through
  // its provider within `timeout`; or, when there is none, why (timed out, failed: …).
  struct Score {
    std::optional<double> value;
    std::string why;
  };
  Awaitable<Score> ask_classifier(const routing::Target& judge, std::string_view request_id,
                                  std::string_view prompt, std::chrono::milliseconds timeout);

  // This worker's connections to a provider (health checks probe through them).
  upstream::Origin& origin(std::size_t provider_index) { return *origins_[provider_index]; }
  HealthBoard& board() { return *board_; }
  SharedHealth& shared_health() { return shared_health_; }

  // Opens a spare connection to the provider in the background unless one is idle.
  void warm(std::size_t provider_index);
  // Closes idle upstream connections past their expiry.
  void sweep_idle();
  // Closes all idle upstream connections (shutdown).
  void close_idle();

  struct Attempt;

 private:
  struct Progress;
  enum class Next { done, retry, next_target, final_error };
  using Plan = boost::container::small_vector<const routing::Target*, 4>;

  // The route's targets in the order to try them now.
  void plan(const DispatchRequest& request, Plan& order);
  // Runs `a`, and `b` beside it when `a` has no response head after the route's hedge delay;
  // returns once every attempt started has ended.
  Awaitable<void> run_hedged(Attempt& a, Attempt* b, Progress& progress);
  Awaitable<void> run_detached(Attempt& a, Timer& wake);
  // Whether the target's provider has a rate_limit (rpm or tpm) the gateway keeps.
  bool limited(const routing::Target& target) const;
  // Takes a request slot of the target's provider (rate_limit.rpm) and the request's estimated
  // tokens (rate_limit.tpm); not taken, with the admission released and the skip noted, when
  // either is used up.
  struct Slot {
    bool taken = true;
    bool tokens_shared = false;  // the tokens were counted in Redis
  };
  Awaitable<Slot> take_slot(const routing::Target& target, TargetHealth::Admission admission,
                            Progress& progress);
  // The name a provider's limit is kept under across replicas.
  static std::string provider_limit(const routing::Target& target, std::string_view what) {
    return "provider:" + target.provider->name + ":" + std::string(what);
  }
  // False, with the skip noted, when an earlier target's context window overflowed and this
  // one's is no larger.
  bool may_take_prompt(const routing::Target& target, Progress& progress);
  // The pause before try `retry` (0 = the first, no pause) of a target, jittered and at least
  // what the upstream asked; nullopt, with the progress out of time, when the deadline would
  // pass first.
  std::optional<std::chrono::milliseconds> backoff(unsigned retry, Progress& progress);
  // The pause, counted as a retry and as time spent waiting on upstreams.
  Awaitable<void> wait_before_retry(std::chrono::milliseconds pause, request::Context& context);
  // The next attempt of the request at `target`, with buffers from the pool; `number` 0 means
  // the one after those recorded.
  Attempt new_attempt(Progress& progress, const routing::Target& target, std::size_t number = 0);

  // An attempt ended: books it (health, tokens, hedge counters, record) and decides what comes
  // next.
  Next conclude(Attempt& a, Progress& progress, bool more_targets);
  // The target's breaker and latency window; a breaker this failure opened is announced to the
  // other replicas.
  void book_health(const Attempt& a, SteadyTime now);
  // Corrects what the attempt took of its provider's tpm to what it used: the reported usage, or
  // nothing when it failed.
  void reconcile_tokens(const Attempt& a);
  // Hedges won, and what a beaten one wasted.
  void book_hedge(const Attempt& a);
  // The attempt in the request's record; the serving model and usage when it answered.
  static void book_record(const Attempt& a, telemetry::RequestRecord& record, SteadyTime now);
  // After a failure: retry the target, or move on to the next.
  Next decide(Attempt& a, Progress& progress, bool more_targets, SteadyTime now);
  // Every planned target failed, was skipped, or the deadline came: the error for the client.
  DispatchResult give_up(Progress& progress);
  // Waits `delay` unless the client goes away first.
  Awaitable<void> sleep(std::chrono::milliseconds delay, request::Cancellation& cancel);

  // One try: encode, send, and relay the answer or read why there is none.
  Awaitable<void> attempt(Attempt& a);
  Awaitable<void> relay_json(Attempt& a, upstream::Exchange& exchange);
  Awaitable<void> relay_stream(Attempt& a, upstream::Exchange& exchange);
  // The headers the attempt passes on: its traceparent (and the client's tracestate), and the
  // client's headers its provider's forward_headers name.
  static void build_forwarded(const Attempt& a, std::string& out);
  static void add_route_headers(request::ResponseSink& response, const DispatchRequest& request,
                                const routing::Target& target, std::size_t attempts);

  Executor ex_;
  std::shared_ptr<HealthBoard> board_;
  state::LimitKeeper& limit_keeper_;
  SharedHealth& shared_health_;
  // By provider index; shared with the next generation's dispatcher when unchanged, and with
  // the background connection warm-ups, which may outlive this one.
  std::vector<std::shared_ptr<upstream::Origin>> origins_;
  std::unique_ptr<BufferPool> buffers_;
  // A uniform draw in [0, 1) for jitter, weights and exploration (splitmix64: one worker's, so
  // no lock, and no <random> in a widely included header).
  double draw();
  std::uint64_t rng_state_;
  double explore_;
};

}  // namespace switchyard::dispatch
