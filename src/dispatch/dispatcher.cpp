// The policy loop: plan, try, book, decide — retry the target, move to the next, hedge, or give
// up with an error that says what was tried. The attempts themselves are in attempt.cpp.
#include "switchyard/dispatch/dispatcher.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/container/small_vector.hpp>
#include <random>

#include "attempt.hpp"
#include "switchyard/dispatch/backoff.hpp"
#include "switchyard/dispatch/ranking.hpp"
#include "switchyard/jitter.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::dispatch {

namespace {

using providers::ErrorClass;
using providers::ProviderError;

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
using std::chrono::milliseconds;
using upstream::Fault;
using SteadyClock = std::chrono::steady_clock;

// An adaptive hedge waits for the target's p95 only once the window has this many samples.
constexpr std::uint64_t kMinHedgeSamples = 20;
// However long an upstream asks to be left alone, a target comes back for probing after this.
constexpr milliseconds kMaxCooldown = std::chrono::hours(1);
// A lost hedge's wasted prompt, when nothing better is known: about four bytes of JSON a token.
constexpr double kBodyBytesPerToken = 4.0;
constexpr auto relaxed = std::memory_order_relaxed;

}  // namespace

// What one request has learnt so far across its attempts.
struct Dispatcher::Progress {
  const DispatchRequest& request;
  request::Context& context;
  DispatchResult result;

