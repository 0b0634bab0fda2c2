// POST /v1/messages, Anthropic's Messages API as a second front door (docs/api.md, "The Messages
// door"): the same steps as a chat completion — routes, complexity, budgets, keys, limits, cache,
// failover, hedging — with Anthropic's shapes on the client's side. An Anthropic upstream gets
// the client's request as it is; every other provider its chat equivalent.
// POST /v1/messages/count_tokens: Anthropic's own count when the route has an Anthropic target,
// else the gateway's estimate; x-switchyard-token-count says which.
#pragma once

#include "../inference/inference.hpp"
#include "switchyard/handlers/handler.hpp"

namespace switchyard::handlers {

class Messages final : public Handler {
 public:
  static constexpr std::string_view kName = "messages";
  explicit Messages(Services& services) : services_(services), inference_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  Services& services_;
  Inference inference_;
};

class CountTokens final : public Handler {
 public:
  static constexpr std::string_view kName = "count_tokens";
  explicit CountTokens(Services& services) : services_(services), inference_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  Services& services_;
  Inference inference_;
};

}  // namespace switchyard::handlers
