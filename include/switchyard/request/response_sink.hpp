// Where a request's answer goes: a whole response, or a stream of chunks. The server's
// connection implements it; a handler may wrap it to add a header at the moment the head is
// written or to keep a copy of the body (SinkWrapper). Everything below the server writes to a
// client through this interface only, which is also what lets the handlers and the dispatcher be
// tested against a fake client.
#pragma once

#include <cstdint>
#include <string_view>

#include "switchyard/api/error.hpp"
#include "switchyard/async.hpp"

namespace switchyard::request {

class Cancellation;

class ResponseSink {
 public:
  // The id the response carries in x-request-id.
  virtual std::string_view request_id() const = 0;
  // Adds a header to the response not yet begun. `name` must be a literal or outlive the head.
  virtual void add_header(std::string_view name, std::string_view value) = 0;
  // The connection closes after this response.
  virtual void close_after() = 0;
  // The head went out: the response can no longer be replaced.
  virtual bool committed() const = 0;
  // A write to the client failed: it is gone, nothing more can be sent.
  virtual bool failed() const = 0;
  virtual int status() const = 0;
  virtual std::uint64_t bytes_sent() const = 0;

  // A whole response. False when the client could not be written to.
  virtual Awaitable<bool> send(int status, std::string_view content_type,
                               std::string_view body) = 0;
  // An error in the client's API's shape, with retry-after when it names one.
  Awaitable<bool> send_error(const api::ApiError& error,
                             api::Dialect dialect = api::Dialect::openai);

  // A streamed response: the head, then chunks, then the end. Each chunk is written before the
  // call returns, which is what makes a slow client slow the upstream read.
  virtual Awaitable<bool> begin_stream(int status, std::string_view content_type) = 0;
  virtual Awaitable<bool> write_chunk(std::string_view data) = 0;
  virtual Awaitable<bool> end_stream() = 0;

  // While a request is served: when the client hangs up, `cancel` is aborted (within a worker
  // tick). Registering is free; the sink decides when to start watching the socket.
  virtual void watch_client(Cancellation& cancel) = 0;
  virtual void unwatch_client() = 0;

 protected:
  ~ResponseSink() = default;
};

// A sink that passes everything to another one; a subclass overrides what it adds to.
class SinkWrapper : public ResponseSink {
 public:
  explicit SinkWrapper(ResponseSink& inner) : inner_(inner) {}
  std::string_view request_id() const override { return inner_.request_id(); }
  void add_header(std::string_view name, std::string_view value) override {
    inner_.add_header(name, value);
  }
  void close_after() override { inner_.close_after(); }
  bool committed() const override { return inner_.committed(); }
  bool failed() const override { return inner_.failed(); }
  int status() const override { return inner_.status(); }
  std::uint64_t bytes_sent() const override { return inner_.bytes_sent(); }
  // Plain functions handing on the inner sink's awaitable: no coroutine frame of their own.
  Awaitable<bool> send(int status, std::string_view content_type, std::string_view body) override {
    return inner_.send(status, content_type, body);
  }
  Awaitable<bool> begin_stream(int status, std::string_view content_type) override {
    return inner_.begin_stream(status, content_type);
  }
  Awaitable<bool> write_chunk(std::string_view data) override { return inner_.write_chunk(data); }
  Awaitable<bool> end_stream() override { return inner_.end_stream(); }
  void watch_client(Cancellation& cancel) override { inner_.watch_client(cancel); }
  void unwatch_client() override { inner_.unwatch_client(); }

 protected:
  ~SinkWrapper() = default;
  ResponseSink& inner_;
};

}  // namespace switchyard::request
