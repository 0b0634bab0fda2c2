// The policy loop: plan, try, and after each attempt book and decide (outcome.cpp) — retry the
// target, move to the next, hedge, or give up. The attempts themselves are in attempt.cpp.
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

using std::chrono::milliseconds;
using upstream::Fault;
using SteadyClock = std::chrono::steady_clock;

// An adaptive hedge waits for the target's p95 only once the window has this many samples.
constexpr std::uint64_t kMinHedgeSamples = 20;
constexpr auto relaxed = std::memory_order_relaxed;

}  // namespace

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
  // Only Anthropic counts tokens exactly; the caller estimates when none of them answers.
  if (request.count_tokens) {
    order.erase(std::remove_if(order.begin(), order.end(),
                               [](const routing::Target* t) {
                                 return t->provider->type != config::ProviderType::anthropic;
                               }),
                order.end());
  }
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
      // Attempts live on the heap (576 bytes, glibc's per-thread cache): in this frame they would
      // put it past the size Asio recycles, a slower malloc a request.
      const auto first = std::make_unique<Attempt>(new_attempt(progress, target));
      Attempt& a = *first;
      a.admission = admission;
      a.tokens_shared = slot.tokens_shared;
      // A hedge pairs the first try of the plan's head with the next target.
      std::unique_ptr<Attempt> b;
      if (route.hedge.enabled && !progress.hedged && n == 0 && i + 1 < order.size())
        b = std::make_unique<Attempt>(new_attempt(progress, *order[i + 1], a.number + 1));
      co_await run_hedged(a, b.get(), progress);
      const bool b_ran = b && b->hedge != nullptr;
      const Next next_a = conclude(a, progress, i + 1 < order.size());
      const Next next_b = b_ran ? conclude(*b, progress, i + 2 < order.size()) : Next::retry;
      if (b_ran) order.erase(order.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      if (progress.responded) co_return DispatchResult();
      if (next_a == Next::final_error || next_b == Next::final_error) {
        // The client's own mistake: every provider would refuse it, so it is the answer.
        const Attempt& refused = next_a == Next::final_error ? a : *b;
        add_route_headers(context.response(), request, refused.target, record.attempts.size());
        co_await context.response().send_error(refused.error->error, context.dialect);
        co_return DispatchResult();
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

}  // namespace switchyard::dispatch
