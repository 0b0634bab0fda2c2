// The client connection's side of a response (request::ResponseSink): a whole response or a
// stream of chunks, plus a watch that learns when the client went away. One Responder per client
// connection, reused for each request on it. Heads are written by hand (no field containers)
// because every response pays for them.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/request/response_sink.hpp"

namespace switchyard::server {

class Responder final : public request::ResponseSink {
 public:
  Responder(TcpStream& stream, const config::Server& limits);

  // Called by the session before each request.
  void reset(std::string_view request_id, unsigned http_version, bool keep_alive);

  std::string_view request_id() const override { return request_id_; }
  void add_header(std::string_view name, std::string_view value) override;
  // The connection closes after this response (draining, or the client asked).
  void close_after() override { keep_alive_ = false; }
  bool keep_alive() const { return keep_alive_; }
  bool committed() const override { return committed_; }
  bool failed() const override { return failed_; }
  int status() const override { return status_; }
  std::uint64_t bytes_sent() const override { return bytes_sent_; }

  Awaitable<bool> send(int status, std::string_view content_type, std::string_view body) override;
  Awaitable<bool> begin_stream(int status, std::string_view content_type) override;
  Awaitable<bool> write_chunk(std::string_view data) override;
  Awaitable<bool> end_stream() override;

  // Bytes of a pipelined next request stay unread for the session, and end the watch.
  // Registering is free; the wait on the socket (an epoll change, a syscall) only starts with
  // arm_watch(), which the worker calls for every request in flight on its 100 ms tick: requests
  // that finish sooner never pay for it, and a client that hangs up is noticed within a tick.
  void watch_client(request::Cancellation& cancel) override;
  void arm_watch();
  void unwatch_client() override;

 private:
  void start_head(int status);
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
  // The watch's completion can run after the request (and even the session) is over, so what
  // it reaches is kept alive by the handler itself.
  struct WatchState {
    request::Cancellation* cancel = nullptr;
    bool armed = false;
  };
  std::shared_ptr<WatchState> watch_ = std::make_shared<WatchState>();
  asio::cancellation_signal unwatch_;
};

}  // namespace switchyard::server
