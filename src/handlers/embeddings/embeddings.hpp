// POST /v1/embeddings: reads the body in one validating pass (no DOM) and serves it.
#pragma once

#include "../inference/inference.hpp"
#include "switchyard/handlers/handler.hpp"

namespace switchyard::handlers {

class Embeddings final : public Handler {
 public:
  static constexpr std::string_view kName = "embeddings";
  explicit Embeddings(Services& services) : inference_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  Inference inference_;
};

}  // namespace switchyard::handlers
