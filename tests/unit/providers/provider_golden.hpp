// Shared by the adapter golden tests: fixtures from tests/data/providers, a Call for a test
// provider and model, and a stream run that feeds upstream bytes in a chosen split.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "switchyard/api/chat_request.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard {

// The error of an adapter call, or none: what the tests assert on.
inline std::optional<providers::ProviderError> error_of(
    Result<void, providers::ProviderError> result) {
  if (result) return std::nullopt;
  return std::move(result).error();
}

}  // namespace switchyard

namespace switchyard::testing {

inline std::string read_fixture(const std::string& relative) {
  std::ifstream in(std::string(SWITCHYARD_TEST_DATA) + "/providers/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << relative;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json read_json_fixture(const std::string& relative) {
  return nlohmann::json::parse(read_fixture(relative));
}

// A provider and model as config/ would build them, and the Call the dispatcher would make.
struct CallFixture {
  config::Provider provider;
  config::Model model;
  std::string quoted_upstream;
  providers::Call call() const {
    return providers::Call{provider,       model,      quoted_upstream, "req_test",   "",
                           "client-model", 1700000000, stream,          include_usage};
  }
  bool stream = false;
  bool include_usage = false;
};

struct StreamRun {
  std::string out;
  providers::ChatStream::State state = providers::ChatStream::State::open;
  providers::ProviderError error;
  providers::Usage usage;
};

// Feeds `upstream` to a fresh stream decoder `split` bytes at a time (0: all at once), as the
// dispatcher does, then ends the upstream body.
inline StreamRun run_stream(const providers::Adapter& adapter, const providers::Call& call,
                            std::string_view upstream, std::size_t split) {
  StreamRun run;
  auto stream = adapter.chat_stream(call);
  upstream::SseParser sse;
  if (split == 0) split = upstream.size() == 0 ? 1 : upstream.size();
  for (std::size_t at = 0; at < upstream.size() && run.state == providers::ChatStream::State::open;
       at += split) {
    sse.feed(upstream.substr(at, split));
    run.state = providers::pump(*stream, sse, run.out, false);
    sse.discard_consumed();
  }
  if (run.state == providers::ChatStream::State::open)
    run.state = providers::pump(*stream, sse, run.out, true);
  run.error = stream->error();
  run.usage = stream->usage();
  return run;
}

// The data payloads of an SSE text, in order ("[DONE]" included).
inline std::vector<std::string> sse_payloads(std::string_view text) {
  std::vector<std::string> out;
  upstream::SseParser sse;
  sse.feed(text);
  while (auto ev = sse.next())
    if (ev->has_data) out.emplace_back(ev->data);
  if (auto ev = sse.finish(); ev && ev->has_data) out.emplace_back(ev->data);
  return out;
}

}  // namespace switchyard::testing
