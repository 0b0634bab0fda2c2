// A gateway key's own limits at request time: its spend budget, requests per minute and tokens
// per minute. Taken before dispatch (refusing with 429 and OpenAI's x-ratelimit-* headers),
// reconciled after it with the usage the provider reported.
#pragma once

#include <cstdint>
#include <memory>
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
  std::unique_ptr<state::Reservation> budget_hold;  // when the key has a budget
  std::uint64_t tokens_taken = 0;  // of the key's tpm, to be corrected to the usage
  bool tokens_shared = false;      // ... in Redis (LimitKeeper::Taken::shared)
};

// The request's key's limits, as one step of serving it. Without a key (or with a key that has
// no limits) both calls do nothing.
class KeyLimits {
 public:
  KeyLimits(const Services& services, request::Context& request);
  // Estimates the request's tokens where a limit counts them (the key's tpm, the route's
  // providers' tpm): into `job`; and its worst-case cost when the key has a budget.
  void estimate(dispatch::DispatchRequest& job);
  // Whether the key has limits to take (else admit() need not be called).
  bool active() const { return quota_ != nullptr; }
  // Takes what the key's limits allow, the budget's reservation held for `hold_for`; false when
  // they refuse (the client has been answered).
  Awaitable<bool> admit(const dispatch::DispatchRequest& job, config::Millis hold_for);
  // After dispatch: charges the cost and corrects the tokens to the usage (`served`: an upstream
  // answered; when none did, the estimate goes back).
  void reconcile(bool served);

 private:
  const Services& services_;
  request::Context& request_;
  state::KeyCounts* quota_ = nullptr;
  KeyAdmission admission_;
  double worst_usd_ = 0;
};

// Why a budget has no room, as messages say it after the route or key's name: "spent its budget
// ($0.05 of $0.05 per day)", or, when the request's worst case does not fit beside the spend and
// what requests in flight hold, "has no room in its budget for this request ($0.04 of $0.05 per
// day spent, $0.008 held by requests in flight; it may cost up to $0.003)".
std::string describe_spend(const state::SpendWindows::Exhausted& spent);
// What a request settles a budget reservation with: its reported cost and, when a hedge raced
// it, the worst case of the attempt that lost — billed by its provider, never reported.
double settled_cost(const state::Reservation& hold, const telemetry::RequestRecord& record);
// The capped windows of a budget as the admin API shows them: [{window, spent_usd, cap_usd}].
nlohmann::ordered_json windows_json(const state::SpendWindows& spend,
                                    std::chrono::system_clock::time_point now);
// A wait as OpenAI's x-ratelimit-reset-* headers write it: "250ms", "6s", "1m30s", "2h0m0s".
std::string format_reset(std::chrono::nanoseconds wait);

}  // namespace switchyard::handlers
