// GET /v1/models: the routes and model aliases a client may name, in OpenAI's list shape, or
// Anthropic's for a request with anthropic-version; a key limited to some routes sees only those.
#pragma once

#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/services.hpp"

namespace switchyard::handlers {

class Models final : public Handler {
 public:
  static constexpr std::string_view kName = "models";
  explicit Models(const Services& services) : services_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  const Services& services_;
};

}  // namespace switchyard::handlers
