// Which session's stream a server's notification reaches, and what a reconnecting client is
// given again.
#include "switchyard/mcp/session_streams.hpp"

#include "switchyard/mcp/session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace switchyard::mcp {
namespace {

class SessionStreamsTest : public ::testing::Test {
 protected:
  std::shared_ptr<Relay> relay() { return std::make_shared<Relay>(io_.get_executor()); }

  void publish(std::string_view server, std::string raw) {
    const auto message = api::jsonrpc::read_message(raw);
    ASSERT_TRUE(message);
    streams_.publish(server, *message, raw);
  }

  static std::string log(std::string_view text) {
    return R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":")" +
           std::string(text) + "\"}}";
  }
  static std::string updated(std::string_view uri) {
    return R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":")" +
           std::string(uri) + "\"}}";
  }
  // The data of each event a stream was given.
  static std::vector<std::string> data_of(Relay& stream) {
    std::vector<std::string> out;
    for (const std::string& event : stream.take()) {
      const auto at = event.find("data: ");
      out.push_back(event.substr(at + 6, event.size() - at - 8));
    }
    return out;
  }

  boost::asio::io_context io_;
  SessionStreams streams_;
};

TEST_F(SessionStreamsTest, ASessionHearsOnlyTheServersItsViewAndKeyReach) {
  config::McpAccess only_second;
  only_second.servers = {"second"};
  auto all = relay(), second = relay(), single = relay();
  streams_.open({"all", "", {}}, all, "");
  streams_.open({"second", "", only_second}, second, "");
  streams_.open({"single", "everything", {}}, single, "");
  publish("everything", log("from everything"));
  publish("second", R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})");
  EXPECT_EQ(data_of(*all).size(), 2u);
  EXPECT_EQ(
      data_of(*second),
      std::vector<std::string>{R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})"});
  EXPECT_EQ(data_of(*single), std::vector<std::string>{log("from everything")});
}

TEST_F(SessionStreamsTest, AResourceUpdateReachesOnlyItsSubscribers) {
  auto subscribed = relay(), other = relay();
  streams_.subscribe({"a", "", {}}, "file:///x");
  streams_.open({"a", "", {}}, subscribed, "");
  streams_.open({"b", "", {}}, other, "");
  publish("everything", updated("file:///x"));
  publish("everything", updated("file:///y"));
  EXPECT_EQ(data_of(*subscribed), std::vector<std::string>{updated("file:///x")});
  EXPECT_TRUE(other->take().empty());
  // A server is told of an unsubscription only when nobody else here still subscribes.
  streams_.subscribe({"b", "everything", {}}, "file:///x");
  streams_.unsubscribe("a", "file:///x");
  EXPECT_TRUE(streams_.subscribed("everything", "file:///x"));
  EXPECT_FALSE(streams_.subscribed("second", "file:///x"));
  streams_.unsubscribe("b", "file:///x");
  EXPECT_FALSE(streams_.subscribed("everything", "file:///x"));
}

TEST_F(SessionStreamsTest, AStreamFromAnotherReplicaCatchesUpWithWhatThatReplicaKeptLate) {
  auto stream = relay();
  const std::vector<KeptEvent> first = {{"other-1", "id: other-1\ndata: a\n\n"},
                                        {"other-2", "id: other-2\ndata: b\n\n"}};
  streams_.open({"a", "", {}}, stream, "other-1", &first);
  EXPECT_EQ(stream->take(), std::vector<std::string>{first[1].event});
  publish("s", log("here"));
  ASSERT_EQ(stream->take().size(), 1u);
  // What the other replica kept after this one read, among this one's own events.
  auto later = first;
  later.push_back({process_tag() + "-7", "id: own\ndata: mine\n\n"});
  later.push_back({"other-3", "id: other-3\ndata: c\n\n"});
  streams_.catch_up("a", stream.get(), "other-2", later);
  EXPECT_EQ(stream->take(), std::vector<std::string>{later.back().event});
  // Nothing was kept when the stream opened: every event of the other replica's since.
  streams_.catch_up("a", stream.get(), "", later);
  EXPECT_EQ(stream->take().size(), 3u);
  // Not to a stream that is no longer the session's.
  auto replaced = relay();
  streams_.open({"a", "", {}}, replaced, "");
  replaced->take();
  streams_.catch_up("a", stream.get(), "", later);
  EXPECT_TRUE(stream->take().empty() && replaced->take().empty());
}

TEST_F(SessionStreamsTest, AReconnectingClientGetsWhatFollowedItsLastEventId) {
  auto first = relay();
  const std::string primer = streams_.open({"a", "", {}}, first, "");
  publish("s", log("one"));
  EXPECT_EQ(first->take().size(), 1u);
  streams_.close("a", first.get());
  publish("s", log("two"));  // while the client is away
  auto again = relay();
  EXPECT_EQ(streams_.open({"a", "", {}}, again, primer), primer);
  EXPECT_EQ(data_of(*again), (std::vector<std::string>{log("one"), log("two")}));
  // An id of another process replays only what no stream carried: nothing here.
  auto fresh = relay();
  streams_.open({"a", "", {}}, fresh, "elsewhere-1");
  EXPECT_TRUE(fresh->take().empty());
  EXPECT_TRUE(again->ended());
}

