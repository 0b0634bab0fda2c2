// How a request handler answers its client: a whole response, or a stream of chunks; plus a
// way to learn that the client went away. One Responder per client connection, reused for
// each request on it. Heads are written by hand (no field containers) because every response
// pays for them.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/api/error.hpp"
#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::telemetry {
struct RequestRecord;
}

namespace switchyard::server {

class Responder {
 public:
  Responder(TcpStream& stream, const config::Server& limits);

  // Called by the session before each request.
  void reset(std::string_view request_id, unsigned http_version, bool keep_alive);

  std::string_view request_id() const { return request_id_; }
  // Adds a header to the response not yet begun. `name` must be a literal or outlive the head.
  void add_header(std::string_view name, std::string_view value);
  // The response head says in x-switchyard-overhead-us how long the request has taken so far
  // beyond its waits on upstreams, by `record`'s clock. Cleared by reset().
  void time_with(const telemetry::RequestRecord* record) { timing_ = record; }
  // The connection closes after this response (draining, or the client asked).
  void close_after() { keep_alive_ = false; }
  bool keep_alive() const { return keep_alive_; }
  bool committed() const { return committed_; }
  // A write to the client failed: it is gone, nothing more can be sent.
  bool failed() const { return failed_; }
  int status() const { return status_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }

  // A whole response. False when the client could not be written to.
  Awaitable<bool> send(int status, std::string_view content_type, std::string_view body);
  Awaitable<bool> send_error(const api::ApiError& error);

  // A streamed response: the head, then chunks, then the end. Each chunk is written before the
  // call returns, which is what makes a slow client slow the upstream read.
  Awaitable<bool> begin_stream(int status, std::string_view content_type);
  Awaitable<bool> write_chunk(std::string_view data);
  Awaitable<bool> end_stream();

  // Copies the body about to be sent — a whole response, or a stream's chunks — into `into`,
  // until it would pass `limit` bytes; then the copy stops and capture_overflowed() says so.
  // nullptr stops copying. For the response cache, which stores what the client got.
  void capture(std::string* into, std::size_t limit) {
    capture_ = into;
    capture_limit_ = limit;
    capture_overflowed_ = false;
  }
  bool capture_overflowed() const { return capture_overflowed_; }

  // Watches the connection while a request is being served: when the client hangs up,
  // listener->client_gone() is called (once). Bytes of a pipelined next request stay unread
  // for the session, and end the watch. Registering is free; the wait on the socket (an epoll
  // change, a syscall) only starts with arm_watch(), which the worker calls for every request
  // in flight on its 100 ms tick: requests that finish sooner never pay for it, and a client
  // that hangs up is noticed within a tick.
  class Listener {
   public:
    virtual void client_gone() = 0;

   protected:
    ~Listener() = default;
  };
  void watch_client(Listener& listener);
  void arm_watch();
  void unwatch_client();

 private:
  void start_head(int status);
  void copy_out(std::string_view body) {
    if (!capture_ || capture_overflowed_) return;
    if (capture_->size() + body.size() > capture_limit_) {
      capture_overflowed_ = true;
      return;
    }
    capture_->append(body);
  }
  Awaitable<bool> write(std::span<const asio::const_buffer> buffers);

  TcpStream& stream_;
  const config::Server& limits_;
  std::string request_id_;
  std::string extra_headers_;
  std::string head_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool committed_ = false;
  bool chunked_ = false;
  bool failed_ = false;
  int status_ = 0;
  std::uint64_t bytes_sent_ = 0;
  const telemetry::RequestRecord* timing_ = nullptr;
  std::string* capture_ = nullptr;
  std::size_t capture_limit_ = 0;
  bool capture_overflowed_ = false;
  // The watch's completion can run after the request (and even the session) is over, so what
  // it reaches is kept alive by the handler itself.
  struct WatchState {
    Listener* listener = nullptr;
    bool armed = false;
  };
  std::shared_ptr<WatchState> watch_ = std::make_shared<WatchState>();
  asio::cancellation_signal unwatch_;
};

}  // namespace switchyard::server
