#include "streamed_link.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {

void StreamedLink::stop() {
  if (stopped_) return;
  ServerLink::stop();
  fail_pending(name() + " was stopped");
}

Awaitable<Reply> StreamedLink::send(std::string_view method, std::string_view params,
                                    Millis timeout, Relay* relay) {
  const auto self = shared_from_this();
  const std::uint64_t id = ++next_id_;
  const std::string id_text = std::to_string(id);
  Pending waiting(executor_);
  waiting.timer.expires_after(timeout);
  pending_.emplace(id, &waiting);
  if (relay) {
    relay->on_cancel = [this, &waiting, id_text] {
      waiting.reply = cancelled();
      waiting.timer.cancel();
      send_message(cancelled_notification(id_text, "the client cancelled the request"));
    };
  }
  std::string why;
  const bool sent = co_await transmit(api::jsonrpc::request_message(id_text, method, params), &why);
  if (sent && !waiting.reply) co_await waiting.timer.async_wait(as_result);
  pending_.erase(id);
  if (relay) relay->on_cancel = nullptr;
  if (waiting.reply) co_return std::move(*waiting.reply);
  if (!sent) co_return Reply{Reply::Status::unavailable, name() + ": " + why};
  // The server is told to stop working on what nobody waits for any more.
  send_message(cancelled_notification(id_text, "the gateway stopped waiting"));
  co_return Reply{Reply::Status::timeout, name() + " did not answer " + std::string(method) +
                                              " within " + std::to_string(timeout.count()) + " ms"};
}

void StreamedLink::send_message(std::string message, std::string) {
  asio::co_spawn(
      executor_,
      [](std::shared_ptr<ServerLink> link, std::string m) -> Awaitable<void> {
        std::string why;
        co_await static_cast<StreamedLink&>(*link).transmit(std::move(m), &why);
      }(shared_from_this(), std::move(message)),
      asio::detached);
}

Awaitable<bool> StreamedLink::initialize() {
  const auto self = shared_from_this();
  const std::uint64_t stream = streams_;
  const Reply reply = co_await send("initialize", initialize_params(), kInitializeTimeout, nullptr);
  if (stream != streams_ || stopped_) co_return false;
  auto info = accept_initialize(reply);
  if (!info) co_return false;
  send_message(api::jsonrpc::request_message({}, "notifications/initialized", {}));
  became_ready(std::move(*info));
  co_return true;
}

void StreamedLink::on_message(std::string_view text) {
  const auto message = api::jsonrpc::read_message(text);
  if (!message) {
    telemetry::log_event(telemetry::Level::debug, "mcp_server_output",
                         name() + " sent something that is not JSON-RPC");
    return;
  }
  using api::jsonrpc::Kind;
  switch (message->kind) {
    case Kind::result:
    case Kind::error: {
      std::uint64_t id = 0;
      const auto [end, ec] =
          std::from_chars(message->id.data(), message->id.data() + message->id.size(), id);
      const auto it = ec == std::errc() ? pending_.find(id) : pending_.end();
      if (it == pending_.end()) return;  // timed out already, or not ours
      it->second->reply = reply_of(*message);
      it->second->timer.cancel();
      return;
    }
    case Kind::notification:
      // One stream serves every session: a notification is about no one request.
      on_notification(*message, text, nullptr);
      return;
    case Kind::request:
      on_request(*message, sole_relay());
      return;
  }
}

void StreamedLink::stream_ended(const std::string& why) {
  set_ready(std::nullopt);
  forget_lists();
  fail_pending(why);
}

void StreamedLink::fail_pending(const std::string& why) {
  for (auto& [id, p] : pending_) {
    p->reply = Reply{Reply::Status::unavailable, why};
    p->timer.cancel();
  }
}

}  // namespace switchyard::mcp
