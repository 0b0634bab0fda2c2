#include "exchange.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/beast/http/field.hpp>

#include <map>

namespace switchyard::mock {
namespace {

namespace http = boost::beast::http;

std::map<std::string, std::string> logged_headers(const Request& request) {
  std::map<std::string, std::string> headers;
  for (const auto& field : request) {
    std::string name = boost::algorithm::to_lower_copy(std::string(field.name_string()));
    auto [it, inserted] = headers.try_emplace(std::move(name), field.value());
    // A repeated header reads as one with its values comma-joined (RFC 9110 §5.3).
    if (!inserted) it->second.append(", ").append(field.value());
  }
  return headers;
}

}  // namespace

Response json_response(const Request& request, int status, std::string body) {
  Response response;
  response.version(request.version());
  response.result(static_cast<unsigned>(status));
  // Beast names only the statuses it knows; a scripted 418 or 529 still needs a reason phrase.
  if (response.reason() == "<unknown-status>") response.reason("Scripted Status");
  response.set(http::field::server, "switchyard-mock");
  response.keep_alive(request.keep_alive());
  // These statuses cannot carry a body (RFC 9110 §15.3.5, §15.4.5); a test may still script
  // them, and Beast rightly refuses to serialise them with one.
  if (status != 204 && status != 304) {
    response.set(http::field::content_type, "application/json");
    response.body() = std::move(body);
  }
  response.prepare_payload();
  return response;
}

Exchange::Exchange(const Request& request, std::string_view path, ResponseChannel& channel,
                   MockStats& stats)
    : request_(request),
      channel_(channel),
      stats_(stats),
      recorded_(stats.record_request(request.method_string(), path, request.target(),
                                     logged_headers(request), request.body())) {}

boost::asio::awaitable<ConnectionFate> Exchange::send(Response response) {
  const bool sent = co_await channel_.send(response);
  if (!sent) co_return peer_gone();
  stats_.record_status(recorded_.id, static_cast<int>(response.result_int()));
  stats_.record_response_bytes(recorded_.id, response.body());
  stats_.record_end(recorded_.id, ResponseEnd::completed);
  co_return response.keep_alive() ? ConnectionFate::keep_alive : ConnectionFate::close;
}

boost::asio::awaitable<bool> Exchange::start_stream(http::response<http::empty_body>& head) {
  streaming_ = true;
  keep_alive_ = head.keep_alive();
  const bool sent = co_await channel_.send_chunked_head(head);
  if (!sent) co_return false;
  stats_.record_status(recorded_.id, static_cast<int>(head.result_int()));
  co_return true;
}

boost::asio::awaitable<bool> Exchange::send_event(std::string_view event) {
  const bool sent = co_await channel_.send_chunk(event);
  if (!sent) co_return false;
  stats_.record_response_bytes(recorded_.id, event);
  co_return true;
}

boost::asio::awaitable<ConnectionFate> Exchange::end_stream() {
  const bool sent = co_await channel_.send_last_chunk();
  if (!sent) co_return peer_gone();
  stats_.record_end(recorded_.id, ResponseEnd::completed);
  stats_.stream_ended(ResponseEnd::completed);
  co_return keep_alive_ ? ConnectionFate::keep_alive : ConnectionFate::close;
}

ConnectionFate Exchange::peer_gone() {
  return end_incomplete(ResponseEnd::aborted);
}

ConnectionFate Exchange::drop() {
  return end_incomplete(ResponseEnd::dropped);
}

ConnectionFate Exchange::end_incomplete(ResponseEnd end) {
  stats_.record_end(recorded_.id, end);
  if (streaming_) stats_.stream_ended(end);
  return ConnectionFate::cut;
}

}  // namespace switchyard::mock
