// One client connection: reads requests one after another (keep-alive, pipelined bytes kept in
// the buffer), enforces the size and time limits with OpenAI-shaped errors, and hands each
// request to the worker's Gateway. Lives in the coroutine frame of run().
#pragma once

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cstddef>
#include <optional>

#include "switchyard/request/http.hpp"
#include "switchyard/server/responder.hpp"
#include "switchyard/socket_deadline.hpp"
#include "worker.hpp"

namespace switchyard::server {

class Session : public SessionHook {
 public:
  Session(Worker& worker, Socket socket);
  ~Session();

  Awaitable<void> run();
  // Shutdown began: a session waiting for its next request closes now.
  void on_drain();
  // The drain is over: shut the connection down under whatever is running on it.
  void shut_down();
  // Starts watching for the client hanging up, if a request is being served.
  void arm_client_watch() { responder_.arm_watch(); }

 private:
  // Reads the next request into request_. False when the connection should end; a response
  // explaining why has been sent where one is due.
  Awaitable<bool> read_request();
  // Answers a request that could not be read with the error `ec` calls for. Its own coroutine:
  // the frame of every read_request() would otherwise carry room for the error and its log
  // record (1.4 KiB), past what Asio recycles.
  Awaitable<void> refuse(beast::error_code ec);

  // Feeds the buffered bytes to the parser, making room for the body as it comes; need_more is
  // not an error.
  beast::error_code parse_buffered();

  Worker& worker_;
  TcpStream stream_;
  // The idle and read timeouts. Beast's stream timeouts close the socket, which would leave no
  // way to send the 408 a stalled client is owed; this cancels the read instead.
  SocketDeadline read_deadline_;
  beast::flat_buffer buffer_;
  request::HttpRequest request_;
  std::optional<http1::Parser> parser_;
  Responder responder_;
  bool idle_ = true;                 // waiting for the first byte of a request
  boost::asio::ip::address client_;  // the peer's address
  // Accepted past max_connections or max_connections_per_client: answer 503 and close.
  std::optional<api::ApiError> over_limit_;
};

// Runs a session for an accepted socket on the worker's thread.
Awaitable<void> serve_connection(Worker& worker, Socket socket);

}  // namespace switchyard::server