TEST_F(SessionStreamsTest, WhatCameWhileNoStreamWasOpenIsGivenToTheNextOne) {
  streams_.subscribe({"a", "", {}}, "file:///x");  // known before its first stream
  publish("s", updated("file:///x"));
  auto stream = relay();
  streams_.open({"a", "", {}}, stream, "");
  EXPECT_EQ(data_of(*stream), std::vector<std::string>{updated("file:///x")});
}

TEST_F(SessionStreamsTest, AStreamWhoseClientFallsTooFarBehindEndsAndResumesFromWhatIsKept) {
  auto slow = relay();
  const std::string primer = streams_.open({"a", "", {}}, slow, "");
  for (std::size_t i = 0; i <= SessionStreams::kReplay; ++i) publish("s", log(std::to_string(i)));
  EXPECT_TRUE(slow->ended());
  EXPECT_EQ(streams_.open_streams(), 0u);
  auto resumed = relay();
  streams_.open({"a", "", {}}, resumed, primer);
  const auto events = data_of(*resumed);
  ASSERT_EQ(events.size(), SessionStreams::kReplay);
  EXPECT_EQ(events.back(), log(std::to_string(SessionStreams::kReplay)));
}

TEST_F(SessionStreamsTest, ASecondStreamOfASessionEndsTheFirstAndForgetEndsBoth) {
  auto first = relay(), second = relay();
  streams_.open({"a", "", {}}, first, "");
  streams_.open({"a", "", {}}, second, "");
  EXPECT_TRUE(first->ended());
  EXPECT_FALSE(second->ended());
  EXPECT_EQ(streams_.open_streams(), 1u);
  streams_.forget("a");
  EXPECT_TRUE(second->ended());
  EXPECT_EQ(streams_.open_streams(), 0u);
}

TEST_F(SessionStreamsTest, TheEventsOfAStreamOpenHereGoToTheReplicasKeeperWithTheirIds) {
  std::vector<std::pair<std::string, KeptEvent>> kept;
  streams_.keep_with(
      [&](const std::string& nonce, KeptEvent e) { kept.emplace_back(nonce, std::move(e)); });
  // A session that only subscribed here has its stream elsewhere: its events stay here.
  streams_.subscribe({"elsewhere", "", {}}, "file:///x");
  auto stream = relay();
  const std::string primer = streams_.open({"here", "", {}}, stream, "");
  streams_.subscribe({"here", "", {}}, "file:///x");
  EXPECT_TRUE(streams_.home_of("here"));
  EXPECT_FALSE(streams_.home_of("elsewhere"));
  publish("s", updated("file:///x"));
  publish("s", log("one"));
  const auto given = stream->take();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, "here");
  EXPECT_EQ(kept[0].second.event, given[0]);
  EXPECT_EQ(kept[1].second.event, given[1]);
  EXPECT_TRUE(streams_.is_own(kept[0].second.id));
  EXPECT_NE(given[1].find("id: " + kept[1].second.id + "\n"), std::string::npos);
  EXPECT_NE(kept[0].second.id, primer);
}

TEST_F(SessionStreamsTest, AClientComingFromAnotherReplicaGetsWhatFollowedItsLastEventIdThere) {
  const std::vector<KeptEvent> shared{{"other-1", "id: other-1\ndata: a\n\n"},
                                      {"other-2", "id: other-2\ndata: b\n\n"},
                                      {"other-3", "id: other-3\ndata: c\n\n"}};
  auto stream = relay();
  EXPECT_EQ(streams_.open({"a", "", {}}, stream, "other-1", &shared), "other-1");
  EXPECT_EQ(stream->take(), (std::vector<std::string>{shared[1].event, shared[2].event}));
  // An id older than any kept: every kept event.
  auto late = relay();
  streams_.open({"a", "", {}}, late, "other-0", &shared);
  EXPECT_EQ(late->take().size(), 3u);
  // An id of this process's is answered from what it keeps, not the replicas' store.
  auto own = relay();
  const std::string primer = streams_.open({"b", "", {}}, own, "");
  EXPECT_TRUE(streams_.is_own(primer));
  auto again = relay();
  streams_.open({"b", "", {}}, again, primer, &shared);
  EXPECT_TRUE(again->take().empty());
}

TEST_F(SessionStreamsTest, AStreamThatMovedToAnotherReplicaEndsHereWithItsSubscriptionsToDrop) {
  auto stream = relay();
  streams_.subscribe({"a", "one", {}}, "file:///x");
  streams_.open({"a", "one", {}}, stream, "");
  const auto gone = streams_.moved("a");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->first.view, "one");
  EXPECT_EQ(gone->second, std::vector<std::string>{"file:///x"});
  EXPECT_TRUE(stream->ended());
  EXPECT_FALSE(streams_.home_of("a"));
  EXPECT_FALSE(streams_.moved("a"));
}

}  // namespace
}  // namespace switchyard::mcp
