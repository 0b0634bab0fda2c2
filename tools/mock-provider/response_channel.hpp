// The connection a request arrived on, as the endpoints see it. The endpoints decide what to
// send and when; the session behind this interface knows how (plain TCP or TLS) and notices a
// peer that goes away while the endpoint is waiting.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <string_view>

namespace switchyard::mock {

// What the session does with the connection once a response is over.
enum class ConnectionFate {
  keep_alive,  // read the next request
  close,       // shut down cleanly (the response said "connection: close")
  cut,         // close at once without any shutdown: a scripted drop, or the peer is gone
};

class ResponseChannel {
 public:
  virtual ~ResponseChannel() = default;

  // Every operation returns false when the peer is gone or the write failed; the endpoint then
  // records the abort and returns ConnectionFate::cut.
  virtual boost::asio::awaitable<bool> send(
      boost::beast::http::response<boost::beast::http::string_body>& response) = 0;
  // A chunked response: the head, then each chunk written and flushed on its own, then the
  // terminating chunk.
  virtual boost::asio::awaitable<bool> send_chunked_head(
      boost::beast::http::response<boost::beast::http::empty_body>& head) = 0;
  virtual boost::asio::awaitable<bool> send_chunk(std::string_view bytes) = 0;
  virtual boost::asio::awaitable<bool> send_last_chunk() = 0;
  // Sleeps, but wakes up early and returns false when the peer closes the connection, so an
  // abandoned stream is noticed at once rather than at its next write.
  virtual boost::asio::awaitable<bool> sleep_watching_peer(std::chrono::milliseconds delay) = 0;
  // A slow-loris upstream (x-mock-trickle-ms): until the response ends, each byte is written on
  // its own, `gap` after the one before, so a client's first-byte and idle timers are tested
  // against a peer that is never quite silent.
  virtual void trickle(std::chrono::milliseconds gap) = 0;
};

}  // namespace switchyard::mock
