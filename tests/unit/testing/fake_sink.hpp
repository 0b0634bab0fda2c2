// A client for unit tests: a response sink that keeps what it is sent (status, headers, body or
// stream chunks) instead of writing to a socket. `fail_writes_after` makes a client that goes
// away mid-stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/request/cancellation.hpp"
#include "switchyard/request/response_sink.hpp"

namespace switchyard::testing {

class FakeSink final : public request::ResponseSink {
 public:
  std::string_view request_id() const override { return "req-test"; }
  void add_header(std::string_view name, std::string_view value) override {
    headers.emplace_back(std::string(name), std::string(value));
  }
  void close_after() override { closing = true; }
  bool committed() const override { return status_ != 0; }
  bool failed() const override { return failed_; }
  int status() const override { return status_; }
  std::uint64_t bytes_sent() const override { return body.size(); }

  Awaitable<bool> send(int status, std::string_view type, std::string_view data) override {
    status_ = status;
    content_type = type;
    body = data;
    co_return true;
  }
  Awaitable<bool> begin_stream(int status, std::string_view type) override {
    status_ = status;
    content_type = type;
    streamed = true;
    co_return true;
  }
  Awaitable<bool> write_chunk(std::string_view data) override {
    if (chunks.size() >= fail_writes_after) {
      failed_ = true;
      co_return false;
    }
    chunks.emplace_back(data);
    body += data;
    co_return true;
  }
  Awaitable<bool> end_stream() override {
    ended = true;
    co_return true;
  }
  void watch_client(request::Cancellation& cancel) override { watched = &cancel; }
  void unwatch_client() override { watched = nullptr; }

  // The value of the first header called `name`, or "" when none was added.
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return {};
  }

  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;  // the whole response, or every chunk of a stream
  std::vector<std::string> chunks;
  bool streamed = false;
  bool ended = false;
  bool closing = false;
  std::size_t fail_writes_after = static_cast<std::size_t>(-1);
  request::Cancellation* watched = nullptr;

 private:
  int status_ = 0;
  bool failed_ = false;
};

}  // namespace switchyard::testing
