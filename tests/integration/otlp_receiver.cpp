#include "otlp_receiver.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "switchyard/async.hpp"

namespace switchyard::testing {

namespace http = beast::http;

std::string Received::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct OtlpReceiver::Impl {
  Impl() {
    const asio::ip::tcp::endpoint any_port(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(any_port.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(any_port);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    gate.expires_at(Timer::time_point::max());
    asio::co_spawn(io.get_executor(), accept_loop(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  Awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(as_result);
      if (ec) co_return;
      asio::co_spawn(io.get_executor(), session(std::move(socket)), asio::detached);
    }
  }

  Awaitable<void> session(Socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [rec, read] = co_await http::async_read(socket, buffer, parser, as_result);
      if (rec) co_return;
      const auto& request = parser.get();
      record(request);
      // Checked and waited for in one step on this thread; release_responses() clears the flag
      // before it posts the cancel, so no wake-up is lost.
      while (held.load()) co_await gate.async_wait(as_result);

      http::response<http::string_body> response{static_cast<http::status>(status.load()),
                                                 request.version()};
      response.set(http::field::content_type, "application/json");
      response.body() = "{}";
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [wec, written] = co_await http::async_write(socket, response, as_result);
      if (wec || !response.keep_alive()) co_return;
    }
  }

  void record(const http::request<http::string_body>& request) {
    Received r;
    r.method = std::string(request.method_string());
    r.target = std::string(request.target());
    for (const auto& field : request) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    r.body = request.body();
    {
      std::lock_guard lock(mutex);
      requests.push_back(std::move(r));
    }
    arrived.notify_all();
  }

  // Declared first: destroyed last, after the sockets, timers and coroutines that use it.
  asio::io_context io{1};
  Acceptor acceptor{io.get_executor()};
  Timer gate{io.get_executor()};  // never expires; cancelled to release held responses
  std::atomic<bool> held{false};
  std::atomic<int> status{200};
  int port = 0;
  std::thread thread;

  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::vector<Received> requests;
};

OtlpReceiver::OtlpReceiver() : impl_(std::make_unique<Impl>()) {}

OtlpReceiver::~OtlpReceiver() {
  impl_->io.stop();
  impl_->thread.join();
}

int OtlpReceiver::port() const {
  return impl_->port;
}

std::string OtlpReceiver::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/v1/traces";
}

std::vector<Received> OtlpReceiver::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

bool OtlpReceiver::wait_for(const std::function<bool(const std::vector<Received>&)>& condition,
                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, timeout, [&] { return condition(impl_->requests); });
}

void OtlpReceiver::respond_with(int status) {
  impl_->status.store(status);
}

void OtlpReceiver::hold_responses() {
  impl_->held.store(true);
}

void OtlpReceiver::release_responses() {
  impl_->held.store(false);
  asio::post(impl_->io, [impl = impl_.get()] { impl->gate.cancel(); });
}

namespace {

using nlohmann::json;

// An OTLP AnyValue ({"stringValue": "x"}, {"intValue": "42"}, …) as a plain JSON value.
json plain_value(const json& any_value) {
  if (any_value.contains("intValue")) {
    const json& v = any_value["intValue"];
    return v.is_string() ? json(std::stoll(v.get<std::string>())) : v;
  }
  for (const char* kind : {"stringValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue"})
    if (any_value.contains(kind)) return any_value[kind];
  return nullptr;
}

json flat_attributes(const json& owner) {
  json flat = json::object();
  if (owner.contains("attributes"))
    for (const auto& a : owner["attributes"])
      flat[a.at("key").get<std::string>()] = plain_value(a.at("value"));
  return flat;
}

}  // namespace

std::vector<json> otlp_spans(const std::string& body) {
  std::vector<json> spans;
  const json doc = json::parse(body);
  for (const auto& resource_spans : doc.at("resourceSpans")) {
    const json resource = flat_attributes(resource_spans.value("resource", json::object()));
    for (const auto& scope_spans : resource_spans.at("scopeSpans")) {
      const json scope = scope_spans.value("scope", json::object()).value("name", "");
      for (const auto& span : scope_spans.at("spans")) {
        json flat = span;
        flat["resource"] = resource;
        flat["scope"] = scope;
        flat["attrs"] = flat_attributes(span);
        spans.push_back(std::move(flat));
      }
    }
  }
  return spans;
}

std::vector<json> otlp_spans(const std::vector<Received>& requests) {
  std::vector<json> spans;
  for (const auto& r : requests) {
    auto some = otlp_spans(r.body);
    spans.insert(spans.end(), std::make_move_iterator(some.begin()),
                 std::make_move_iterator(some.end()));
  }
  return spans;
}

}  // namespace switchyard::testing