  std::string summary;  // "alpha via openai: HTTP 503: …; beta via …"
  bool all_rate_limited = true;
  std::optional<milliseconds> shortest_retry_after;  // for the client's retry-after
  std::optional<milliseconds> wait_hint;             // what the last attempt's upstream asked
  api::errors::UpstreamFailure kind = api::errors::UpstreamFailure::bad_response;
  const routing::Target* last = nullptr;
  std::optional<ProviderError> last_error;
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
    kind = fault == Fault::timeout ? api::errors::UpstreamFailure::timeout
           : (fault == Fault::connect_failed || fault == Fault::tls_failed)
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

Dispatcher::Dispatcher(Executor ex, const config::Config& config,
                       std::shared_ptr<HealthBoard> board, state::LimitKeeper& limit_keeper,
                       SharedHealth& shared_health, const Dispatcher* previous)
    : ex_(ex),
      board_(std::move(board)),
      limit_keeper_(limit_keeper),
      shared_health_(shared_health),
      buffers_(std::make_unique<BufferPool>()),
      rng_state_(std::random_device{}() ^
                 static_cast<std::uint64_t>(SteadyClock::now().time_since_epoch().count())),
      explore_(config.resilience.explore) {
  origins_.reserve(config.providers.size());
  for (const auto& p : config.providers) {
    std::shared_ptr<upstream::Origin> kept;
    if (previous) {
      for (const auto& o : previous->origins_)
        if (o->provider() == p) kept = o;
    }
    origins_.push_back(kept ? std::move(kept) : std::make_shared<upstream::Origin>(ex, p));
  }
}

Dispatcher::~Dispatcher() = default;

double Dispatcher::draw() {
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;  // 53 random bits: [0, 1)
}

void Dispatcher::warm(std::size_t provider_index) {
  auto origin = origins_[provider_index];
  if (origin->has_idle()) return;
  // The warm-up owns its origin: a reload may retire this dispatcher before it connects.
  asio::co_spawn(
      ex_, [origin]() -> Awaitable<void> { co_await origin->warm(); }, asio::detached);
}

void Dispatcher::sweep_idle() {
  for (auto& o : origins_) o->sweep();
}

void Dispatcher::close_idle() {
  for (auto& o : origins_) o->close_idle();
}

void Dispatcher::plan(const DispatchRequest& request, Plan& order) {
  const routing::Route& route = *request.route;
  // Filled and used without a suspension in between, so one per thread is enough.
  thread_local std::vector<Candidate> candidates;
  thread_local std::vector<std::size_t> ranked;
  const auto now = SteadyClock::now();
  board_->candidates(route, now, candidates);
  rank(
      route.strategy, candidates, explore_, [this] { return draw(); }, now, ranked);
  for (std::size_t i : ranked) order.push_back(route.targets[i]);
  if (!request.preferred_provider.empty()) {
    std::stable_partition(order.begin(), order.end(), [&](const routing::Target* t) {
      return t->provider->name == request.preferred_provider;
    });
  }
  if (ranked.size() < route.targets.size())
    board_->counters().breaker_skips.fetch_add(route.targets.size() - ranked.size(),
                                               std::memory_order_relaxed);
}

Awaitable<DispatchResult> Dispatcher::run(const DispatchRequest& request,
                                          request::Context& context) {
  const routing::Route& route = *request.route;
  auto& record = context.record;
  auto& cancel = context.cancel;
  record.route = route.name;
  Progress progress{request, context, {}};
  Plan order;
  plan(request, order);

  for (std::size_t i = 0; i < order.size() && !cancel.aborted() && !progress.out_of_time; ++i) {
    const routing::Target& target = *order[i];
    if (!may_take_prompt(target, progress)) continue;
    if (!record.attempts.empty()) board_->counters().failovers.fetch_add(1, relaxed);
    progress.wait_hint.reset();
    for (unsigned n = 0; n < route.retry.attempts && !cancel.aborted(); ++n) {
      const std::optional<milliseconds> pause = backoff(n, progress);
      if (!pause) break;
      if (n > 0) co_await wait_before_retry(*pause, context);
      if (cancel.aborted()) break;
      // A request is never refused for open breakers alone: with nothing tried yet, the plan's
      // last target (the one opened longest ago when all are open) is tried regardless.
      const bool last_chance = record.attempts.empty() && i + 1 == order.size();
      const auto admission = board_->target(target).admit(SteadyClock::now(), last_chance);
      if (admission == TargetHealth::Admission::refused) {
        board_->counters().breaker_skips.fetch_add(1, relaxed);
        progress.note(target, "skipped: circuit breaker open");
        break;
      }
      // Most providers publish no limit the gateway keeps: no coroutine frame for them.
      Slot slot{true, false};
      if (limited(target)) slot = co_await take_slot(target, admission, progress);
      if (!slot.taken) break;
      Attempt a = new_attempt(progress, target);
      a.admission = admission;
      a.tokens_shared = slot.tokens_shared;
      // A hedge pairs the first try of the plan's head with the next target.
      std::optional<Attempt> b;
      if (route.hedge.enabled && !progress.hedged && n == 0 && i + 1 < order.size())
        b.emplace(new_attempt(progress, *order[i + 1], a.number + 1));
      co_await run_hedged(a, b ? &*b : nullptr, progress);
      const bool b_ran = b && b->hedge != nullptr;
      const Next next_a = conclude(a, progress, i + 1 < order.size());
      const Next next_b = b_ran ? conclude(*b, progress, i + 2 < order.size()) : Next::retry;
      if (b_ran) order.erase(order.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      if (progress.result.responded) co_return progress.result;
      if (next_a == Next::final_error || next_b == Next::final_error) {
        // The client's own mistake: every provider would refuse it, so it is the answer.
        const Attempt& refused = next_a == Next::final_error ? a : *b;
        add_route_headers(context.response(), request, refused.target, record.attempts.size());
        co_await context.response().send_error(refused.error->error);
        progress.result.responded = true;
        co_return progress.result;
      }
      if (next_a == Next::next_target) break;
    }
  }
  co_return give_up(progress);
}

bool Dispatcher::may_take_prompt(const routing::Target& target, Progress& progress) {
  if (progress.context_limit == 0 || target.model->context == 0 ||
      target.model->context > progress.context_limit)
    return true;
  progress.note(target, "skipped: its context window is no larger than one the prompt overflowed");
  return false;
}

std::optional<milliseconds> Dispatcher::backoff(unsigned retry, Progress& progress) {
  const auto now = SteadyClock::now();
  const auto deadline = progress.context.deadline;
  milliseconds wait{0};
  if (retry > 0) {
    const auto& policy = progress.request.route->retry;
    wait = full_jitter(retry - 1, policy.backoff_base, policy.backoff_cap, draw());
    if (progress.wait_hint) wait = std::max(wait, *progress.wait_hint);
  }
  if (now >= deadline || (retry > 0 && now + wait >= deadline)) {
    progress.out_of_time = true;
    return std::nullopt;
  }
  return wait;
}

Awaitable<void> Dispatcher::wait_before_retry(milliseconds pause, request::Context& context) {
  board_->counters().retries.fetch_add(1, relaxed);
  // The pause is the upstream's doing, not the gateway's overhead.
  context.record.wait.begin(SteadyClock::now());
  co_await sleep(pause, context.cancel);
  context.record.wait.end(SteadyClock::now());
}

Dispatcher::Attempt Dispatcher::new_attempt(Progress& progress, const routing::Target& target,
                                            std::size_t number) {
  if (number == 0) number = progress.context.record.attempts.size() + 1;
  return Attempt{progress.request, target,           progress.context, number,
                 buffers_->take(), buffers_->take(), buffers_->take(), buffers_->take()};
}

Awaitable<void> Dispatcher::run_hedged(Attempt& a, Attempt* b, Progress& progress) {
  board_->target(a.target).started();
  if (b == nullptr) {
    co_await attempt(a);
    a.finished = true;
    co_return;
  }
  Hedge hedge;
  a.hedge = &hedge;
  hedge.running[0] = &a;
  warm(b->target.provider_index);

  Timer wake(ex_);
  asio::co_spawn(ex_, run_detached(a, wake), asio::detached);
  const auto& policy = progress.request.route->hedge;
  auto delay = policy.after;
  if (policy.adaptive) {
    const auto window = board_->target(a.target).snapshot(SteadyClock::now()).window;
    if (window.latency_samples >= kMinHedgeSamples) delay = std::max(window.p95, milliseconds(1));
  }
  wake.expires_after(delay);
  if (!a.finished) co_await wake.async_wait(as_result);

  if (!a.finished && !a.ttfb && hedge.answered == nullptr && !progress.context.cancel.aborted()) {
    b->admission = board_->target(b->target).admit(SteadyClock::now());
    bool admitted = b->admission != TargetHealth::Admission::refused;
    if (admitted && limited(b->target)) {
      const Slot slot = co_await take_slot(b->target, b->admission, progress);
      admitted = slot.taken;
      b->tokens_shared = slot.tokens_shared;
    }
    if (admitted) {
      progress.hedged = true;
      board_->counters().hedges.fetch_add(1, std::memory_order_relaxed);
      progress.context.record.hedged = true;
      b->hedge = &hedge;
      b->started = SteadyClock::now();
      hedge.running[1] = b;
      board_->target(b->target).started();
      asio::co_spawn(ex_, run_detached(*b, wake), asio::detached);
    }
  }
  while (!a.finished || (hedge.running[1] != nullptr && !b->finished)) {
    wake.expires_at(SteadyClock::time_point::max());
    co_await wake.async_wait(as_result);
  }
}

bool Dispatcher::limited(const routing::Target& target) const {
  return board_->limiter(target.provider_index).limited() ||
         board_->token_limiter(target.provider_index).limited();
}

Awaitable<Dispatcher::Slot> Dispatcher::take_slot(const routing::Target& target,
                                                  TargetHealth::Admission admission,
                                                  Progress& progress) {
  auto& requests = board_->limiter(target.provider_index);
  auto& tokens = board_->token_limiter(target.provider_index);
  const std::uint64_t units = progress.request.estimated_tokens;
  const std::string rpm = provider_limit(target, "rpm");
  Slot slot{true, false};
  std::optional<std::chrono::nanoseconds> wait;
  std::string_view why = "skipped: the provider's rate_limit.rpm is used up";
  bool request_shared = false;
  if (requests.limited()) {
    const auto taken = co_await limit_keeper_.take(rpm, requests, 1);
    request_shared = taken.shared;
    if (!taken.take.granted) wait = taken.take.wait;
  }
  if (!wait && tokens.limited() && units > 0) {
    if (units > tokens.limit()) {
      // Never fits: no wait helps, and the limit is the provider's own.
      wait = std::chrono::nanoseconds::max();
      why = "skipped: the request's estimated tokens exceed the provider's rate_limit.tpm";
    } else {
      const std::string tpm = provider_limit(target, "tpm");
      const auto taken = co_await limit_keeper_.take(tpm, tokens, units);
      slot.tokens_shared = taken.shared;
      if (!taken.take.granted) wait = taken.take.wait;
      why = "skipped: the provider's rate_limit.tpm is used up";
    }
    if (wait && requests.limited()) limit_keeper_.give_back(request_shared, rpm, requests, 1);
  }
  if (!wait) co_return slot;
  // Over the provider's published limit: it would only answer 429, so it is treated as one —
  // the next target is tried, and if none serves the client learns when a slot frees up.
  board_->target(target).release(admission);
  board_->counters().rate_limit_skips.fetch_add(1, std::memory_order_relaxed);
  progress.note(target, std::string(why));
  progress.last = &target;
  if (*wait != std::chrono::nanoseconds::max()) {
    const auto ms = std::chrono::ceil<milliseconds>(*wait);
    if (!progress.shortest_retry_after || ms < *progress.shortest_retry_after)
      progress.shortest_retry_after = ms;
  }
  co_return Slot{false, false};
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

Awaitable<void> Dispatcher::run_detached(Attempt& a, Timer& wake) {
  try {
    co_await attempt(a);
  } catch (const std::exception& e) {
    a.fail({Fault::protocol, upstream::Timeout::none, std::string("internal error: ") + e.what()});
  }
  a.finished = true;
  wake.cancel();
}

Awaitable<void> Dispatcher::sleep(milliseconds delay, request::Cancellation& cancel) {
  Timer timer(ex_);
  timer.expires_after(delay);
  cancel.watch(&timer);
  co_await timer.async_wait(as_result);
  cancel.unwatch(&timer);
}

Dispatcher::Next Dispatcher::conclude(Attempt& a, Progress& progress, bool more_targets) {
  const auto now = SteadyClock::now();
  book_health(a, now);
  reconcile_tokens(a);
  book_hedge(a);
  book_record(a, progress.context.record, now);
  if (a.responded) {
    progress.result.responded = true;
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
  DispatchResult result;
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
    result.error = api::errors::deadline_exceeded(route.name, std::move(progress.summary));
    return result;
  }
  // When the last target refused for a reason of its own kind — the prompt does not fit, a
  // content policy, the model or key unknown there — the client learns that reason, in OpenAI's
  // terms; outages and overloads are summed up instead.
  if (progress.last_error && progress.last_error->error_class != ErrorClass::retryable) {
    result.error = std::move(progress.last_error->error);
    if (record.attempts.size() > 1) result.error.message += " (tried: " + progress.summary + ")";
    return result;
  }
  auto kind = progress.kind;
  if (progress.all_rate_limited && progress.last) kind = api::errors::UpstreamFailure::rate_limited;
  if (!progress.last && progress.summary.empty()) progress.summary = "no target could be tried";
  result.error =
      api::errors::all_targets_failed(kind, route.name, std::move(progress.summary), retry_after_s);
  return result;
}

}  // namespace switchyard::dispatch
