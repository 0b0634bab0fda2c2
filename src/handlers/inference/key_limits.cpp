#include "key_limits.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "switchyard/routing/complexity.hpp"
#include "switchyard/routing/cost.hpp"

namespace switchyard::handlers {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::array<std::string_view, config::kWindowCount> kPer{"minute", "hour", "day", "month"};

int whole_seconds(std::chrono::nanoseconds wait) {
  return static_cast<int>(
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count()));
}

void add_usage_headers(request::ResponseSink& response, std::string_view kind,
                       const state::RateLimiter::Usage& usage) {
  const std::string suffix(kind);
  response.add_header("x-ratelimit-limit-" + suffix, std::to_string(usage.limit));
  response.add_header("x-ratelimit-remaining-" + suffix, std::to_string(usage.remaining));
  response.add_header("x-ratelimit-reset-" + suffix, format_reset(usage.reset));
}

// "Rate limit reached for key 'team-a' on requests per minute (RPM): Limit 60. Please try again
// in 1s." — OpenAI's wording, with the gateway key's name in place of the organization.
std::string rate_limit_message(const config::GatewayKey& key, std::string_view what,
                               std::uint64_t limit, std::string_view detail) {
  return "Rate limit reached for key '" + key.name + "' on " + std::string(what) + ": Limit " +
         std::to_string(limit) + std::string(detail);
}

}  // namespace

std::string describe_spend(const state::SpendWindows::Exhausted& spent) {
  std::string text = "$" + routing::format_usd(spent.spent_usd) + " of $" +
                     routing::format_usd(spent.cap_usd) + " per " +
                     std::string(kPer[static_cast<std::size_t>(spent.window)]);
  if (spent.held_usd <= 0 && spent.spent_usd >= spent.cap_usd)
    return "spent its budget (" + text + ")";
  text += " spent";
  if (spent.held_usd > 0)
    text += ", $" + routing::format_usd(spent.held_usd) + " held by requests in flight";
  return "has no room in its budget for this request (" + text + "; it may cost up to $" +
         routing::format_usd(spent.need_usd) + ")";
}

double settled_cost(const state::Reservation& hold, const telemetry::RequestRecord& record) {
  if (!record.usage_reported) return 0;
  return record.cost_usd + (record.hedged ? static_cast<double>(hold.micro() / 2) / 1e6 : 0);
}

std::string format_reset(std::chrono::nanoseconds wait) {
  const auto ms =
      std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  if (ms < 1000) return std::to_string(ms) + "ms";
  const auto h = ms / 3'600'000;
  const auto m = ms / 60'000 % 60;
  const auto s = ms / 1000 % 60;
  auto frac = ms % 1000;
  std::string text;
  if (h > 0) text += std::to_string(h) + "h";
  if (h > 0 || m > 0) text += std::to_string(m) + "m";
  text += std::to_string(s);
  if (frac > 0) {
    std::string digits = std::to_string(1000 + frac).substr(1);
    while (digits.back() == '0') digits.pop_back();
    text += "." + digits;
  }
  return text + "s";
}

nlohmann::ordered_json windows_json(const state::SpendWindows& spend,
                                    std::chrono::system_clock::time_point now) {
  nlohmann::ordered_json windows = nlohmann::ordered_json::array();
  for (std::size_t w = 0; w < config::kWindowCount; ++w) {
    const auto window = static_cast<config::Window>(w);
    if (spend.cap(window) <= 0) continue;
    windows.push_back({{"window", config::budget_key(window)},
                       {"spent_usd", spend.spent(window, now)},
                       {"cap_usd", spend.cap(window)}});
  }
  return windows;
}

