#include "quota.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "switchyard/routing/cost.hpp"

namespace switchyard::gateway {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::array<std::string_view, config::kWindowCount> kPer{"minute", "hour", "day", "month"};

int whole_seconds(std::chrono::nanoseconds wait) {
  return static_cast<int>(
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(wait).count()));
}

void add_usage_headers(server::Responder& out, std::string_view kind,
                       const state::RateLimiter::Usage& usage) {
  const std::string suffix(kind);
  out.add_header("x-ratelimit-limit-" + suffix, std::to_string(usage.limit));
  out.add_header("x-ratelimit-remaining-" + suffix, std::to_string(usage.remaining));
  out.add_header("x-ratelimit-reset-" + suffix, format_reset(usage.reset));
}

// "Rate limit reached for key 'team-a' on requests per minute (RPM): Limit 60. Please try again
// in 1s." — OpenAI's wording, with the gateway key's name in place of the organization.
std::string rate_limit_message(const config::GatewayKey& key, std::string_view what,
                               std::uint64_t limit, std::string_view detail) {
  return "Rate limit reached for key '" + key.name + "' on " + std::string(what) + ": Limit " +
         std::to_string(limit) + std::string(detail);
}

}  // namespace

std::string describe_spend(config::Window window, double spent_usd, double cap_usd) {
  return "$" + routing::format_usd(spent_usd) + " of $" + routing::format_usd(cap_usd) + " per " +
         std::string(kPer[static_cast<std::size_t>(window)]);
}

std::string format_reset(std::chrono::nanoseconds wait) {
  const auto ms =
      std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count());
  if (ms < 1000) return std::to_string(ms) + "ms";
  const auto h = ms / 3'600'000;
  const auto m = ms / 60'000 % 60;
  const auto s = ms / 1000 % 60;
  auto frac = ms % 1000;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (h > 0 || m > 0) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (frac > 0) {
    std::string digits = std::to_string(1000 + frac).substr(1);
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out + "s";
}

KeyAdmission admit_key(const config::GatewayKey& key, state::KeyQuota& quota, std::uint64_t tokens,
                       server::Responder& out) {
  KeyAdmission admission;
  if (quota.budget.capped()) {
    if (const auto spent = quota.budget.exhausted(std::chrono::system_clock::now())) {
      admission.refusal = api::errors::budget_exceeded(
          "The key '" + key.name + "' has spent its budget (" +
              describe_spend(spent->window, spent->spent_usd, spent->cap_usd) + "). Try again in " +
              format_reset(spent->retry_after) + ".",
          whole_seconds(spent->retry_after));
      return admission;
    }
  }
  const auto now = SteadyClock::now();
  std::optional<std::chrono::nanoseconds> wait;
  if (quota.requests.limited()) {
    wait = quota.requests.try_acquire(now);
    add_usage_headers(out, "requests", quota.requests.usage(now));
    if (wait) {
      admission.refusal = api::errors::rate_limited(
          "requests",
          rate_limit_message(key, "requests per minute (RPM)", key.rpm,
                             ". Please try again in " + format_reset(*wait) + "."),
          whole_seconds(*wait));
      return admission;
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
      out.add_header("x-should-retry", "false");
    } else if ((wait = quota.tokens.try_acquire(now, tokens))) {
      admission.refusal = api::errors::rate_limited(
          "tokens",
          rate_limit_message(key, "tokens per minute (TPM)", key.tpm,
                             ", Requested " + std::to_string(tokens) + ". Please try again in " +
                                 format_reset(*wait) + "."),
          whole_seconds(*wait));
    } else {
      admission.tokens_taken = tokens;
    }
    add_usage_headers(out, "tokens", quota.tokens.usage(now));
    // A refused request must not cost the key a request slot.
    if (admission.refusal && quota.requests.limited()) quota.requests.give_back(1);
  }
  return admission;
}

void settle_key(state::KeyQuota& quota, const KeyAdmission& admission,
                const telemetry::RequestRecord& record, bool served) {
  if (record.usage_reported && record.cost_usd > 0 && quota.budget.capped())
    quota.budget.charge(record.cost_usd, std::chrono::system_clock::now());
  const std::uint64_t taken = admission.tokens_taken;
  if (taken == 0) return;
  const std::uint64_t used = record.usage_reported ? record.prompt_tokens + record.completion_tokens
                                                   : (served ? taken : 0);
  if (used > taken) quota.tokens.take_anyway(SteadyClock::now(), used - taken);
  if (used < taken) quota.tokens.give_back(taken - used);
}

}  // namespace switchyard::gateway
