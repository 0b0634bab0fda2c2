// A server of transport sse: MCP's HTTP+SSE transport of revision 2024-11-05, which servers not
// yet on Streamable HTTP still speak. The gateway opens the server's event stream (GET url); its
// first event, `endpoint`, names where messages go (POST, answered 202), and everything the
// server sends, answers included, comes on that one stream. It serves every client session; when
// it ends the link opens another (with the restart backoff) and initializes the server again.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "links.hpp"
#include "streamed_link.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
using telemetry::Level;
using telemetry::log_event;

// Where the server's `endpoint` event says to POST: a path on the configured origin. An absolute
// URL elsewhere is refused (the configured headers are credentials), as is a relative one the
// gateway would have to guess at.
std::optional<std::string> endpoint_target(const config::Url& url, std::string_view endpoint) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (!endpoint.starts_with(scheme)) continue;
    const std::string_view rest = endpoint.substr(scheme.size());
    const auto slash = rest.find('/');
    if ((scheme == "https://") != url.tls || rest.substr(0, slash) != url.authority)
      return std::nullopt;
    return slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  }
  if (!endpoint.starts_with('/')) return std::nullopt;
  return std::string(endpoint);
}

class SseLink final : public StreamedLink {
 public:
  SseLink(Executor executor, const config::McpServer& config)
      : StreamedLink(executor, config),
        origin_(executor, origin_of(config, false)),
        stream_origin_(executor, origin_of(config, true)),
        backoff_(executor) {}

  void start() override {
    asio::co_spawn(executor_, connect(std::static_pointer_cast<SseLink>(shared_from_this())),
                   asio::detached);
  }

  void stop() override {
    if (stopped_) return;
    StreamedLink::stop();
    backoff_.cancel();
    if (stream_) stream_->abort();
  }

 protected:
  void start_over() override {
    if (stream_) stream_->abort();  // connect() opens the next one
  }

  Awaitable<bool> transmit(std::string message, std::string* why) override {
    if (target_.empty()) {
      *why = "not connected";
      co_return false;
    }
    const auto self = shared_from_this();
    const std::string head = request_head(config_, target_, message.size());
    upstream::Exchange exchange(origin_, Clock::now() + config_.timeout);
    const std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(message)};
    const upstream::Failure failure = co_await exchange.send(request);
    if (failure) {
      *why = failure.detail;
      co_return false;
    }
    const int status = exchange.status();
    std::string ignored;
    co_await exchange.read_body(ignored, kMaxMessage);
    if (status < 200 || status > 299) {
      *why = "answered a message with HTTP " + std::to_string(status);
      co_return false;
    }
    co_return true;
  }

 private:
  // Opens the server's stream, reads it, and opens it again, until stopped.
  static Awaitable<void> connect(std::shared_ptr<SseLink> self) {
    Millis backoff = kFirstBackoff;
    const config::McpServer& c = self->config_;
    while (!self->stopped_) {
      const std::string head = request_head(c, c.url.path.empty() ? "/" : c.url.path, std::nullopt);
      upstream::Exchange exchange(self->stream_origin_);
      self->stream_ = &exchange;
      const auto began = Clock::now();
      const std::array<asio::const_buffer, 1> request{asio::buffer(head)};
      std::string why;
      const upstream::Failure failure = co_await exchange.send(request);
      if (failure) {
        why = failure.detail;
      } else if (exchange.status() != 200 || !exchange.is_event_stream()) {
        why = "answered its stream's GET with HTTP " + std::to_string(exchange.status());
      } else {
        self->stream_began();
        const EventHandler handle = [&self](std::string_view name, std::string_view data) {
          self->on_event(name, data);
          return true;
        };
        const StreamEnd end = co_await read_events(exchange, handle);
        why = end.failure ? end.failure.detail : end.why;
      }
      self->stream_ = nullptr;
      self->target_.clear();
      self->stream_ended(self->name() + ": " + why);
      if (self->stopped_) break;
      // A stream that was open a while ended normally (the server's or a proxy's limit).
      if (Clock::now() - began > kMaxBackoff) backoff = kFirstBackoff;
      log_event(Level::warn, "mcp_server_down",
                self->name() + ": " + why + "; reconnecting in " + std::to_string(backoff.count()) +
                    " ms");
      self->backoff_.expires_after(backoff);
      co_await self->backoff_.async_wait(as_result);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  void on_event(std::string_view name, std::string_view data) {
    if (name != "endpoint") {
      on_message(data);
      return;
    }
    auto target = endpoint_target(config_.url, data);
    if (!target) {
      log_event(Level::error, "mcp_server_down",
                this->name() + " named an endpoint off its own origin: " + std::string(data));
      start_over();
      return;
    }
    target_ = std::move(*target);
    asio::co_spawn(
        executor_,
        [](std::shared_ptr<SseLink> self) -> Awaitable<void> {
          const bool ready = co_await self->initialize();
          if (!ready) self->start_over();
        }(std::static_pointer_cast<SseLink>(shared_from_this())),
        asio::detached);
  }

  upstream::Origin origin_;
  upstream::Origin stream_origin_;  // the event stream's: longer timeouts
  Timer backoff_;
  upstream::Exchange* stream_ = nullptr;  // while open
  std::string target_;                    // where messages go: the `endpoint` event's path
};

}  // namespace

std::shared_ptr<ServerLink> make_sse_link(Executor executor, const config::McpServer& config) {
  return std::make_shared<SseLink>(executor, config);
}

}  // namespace switchyard::mcp