namespace {

// What the key's budget reserves: the request's worst-case cost, until its deadline.
struct Hold {
  double worst_usd = 0;
  std::chrono::milliseconds ttl{0};
};

// Where the key's counts are kept across replicas (state::SharedState names).
std::string key_limit(const config::GatewayKey& key, std::string_view what) {
  return "key:" + key.name + (what.empty() ? "" : ":") + std::string(what);
}

// `tokens`: the request's estimated prompt tokens plus its output cap (0 when the key has no
// tpm). Adds the x-ratelimit-* headers of the key's limits to `response` whatever the outcome. The
// counts are the replicas' shared ones when `limit_keeper` has Redis.
Awaitable<KeyAdmission> admit_key(const config::GatewayKey& key, state::KeyCounts& quota,
                                  std::uint64_t tokens, const Hold& hold,
                                  request::ResponseSink& response,
                                  state::LimitKeeper& limit_keeper) {
  KeyAdmission admission;
  if (quota.budget.capped()) {
    auto reserved = co_await limit_keeper.reserve(key_limit(key, ""), quota.budget, key.budget,
                                                  hold.worst_usd, hold.ttl);
    if (const auto& spent = reserved.refusal) {
      admission.refusal = api::errors::budget_exceeded(
          "The key '" + key.name + "' " + describe_spend(*spent) + ". Try again in " +
              format_reset(spent->retry_after) + ".",
          whole_seconds(spent->retry_after));
      co_return admission;
    }
    admission.budget_hold = std::make_unique<state::Reservation>(std::move(reserved.reservation));
  }
  const std::string rpm = key_limit(key, "rpm");
  bool request_shared = false;
  if (quota.requests.limited()) {
    const auto taken = co_await limit_keeper.take(rpm, quota.requests, 1);
    request_shared = taken.shared;
    add_usage_headers(response, "requests", taken.take.usage);
    if (!taken.take.granted) {
      admission.refusal = api::errors::rate_limited(
          "requests",
          rate_limit_message(key, "requests per minute (RPM)", key.rpm,
                             ". Please try again in " + format_reset(taken.take.wait) + "."),
          whole_seconds(taken.take.wait));
      co_return admission;
    }
  }
  if (quota.tokens.limited()) {
    if (tokens > quota.tokens.limit()) {
      // OpenAI's "Request too large": no wait makes it fit.
      admission.refusal = api::errors::rate_limited(
          "tokens",
          rate_limit_message(key, "tokens per minute (TPM)", key.tpm,
                             ", Requested " + std::to_string(tokens) +
                                 " (estimated prompt tokens plus max_tokens). Request too large: "
                                 "lower max_tokens or shorten the prompt."),
          0);
      response.add_header("x-should-retry", "false");
      add_usage_headers(response, "tokens", quota.tokens.usage(SteadyClock::now()));
    } else {
      const std::string tpm = key_limit(key, "tpm");
      const auto taken = co_await limit_keeper.take(tpm, quota.tokens, tokens);
      if (!taken.take.granted) {
        admission.refusal = api::errors::rate_limited(
            "tokens",
            rate_limit_message(key, "tokens per minute (TPM)", key.tpm,
                               ", Requested " + std::to_string(tokens) + ". Please try again in " +
                                   format_reset(taken.take.wait) + "."),
            whole_seconds(taken.take.wait));
      } else {
        admission.tokens_taken = tokens;
        admission.tokens_shared = taken.shared;
      }
      add_usage_headers(response, "tokens", taken.take.usage);
    }
    // A refused request must not cost the key a request slot.
    if (admission.refusal && quota.requests.limited())
      limit_keeper.give_back(request_shared, rpm, quota.requests, 1);
  }
  co_return admission;
}

// Charges the request's cost to the key's budget and corrects its tpm to the reported usage
// (or gives the estimate back when no upstream answered).
void reconcile_key(const config::GatewayKey& key, state::KeyCounts& quota,
                   const KeyAdmission& admission, const telemetry::RequestRecord& record,
                   bool served, state::LimitKeeper& limit_keeper) {
  if (admission.budget_hold)
    limit_keeper.settle(*admission.budget_hold, settled_cost(*admission.budget_hold, record));
  const std::uint64_t taken = admission.tokens_taken;
  if (taken == 0) return;
  const std::uint64_t used = record.usage_reported ? record.prompt_tokens + record.completion_tokens
                                                   : (served ? taken : 0);
  limit_keeper.reconcile(admission.tokens_shared, key_limit(key, "tpm"), quota.tokens, taken, used);
}

}  // namespace

KeyLimits::KeyLimits(const Services& services, request::Context& request)
    : services_(services), request_(request) {
  if (request.key) {
    const auto index = static_cast<std::size_t>(request.key - services.config.keys.data());
    quota_ = &services.limit_counts.key(index);
  }
}

void KeyLimits::estimate(dispatch::DispatchRequest& job) {
  const bool key_counts_tokens = quota_ && quota_->tokens.limited();
  const bool key_budget = quota_ && quota_->budget.capped();
  if (!job.embeddings && (key_counts_tokens || key_budget || job.route->counts_tokens)) {
    const api::ChatRequest* chat = job.chat_view();
    if (!chat) return;  // a malformed Messages request: its upstream refuses it
    const auto signals = routing::read_signals(chat->body());
    job.estimated_tokens = signals.prompt_tokens + signals.max_output_tokens;
    if (key_budget)
      worst_usd_ =
          routing::worst_cost_usd(*job.route, signals.prompt_tokens, signals.max_output_tokens);
  }
}

Awaitable<bool> KeyLimits::admit(const dispatch::DispatchRequest& job, config::Millis hold_for) {
  const bool key_counts_tokens = quota_->tokens.limited();
  const auto begun = telemetry::Clock::now();
  admission_ =
      co_await admit_key(*request_.key, *quota_, key_counts_tokens ? job.estimated_tokens : 0,
                         Hold{worst_usd_, hold_for}, request_.response(), services_.limit_keeper);
  request_.record.phase(services_.limits_in_redis ? "redis.key_limits" : "key_limits", begun,
                        admission_.refusal ? "refused" : "admitted");
  if (!admission_.refusal) co_return true;
  co_await request_.refuse(*admission_.refusal);
  co_return false;
}

void KeyLimits::reconcile(bool served) {
  if (quota_)
    reconcile_key(*request_.key, *quota_, admission_, request_.record, served,
                  services_.limit_keeper);
}

}  // namespace switchyard::handlers
