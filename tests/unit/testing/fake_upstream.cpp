#include "fake_upstream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace switchyard::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Json = nlohmann::json;

Reply Reply::completion(std::string_view text, std::string_view model) {
  const Json body = {
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", model},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", text}}},
         {"finish_reason", "stop"}}}},
      {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
  return Reply{200, body.dump()};
}

Reply Reply::stream(const std::vector<std::string>& pieces, std::string_view model) {
  const auto chunk = [&](const Json& delta, const Json& finish) {
    const Json c = {{"id", "chatcmpl-fake"},
                    {"object", "chat.completion.chunk"},
                    {"created", 1700000000},
                    {"model", model},
                    {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
    return "data: " + c.dump() + "\n\n";
  };
  Reply reply{200, {}, "text/event-stream"};
  reply.events.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  for (const auto& piece : pieces) reply.events.push_back(chunk({{"content", piece}}, nullptr));
  reply.events.push_back(chunk(Json::object(), "stop"));
  reply.events.push_back("data: [DONE]\n\n");
  return reply;
}

Reply Reply::error(int status, std::string_view message) {
  const Json body = {
      {"error", {{"message", message}, {"type", "server_error"}, {"code", nullptr}}}};
  return Reply{status, body.dump()};
}

FakeUpstream::FakeUpstream(asio::io_context& io)
    : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  accept();
}

FakeUpstream::~FakeUpstream() = default;

std::string FakeUpstream::url() const {
  return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
}

void FakeUpstream::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;
    serve(std::make_shared<tcp::socket>(std::move(socket)));
    accept();
  });
}

namespace {

std::string head(const Reply& reply) {
  std::string text = "HTTP/1.1 " + std::to_string(reply.status) +
                     " Fake\r\ncontent-type: " + reply.content_type + "\r\n";
  for (const auto& [name, value] : reply.headers) text += name + ": " + value + "\r\n";
  if (reply.events.empty()) {
    text += "content-length: " + std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
  } else {
    text += "transfer-encoding: chunked\r\n\r\n";
  }
  return text;
}

std::string chunk(std::string_view data) {
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size, static_cast<std::size_t>(n)) + std::string(data) + "\r\n";
}

}  // namespace

void FakeUpstream::serve(std::shared_ptr<tcp::socket> socket) {
  asio::co_spawn(
      io_,
      [this, socket]() -> asio::awaitable<void> {
        boost::beast::flat_buffer buffer;
        for (;;) {
          http::request<http::string_body> request;
          auto [read_error, n] = co_await http::async_read(*socket, buffer, request,
                                                           asio::as_tuple(asio::use_awaitable));
          if (read_error) co_return;
          Seen seen{std::string(request.method_string()),
                    std::string(request.target()),
                    {},
                    request.body()};
          for (const auto& field : request) {
            std::string name(field.name_string());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            seen.headers[name] = std::string(field.value());
          }
          seen_.push_back(std::move(seen));
          Reply reply = Reply::error(500, "the fake upstream's script has ended");
          if (!script_.empty()) {
            reply = std::move(script_.front());
            script_.pop_front();
          }
          if (reply.delay.count() > 0) {
            asio::steady_timer timer(io_, reply.delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          if (reply.drop) co_return;
          const std::string response = reply.raw.empty() ? head(reply) : reply.raw;
          auto [write_error, written] = co_await asio::async_write(
              *socket, asio::buffer(response), asio::as_tuple(asio::use_awaitable));
          if (write_error) co_return;
          if (reply.events.empty()) continue;
          for (const auto& event : reply.events)
            co_await asio::async_write(*socket, asio::buffer(chunk(event)),
                                       asio::as_tuple(asio::use_awaitable));
          if (reply.cut) co_return;
          co_await asio::async_write(*socket, asio::buffer(std::string("0\r\n\r\n")),
                                     asio::as_tuple(asio::use_awaitable));
        }
      },
      asio::detached);
}

}  // namespace switchyard::testing
