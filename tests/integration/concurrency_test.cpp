// Many requests in flight on one worker thread at once: each must get its own answer, whole.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

TEST(Concurrency, ConcurrentLargeRequestsOnOneWorkerEachGetTheirOwnAnswer) {
  TempDir dir;
  // Large bodies both ways, so writes to the upstream and to the clients cannot complete at
  // once and the requests interleave inside the worker.
  const std::string content(100 * 1024, 'z');  // one argv string: at most 128 KiB
  Mock mock(dir, {"big", {"--content", content, "--threads", "2"}});
  Gateway gw(dir,
             "server:\n  workers: 1\n"
             "providers:\n  local: { type: openai, base_url: \"http://127.0.0.1:" +
                 std::to_string(mock.port()) +
                 "/v1\" }\n"
                 "models:\n  m: { provider: local, name: upstream-model-name }\n");

  constexpr int kThreads = 16;
  constexpr int kPerThread = 4;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(gw.port());
      for (int i = 0; i < kPerThread; ++i) {
        // A body size unique to this request; the mock answers prompt_tokens = its size / 4.
        auto body = chat_body("m", (t + i) % 3 == 0);
        body["messages"][1]["content"] = std::string(200'000 + 4 * (t * kPerThread + i), 'q');
        const std::string text = body.dump();
        const std::size_t upstream_size = text.size() - std::string("\"m\"").size() +
                                          std::string("\"upstream-model-name\"").size();
        const auto r = client.request("POST", "/v1/chat/completions", text);
        std::string got;
        if (r.status != 200) {
          got = "status " + std::to_string(r.status);
        } else if (r.header("content-type") == "text/event-stream") {
          std::string streamed;
          for (const auto& e : sse_data(r.body)) {
            if (e == "[DONE]") continue;
            const auto chunk = json::parse(e);
            if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content"))
              streamed += chunk["choices"][0]["delta"]["content"].get<std::string>();
          }
          if (streamed != content) got = "stream content differs";
          if (sse_data(r.body).back() != "[DONE]") got = "stream without [DONE]";
        } else {
          const auto reply = json::parse(r.body, nullptr, false);
          if (!reply.is_object() || reply["choices"][0]["message"]["content"] != content) {
            got = "JSON body differs";
          } else if (reply["usage"]["prompt_tokens"] != upstream_size / 4) {
            got = "someone else's answer: prompt_tokens " + reply["usage"]["prompt_tokens"].dump() +
                  " for size " + std::to_string(upstream_size);
          }
        }
        if (!got.empty()) failures[t] += "request " + std::to_string(i) + ": " + got + "\n";
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_TRUE(failures[t].empty()) << "thread " << t << "\n" << failures[t];
  EXPECT_EQ(mock.stats()["requests"]["POST /v1/chat/completions"], kThreads * kPerThread);
}

}  // namespace
}  // namespace switchyard::testing
