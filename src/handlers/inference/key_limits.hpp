// A gateway key's own limits at request time: its spend budget, requests per minute and tokens
// per minute. Taken before dispatch (refusing with 429 and OpenAI's x-ratelimit-* headers),
// reconciled after it with the usage the provider reported.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "switchyard/api/error.hpp"
#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/request/context.hpp"
#include "switchyard/request/response_sink.hpp"
#include "switchyard/state/limit_counts.hpp"
#include "switchyard/state/limit_keeper.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::handlers {

struct KeyAdmission {
  std::optional<api::ApiError> refusal;
  std::uint64_t tokens_taken = 0;  // of the key's tpm, to be corrected to the usage
  bool tokens_shared = false;      // ... in Redis (LimitKeeper::Taken::shared)
};

// The request's key's limits, as one step of serving it. Without a key (or with a key that has
// no limits) both calls do nothing.
class KeyLimits {
 public:
  KeyLimits(const Services& services, request::Context& request);
  // Estimates the request's tokens where a limit counts them (the key's tpm, the route's
  // providers' tpm): into `job`.
  void estimate(dispatch::DispatchRequest& job) const;
  // Whether the key has limits to take (else admit() need not be called).
  bool active() const { return quota_ != nullptr; }
  // Takes what the key's limits allow; false when they refuse (the client has been answered).
  Awaitable<bool> admit(const dispatch::DispatchRequest& job);
  // After dispatch: charges the cost and corrects the tokens to the usage (`served`: an upstream
  // answered; when none did, the estimate goes back).
  void reconcile(bool served);

 private:
  const Services& services_;
  request::Context& request_;
  state::KeyCounts* quota_ = nullptr;
  KeyAdmission admission_;
};

// How a budget's spend reads in messages: "$0.0123 of $0.05 per day".
std::string describe_spend(config::Window window, double spent_usd, double cap_usd);
// The capped windows of a budget as the admin API shows them: [{window, spent_usd, cap_usd}].
nlohmann::ordered_json windows_json(const state::SpendWindows& spend,
                                    std::chrono::system_clock::time_point now);
// A wait as OpenAI's x-ratelimit-reset-* headers write it: "250ms", "6s", "1m30s", "2h0m0s".
std::string format_reset(std::chrono::nanoseconds wait);

}  // namespace switchyard::handlers
