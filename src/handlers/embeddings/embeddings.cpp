#include "embeddings.hpp"

#include "switchyard/api/embeddings_request.hpp"

namespace switchyard::handlers {

Awaitable<void> Embeddings::handle(request::Context& request) {
  auto parsed = api::parse_embeddings_request(request.http.body());
  if (!parsed) {
    co_await request.refuse(parsed.error());
    co_return;
  }
  const auto& embeddings = *parsed;
  dispatch::DispatchRequest job{embeddings.model()};
  job.embeddings = &embeddings;
  co_await inference_.serve(job, request);
}

}  // namespace switchyard::handlers
