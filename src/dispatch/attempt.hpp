// One try of one target for one request, as the dispatcher's policy loop sees it: what was sent
// and what came back, classified; and what the request has learnt across its tries. Internal to
// dispatch/.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "buffer_pool.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/dispatch/target_health.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/routing/cost.hpp"

namespace switchyard::dispatch {

// A hedge: two attempts of one request in the air at the same time. The first to reach the
// client claims the response; the other is beaten and aborted.
struct Hedge {
  Dispatcher::Attempt* answered = nullptr;
  std::array<Dispatcher::Attempt*, 2> running{};
};

struct Dispatcher::Attempt {
  const DispatchRequest& request;
  const routing::Target& target;
  request::Context& context;
  std::size_t number;  // 1-based, across the request's attempts

  // This attempt's own buffers: the request head, passed-on headers and translated body while
  // they are being written, the response while it is read and relayed.
  BufferPool::Lease head;
  BufferPool::Lease forwarded;
  BufferPool::Lease encoded;
  BufferPool::Lease body;

  SteadyTime started = std::chrono::steady_clock::now();
  // Its span in the request's trace: the upstream is told it is the parent of its own.
  telemetry::SpanId span = telemetry::new_span_id();
  TargetHealth::Admission admission = TargetHealth::Admission::allowed;
  Hedge* hedge = nullptr;
  upstream::Exchange* exchange = nullptr;  // while one is open
  bool finished = false;
  bool beaten = false;         // another attempt of the request answered first
  bool tokens_shared = false;  // its provider's tpm counted it in Redis

  bool responded = false;
  upstream::Failure failure;                      // the transport failed, or
  std::optional<providers::ProviderError> error;  // the provider refused or answered nonsense
  int status = 0;
  std::optional<std::chrono::milliseconds> ttfb;         // the response head came after this long
  std::optional<std::chrono::milliseconds> retry_after;  // what the upstream asked for
  std::string_view outcome = "ok";
  std::string detail;
  const providers::Call* call = nullptr;  // set once the request is encoded
  providers::Usage usage;

  // The transport failed: connect, TLS, timeout, reset, a response too large…
  void fail(upstream::Failure f);
  // The provider refused, or answered what cannot be relayed.
  void refuse(providers::ProviderError e);
  // Right before the first byte goes to the client: false when another attempt of the request
  // got there first (this one then stops); otherwise this one wins and the others are aborted.
  bool claim_response();
  // Says the target is unwell: a transport fault or a retryable refusal. A client's mistake or a
  // refusal of this prompt in particular is the target working as it should.
  bool failed_target() const;
  // What the answer cost, from the usage the provider reported (0 when it reported none).
  double cost() const {
    return routing::cost_usd(*target.model, {usage.prompt, usage.completion, usage.cached});
  }
  // Upstream requests the request has made so far, this one's hedge partner included.
  std::size_t attempts_so_far() const {
    std::size_t n = number;
    if (hedge)
      for (const Attempt* other : hedge->running)
        if (other && other->number > n) n = other->number;
    return n;
  }
};

// What one request has learnt so far across its attempts.
struct Dispatcher::Progress {
  const DispatchRequest& request;
  request::Context& context;
  bool responded = false;  // the client was answered

  std::string summary;  // "alpha via openai: HTTP 503: …; beta via …"
  bool all_rate_limited = true;
  std::optional<std::chrono::milliseconds> shortest_retry_after;  // for the client's retry-after
  std::optional<std::chrono::milliseconds> wait_hint;  // what the last attempt's upstream asked
  api::errors::UpstreamFailure kind = api::errors::UpstreamFailure::bad_response;
  const routing::Target* last = nullptr;
  std::optional<providers::ProviderError> last_error;
  // A target with this context window or a smaller one cannot take the prompt (0 = unknown).
  std::uint64_t context_limit = 0;
  bool out_of_time = false;
  bool hedged = false;

  // What a failed attempt teaches: the summary, the kind of failure, the upstream's wait.
  void learn(Attempt& a) {
    note(a.target, a.detail);
    last = &a.target;
    all_rate_limited = all_rate_limited && a.status == 429;
    const auto fault = a.failure.fault;
    // An upstream that said it is overloaded (503, Anthropic's 529) is as unavailable as one
    // that cannot be reached: the client hears 503 (529 through the Messages door) and retries.
    const bool overloaded = a.status == 503 || a.status == 529;
    kind = fault == upstream::Fault::timeout ? api::errors::UpstreamFailure::timeout
           : (fault == upstream::Fault::connect_failed || fault == upstream::Fault::tls_failed ||
              overloaded)
               ? api::errors::UpstreamFailure::unreachable
               : api::errors::UpstreamFailure::bad_response;
    last_error = std::move(a.error);
    wait_hint = a.retry_after;
    if (a.retry_after && a.retry_after->count() > 0 &&
        (!shortest_retry_after || *a.retry_after < *shortest_retry_after))
      shortest_retry_after = a.retry_after;
  }

  void note(const routing::Target& target, std::string_view why) {
    if (!summary.empty()) summary += "; ";
    summary += target.model->name;
    summary += " via ";
    summary += target.provider->name;
    summary += ": ";
    summary += why;
  }
};

}  // namespace switchyard::dispatch
