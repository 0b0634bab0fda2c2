// The fixture of the handler and dispatcher unit tests: a configuration from YAML, two scripted
// upstreams (`${UPSTREAM}` and `${BACKUP}` in the YAML), everything a worker builds from the
// configuration, and a fake client. No gateway binary, no Redis: one io_context, run until the
// request is answered.
//
//   TEST_F(Serving, Example) {
//     setup(R"(
//       providers: { a: { type: openai, base_url: "${UPSTREAM}/v1", api_key: k } }
//       models: { m: { provider: a, name: up } }
//       routes: { r: { targets: [m] } }
//     )");
//     upstream.script(Reply::completion("hi"));
//     const auto served = chat(R"({"model":"r","messages":[{"role":"user","content":"x"}]})");
//     EXPECT_EQ(served.sink.status(), 200);
//   }
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "fake_sink.hpp"
#include "fake_upstream.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/dispatch/shared_health.hpp"
#include "switchyard/gateway/config_generation.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/state/limit_keeper.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::testing {

// The process around the handlers, as far as these tests need it: nothing to reload or count.
class QuietControl final : public handlers::Control {
 public:
  Awaitable<Outcome> reload() override { co_return Outcome{}; }
  std::string reload_status() const override { return "{}"; }
  void write_metrics(std::string&) const override {}
  cache::Store::Stats cache_totals() const override { return {}; }
  telemetry::SpendTotals spend() const override { return {}; }
};

// One request as the client saw it, and as it was recorded.
struct Served {
  FakeSink sink;
  telemetry::RequestRecord record;
};

class Serving : public ::testing::Test {
 protected:
  // Builds the worker's services from `yaml` (which must load without errors).
  void setup(const std::string& yaml);

  // POST /v1/chat/completions with `body`, through the chat handler.
  Served chat(const std::string& body,
              std::initializer_list<std::pair<std::string, std::string>> headers = {});
  // The same body straight to the dispatcher, on route `route`.
  Served dispatch(const std::string& body, std::string_view route);

  // When set, the client hangs up this long into each request (the cancellation its sink was
  // asked to watch is aborted, as the server's responder does).
  std::chrono::milliseconds client_hangs_up_after{0};
  // When set, the client goes away after taking this many chunks of a stream.
  std::size_t client_takes_chunks = static_cast<std::size_t>(-1);

  boost::asio::io_context io;
  FakeUpstream upstream{io};
  FakeUpstream backup{io};
  std::shared_ptr<const gateway::ConfigGeneration> generation;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  std::optional<handlers::Services> services;

 private:
  // Runs `serve` for a request with `body` to completion.
  Served run(const std::string& body,
             std::initializer_list<std::pair<std::string, std::string>> headers,
             const std::function<Awaitable<void>(request::Context&)>& serve);

  std::atomic<std::uint64_t> fallbacks_{0};
  std::atomic<std::int64_t> counting_alone_{0};
  state::LimitKeeper limit_keeper_{nullptr, fallbacks_, counting_alone_};
  dispatch::SharedHealth shared_health_{io.get_executor(), nullptr, "test:"};
  QuietControl control_;
};

}  // namespace switchyard::testing
