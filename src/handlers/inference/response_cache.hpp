// The response cache's step of serving a chat completion: before dispatch, answer from the cache
// when the same request was answered before (replayed as SSE chunks for a streaming request);
// after it, store what the client got when that is a complete, plain answer. Every chat
// completion says what the cache did in x-switchyard-cache: hit, miss or bypass.
#pragma once

#include <chrono>
#include <string>

#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::handlers {

// Copies the body on its way to the client — a whole response, or a stream's chunks — until it
// would pass `limit` bytes; then the copy stops and overflowed() says so.
class BodyCopy final : public request::SinkWrapper {
 public:
  BodyCopy(request::ResponseSink& inner, std::size_t limit) : SinkWrapper(inner), limit_(limit) {}
  Awaitable<bool> send(int status, std::string_view content_type, std::string_view body) override {
    keep(body);
    return inner_.send(status, content_type, body);
  }
  Awaitable<bool> write_chunk(std::string_view data) override {
    keep(data);
    return inner_.write_chunk(data);
  }
  const std::string& body() const { return body_; }
  bool overflowed() const { return overflowed_; }

 private:
  void keep(std::string_view bytes) {
    if (overflowed_) return;
    if (body_.size() + bytes.size() > limit_) {
      overflowed_ = true;
      return;
    }
    body_.append(bytes);
  }
  std::string body_;
  std::size_t limit_;
  bool overflowed_ = false;
};

class ResponseCache {
 public:
  explicit ResponseCache(const Services& services) : services_(services) {}

  // With the cache on: answers from the cache when it holds this request's answer, or refuses a
  // malformed x-switchyard-cache: true when the request is done. Otherwise says whether the
  // answer will be stored (storing()).
  Awaitable<bool> answer(const dispatch::DispatchRequest& job, request::Context& request);
  // With the cache off: says so.
  static void bypass(request::Context& request);
  bool storing() const { return !key_.empty(); }
  // Stores what the client got (`copy`), when it is a whole 2xx answer.
  void store(const dispatch::DispatchRequest& job, const request::Context& request,
             const BodyCopy& copy) const;

 private:
  Awaitable<bool> look_up(const dispatch::DispatchRequest& job, request::Context& request);

  const Services& services_;
  std::string key_;  // where the answer is stored; empty: it is not
  std::chrono::milliseconds ttl_{0};
};

}  // namespace switchyard::handlers
