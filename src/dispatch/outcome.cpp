// What an ended attempt teaches, and where it goes: the target's breaker and latency window, its
// provider's token count, the hedge counters, the request's record — then what comes next, and
// the client's error when nothing served.
#include <algorithm>

#include "attempt.hpp"

namespace switchyard::dispatch {

namespace {

using providers::ErrorClass;
using std::chrono::milliseconds;
using upstream::Fault;
using SteadyClock = std::chrono::steady_clock;

// However long an upstream asks to be left alone, a target comes back for probing after this.
constexpr milliseconds kMaxCooldown = std::chrono::hours(1);
// A lost hedge's wasted prompt, when nothing better is known: about four bytes of JSON a token.
constexpr double kBodyBytesPerToken = 4.0;
constexpr auto relaxed = std::memory_order_relaxed;

// The OpenTelemetry GenAI semantic conventions' name for each kind of provider.
std::string_view gen_ai_system(config::ProviderType type) {
  switch (type) {
    case config::ProviderType::openai:
      return "openai";
    case config::ProviderType::anthropic:
      return "anthropic";
    case config::ProviderType::gemini:
      return "gcp.gemini";
    case config::ProviderType::azure:
      return "az.ai.openai";
  }
  return "openai";
}

}  // namespace

Dispatcher::Next Dispatcher::conclude(Attempt& a, Progress& progress, bool more_targets) {
  const auto now = SteadyClock::now();
  book_health(a, now);
  reconcile_tokens(a);
  book_hedge(a);
  book_record(a, progress.context.record, now);
  if (a.responded) {
    progress.responded = true;
    return Next::done;
  }
  if (a.beaten || progress.context.cancel.aborted()) return Next::next_target;
  if (a.error && a.error->error_class == ErrorClass::final) return Next::final_error;
  return decide(a, progress, more_targets, now);
}

void Dispatcher::book_health(const Attempt& a, SteadyTime now) {
  TargetHealth& health = board_->target(a.target);
  health.finished();
  if (a.beaten || (!a.responded && a.failure.fault == Fault::aborted)) {
    health.release(a.admission);  // no outcome: nothing learnt about the target
    return;
  }
  const bool failed = a.failed_target();
  const auto opened_before = failed ? health.snapshot(now, false).opened_at : SteadyTime{};
  health.record(now, a.admission, failed, failed ? std::nullopt : a.ttfb);
  if (!failed) return;
  // This failure opened the breaker: the other replicas leave the target alone too.
  const auto after = health.snapshot(now, false);
  if (after.state == BreakerState::open && after.opened_at != opened_before)
    shared_health_.target_open(a.target, after.open_until);
}

void Dispatcher::book_hedge(const Attempt& a) {
  auto& counters = board_->counters();
  if (a.responded && a.hedge && a.hedge->running[1] == &a)
    counters.hedge_wins.fetch_add(1, relaxed);
  if (!a.beaten) return;
  counters.hedges_wasted.fetch_add(1, relaxed);
  // A provider bills a prompt it has started on.
  const double tokens = static_cast<double>(a.request.client().body().size()) / kBodyBytesPerToken;
  counters.hedge_waste_micro_usd.fetch_add(
      static_cast<std::uint64_t>(tokens * a.target.model->input_per_mtok), relaxed);
}

void Dispatcher::book_record(const Attempt& a, telemetry::RequestRecord& record, SteadyTime now) {
  const auto& target = a.target;
  record.attempts.push_back(
      {target.provider->name, target.model->name, target.model->upstream,
       gen_ai_system(target.provider->type), target.provider->base_url.host, a.status,
       a.beaten ? std::string_view("hedge_lost") : a.outcome, a.detail,
       std::chrono::duration_cast<std::chrono::microseconds>(now - a.started), a.started, a.span});
  if (!a.responded) return;
  record.provider = target.provider->name;
  record.served_model = target.model->name;
  record.upstream_model = target.model->upstream;
  record.usage_reported = a.usage.reported;
  record.prompt_tokens = a.usage.prompt;
  record.completion_tokens = a.usage.completion;
  record.cached_tokens = a.usage.cached;
  if (a.usage.reported) record.cost_usd = a.cost();
}

Dispatcher::Next Dispatcher::decide(Attempt& a, Progress& progress, bool more_targets,
                                    SteadyTime now) {
  progress.learn(a);
  if (a.failure.timeout == upstream::Timeout::deadline) {
    progress.out_of_time = true;
    return Next::next_target;
  }
  if (a.retry_after && a.retry_after->count() > 0) {
    // "Not before": the target is left alone that long by every request, not only this one.
    const auto until = now + std::min(*a.retry_after, kMaxCooldown);
    board_->target(a.target).cool_down(now, until);
    shared_health_.target_open(a.target, until);
  }
  if (progress.last_error && progress.last_error->error_class == ErrorClass::fall_over) {
    if (progress.last_error->context_length && a.target.model->context != 0)
      progress.context_limit = std::max(progress.context_limit, a.target.model->context);
    return Next::next_target;
  }
  if (a.failure.fault == Fault::too_large) return Next::next_target;
  const auto& retry = progress.request.route->retry;
  if (a.retry_after && *a.retry_after > retry.max_retry_after) return Next::next_target;
  // Rate limited, nobody listening, or too slow: with somewhere else to go, going there beats
  // waiting here. A 5xx or a dropped connection is more often a passing hiccup worth a retry.
  const bool go_elsewhere = a.status == 429 || a.failure.fault == Fault::connect_failed ||
                            a.failure.fault == Fault::tls_failed ||
                            a.failure.fault == Fault::timeout;
  if (go_elsewhere && more_targets) return Next::next_target;
  return Next::retry;
}

DispatchResult Dispatcher::give_up(Progress& progress) {
  const auto& record = progress.context.record;
  const auto& route = *progress.request.route;
  if (progress.last)
    add_route_headers(progress.context.response(), progress.request, *progress.last,
                      record.attempts.size());
  const int retry_after_s =
      progress.shortest_retry_after
          ? static_cast<int>((progress.shortest_retry_after->count() + 999) / 1000)
          : 0;
  if (progress.out_of_time) {
    board_->counters().deadline_exceeded.fetch_add(1, std::memory_order_relaxed);
    return Unexpected(api::errors::deadline_exceeded(route.name, std::move(progress.summary)));
  }
  // When the last target refused for a reason of its own kind — the prompt does not fit, a
  // content policy, the model or key unknown there — the client learns that reason, in OpenAI's
  // terms; outages and overloads are summed up instead.
  if (progress.last_error && progress.last_error->error_class != ErrorClass::retryable) {
    api::ApiError error = std::move(progress.last_error->error);
    if (record.attempts.size() > 1) error.message += " (tried: " + progress.summary + ")";
    return Unexpected(std::move(error));
  }
  auto kind = progress.kind;
  if (progress.all_rate_limited && progress.last) kind = api::errors::UpstreamFailure::rate_limited;
  if (!progress.last && progress.summary.empty()) progress.summary = "no target could be tried";
  return Unexpected(api::errors::all_targets_failed(kind, route.name, std::move(progress.summary),
                                                    retry_after_s));
}

void Dispatcher::reconcile_tokens(const Attempt& a) {
  auto& tokens = board_->token_limiter(a.target.provider_index);
  const std::uint64_t taken = a.request.estimated_tokens;
  if (!tokens.limited() || taken == 0) return;
  // A lost hedge was billed for what it started on: its estimate stays taken.
  if (a.beaten) return;
  const std::uint64_t used =
      a.usage.reported ? a.usage.prompt + a.usage.completion : (a.responded ? taken : 0);
  limit_keeper_.reconcile(a.tokens_shared, provider_limit(a.target, "tpm"), tokens, taken, used);
}

}  // namespace switchyard::dispatch
