// POST /v1/chat/completions: reads the body in one validating pass (no DOM) and serves it.
#pragma once

#include "../inference/inference.hpp"
#include "switchyard/handlers/handler.hpp"

namespace switchyard::handlers {

class Chat final : public Handler {
 public:
  static constexpr std::string_view kName = "chat";
  explicit Chat(Services& services) : services_(services), inference_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  Services& services_;
  Inference inference_;
};

}  // namespace switchyard::handlers
