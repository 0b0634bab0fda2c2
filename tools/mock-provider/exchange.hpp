// One request to a scripted endpoint and its response as it goes out. Every byte sent and every
// way the response can end goes through here, so the request log (/_mock/requests) and the
// stream counters (/_mock/stats) always say exactly what the peer received.
#pragma once

#include "mock_stats.hpp"
#include "response_channel.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>

namespace switchyard::mock {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// A response to `request` with a JSON body, keeping the connection alive if the request did.
Response json_response(const Request& request, int status, std::string body);

class Exchange {
 public:
  // Logs the request; the log entry is then updated as the response progresses.
  Exchange(const Request& request, std::string_view path, ResponseChannel& channel,
           MockStats& stats);

  const Request& request() const { return request_; }
  // Unique for the mock's lifetime (it survives /_mock/reset), for ids like Anthropic's
  // request_id that must differ between requests.
  std::uint64_t number() const { return recorded_.id; }
  // The request's place among the mock's scripted requests since start-up or the last
  // /_mock/reset, from 1 (x-mock-delay-percent spreads delays over these).
  std::uint64_t sequence() const { return recorded_.seq; }

  // A whole response at once.
  boost::asio::awaitable<ConnectionFate> send(Response response);

  // A streamed response: head, events, end. Each returns false when the peer is gone; the
  // caller then returns peer_gone().
  boost::asio::awaitable<bool> start_stream(
      boost::beast::http::response<boost::beast::http::empty_body>& head);
  boost::asio::awaitable<bool> send_event(std::string_view event);
  boost::asio::awaitable<ConnectionFate> end_stream();

  boost::asio::awaitable<bool> sleep_watching_peer(std::chrono::milliseconds delay) {
    return channel_.sleep_watching_peer(delay);
  }
  // From now on every byte of the response, head included, goes out on its own, `gap` apart.
  void trickle(std::chrono::milliseconds gap) { channel_.trickle(gap); }

  // The response ends without being completed; the session must cut the connection.
  ConnectionFate peer_gone();
  ConnectionFate drop();

 private:
  ConnectionFate end_incomplete(ResponseEnd end);

  const Request& request_;
  ResponseChannel& channel_;
  MockStats& stats_;
  const MockStats::Recorded recorded_;
  bool streaming_ = false;
  bool keep_alive_ = false;
};

}  // namespace switchyard::mock
