#include "serving.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <variant>

#include "handlers/chat/chat.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::testing {

void Serving::setup(const std::string& yaml) {
  const auto env = [this](const std::string& name) -> std::optional<std::string> {
    if (name == "UPSTREAM") return upstream.url();
    if (name == "BACKUP") return backup.url();
    return std::nullopt;
  };
  auto loaded = config::load_config_string(yaml, "test.yaml", env);
  for (const auto& d : loaded.errors) ADD_FAILURE() << d.to_string();
  ASSERT_TRUE(loaded.config);
  generation = gateway::ConfigGeneration::build(
      std::make_shared<const config::Config>(std::move(*loaded.config)), nullptr);
  dispatcher = std::make_unique<dispatch::Dispatcher>(io.get_executor(), *generation->config,
                                                      generation->board, limit_keeper_,
                                                      shared_health_, nullptr);
  services.emplace(handlers::Services{*generation->config, *generation->routes, *generation->board,
                                      *generation->limit_counts, generation->generation, control_,
                                      *dispatcher, limit_keeper_});
}

Served Serving::run(const std::string& body,
                    std::initializer_list<std::pair<std::string, std::string>> headers,
                    const std::function<Awaitable<void>(request::Context&)>& serve) {
  std::string head = "POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  const request::HttpRequest http(head, body);
  Served served;
  served.sink.fail_writes_after = client_takes_chunks;
  request::Context context(http, served.sink);
  bool done = false;
  boost::asio::steady_timer hang_up(io);
  if (client_hangs_up_after.count() > 0) {
    hang_up.expires_after(client_hangs_up_after);
    hang_up.async_wait([&](boost::system::error_code ec) {
      if (!ec && served.sink.watched) served.sink.watched->abort();
    });
  }
  asio::co_spawn(
      io.get_executor(),
      [&]() -> Awaitable<void> {
        co_await serve(context);
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  while (!done && io.run_one() > 0) {
  }
  EXPECT_TRUE(done) << "the request was never answered";
  served.record = std::move(context.record);
  return served;
}

Served Serving::chat(const std::string& body,
                     std::initializer_list<std::pair<std::string, std::string>> headers) {
  handlers::Chat handler(*services);
  return run(body, headers, [&](request::Context& context) { return handler.handle(context); });
}

Served Serving::dispatch(const std::string& body, std::string_view route) {
  auto parsed = api::parse_chat_request(body);
  if (!parsed) {
    ADD_FAILURE() << "not a chat request: " << parsed.error().message << "\n  body: " << body;
    return {};
  }
  const auto& request = *parsed;
  dispatch::DispatchRequest job{request.model(), generation->routes->find(route)};
  job.chat = &request;
  EXPECT_NE(job.route, nullptr) << route;
  return run(body, {}, [&](request::Context& context) -> Awaitable<void> {
    const auto result = co_await dispatcher->run(job, context);
    if (!result) co_await context.response().send_error(result.error());
  });
}

}  // namespace switchyard::testing
