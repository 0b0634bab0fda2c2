// One client connection: reads requests one after another (keep-alive, pipelined bytes kept in
// the buffer), enforces the size and time limits with OpenAI-shaped errors, and hands each
// request to the worker's Gateway. Lives in the coroutine frame of run().
#pragma once

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <memory>
#include <memory_resource>
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
  // Reads the next request into parser_. False when the connection should end; a response
  // explaining why has been sent where one is due.
  Awaitable<bool> read_request();

  // Feeds the buffered bytes to the parser; need_more is not an error.
  beast::error_code parse_buffered();

  Worker& worker_;
  TcpStream stream_;
  // The idle and read timeouts. Beast's stream timeouts close the socket, which would leave no
  // way to send the 408 a stalled client is owed; this cancels the read instead.
  SocketDeadline read_deadline_;
  beast::flat_buffer buffer_;
  // The request's header fields: 2 KiB holds an SDK's usual sixteen or so (each field costs
  // about 50 bytes besides its text); more go to the heap, freed with the request.
  std::array<std::byte, 2048> arena_storage_;
  std::pmr::monotonic_buffer_resource arena_{arena_storage_.data(), arena_storage_.size()};
  std::optional<
      beast::http::request_parser<beast::http::string_body, std::pmr::polymorphic_allocator<char>>>
      parser_;
  Responder responder_;
  bool idle_ = true;  // waiting for the first byte of a request
  bool over_limit_;   // accepted past max_connections: answer 503 and close
};

// Runs a session for an accepted socket on the worker's thread.
Awaitable<void> serve_connection(Worker& worker, Socket socket);

}  // namespace switchyard::server
