#include "embeddings.hpp"

#include "switchyard/api/embeddings_request.hpp"

namespace switchyard::handlers {

Awaitable<void> Embeddings::handle(request::Context& request) {
  auto parsed = api::parse_embeddings_request(request.http.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await request.refuse(*error);
    co_return;
  }
  const auto& embeddings = std::get<api::EmbeddingsRequest>(parsed);
  dispatch::DispatchRequest job{embeddings.model()};
  job.embeddings = &embeddings;
  co_await inference_.serve(job, request);
}

}  // namespace switchyard::handlers
