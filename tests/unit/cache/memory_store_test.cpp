// The in-process cache backend: hits and misses, expiry, least-recently-used eviction under its
// byte bound, replacement, entries too big to keep, and the bound holding across threads.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/cache/memory_store.hpp"

namespace switchyard::cache {
namespace {

using namespace std::chrono_literals;
const MemoryStore::Time kT0 = MemoryStore::Time{} + 1000h;

std::shared_ptr<const std::string> text(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

TEST(MemoryStore, ReturnsWhatWasPutAndNothingForOtherKeys) {
  MemoryStore store(1 << 20);
  const auto value = text("answer");
  store.put("k1", value, 1min, kT0);
  const auto hit = store.get("k1", kT0);
  EXPECT_EQ(hit, value);  // the same string, not a copy
  EXPECT_EQ(store.get("k2", kT0), nullptr);
  const auto s = store.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, MemoryStore::cost(2, 6));
}

TEST(MemoryStore, ForgetsAnEntryOnceItsTtlHasPassed) {
  MemoryStore store(1 << 20);
  store.put("k", text("v"), 10s, kT0);
  EXPECT_NE(store.get("k", kT0 + 9999ms), nullptr);
  EXPECT_EQ(store.get("k", kT0 + 10s), nullptr);
  const auto s = store.stats();
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  // Gone, not merely hidden: a later lookup is a plain miss.
  EXPECT_EQ(store.get("k", kT0), nullptr);
  EXPECT_EQ(store.stats().expired, 1u);
}

TEST(MemoryStore, EvictsTheLeastRecentlyUsedEntryFirst) {
  // Room for exactly three 100-byte values under 1-byte keys.
  const std::size_t entry = MemoryStore::cost(1, 100);
  MemoryStore store(3 * entry, 1);
  store.put("a", text(std::string(100, 'a')), 1h, kT0);
  store.put("b", text(std::string(100, 'b')), 1h, kT0);
  store.put("c", text(std::string(100, 'c')), 1h, kT0);
  ASSERT_NE(store.get("a", kT0), nullptr);  // a is now the most recently used; b the least
  store.put("d", text(std::string(100, 'd')), 1h, kT0);
  EXPECT_EQ(store.get("b", kT0), nullptr);
  EXPECT_NE(store.get("a", kT0), nullptr);
  EXPECT_NE(store.get("c", kT0), nullptr);
  EXPECT_NE(store.get("d", kT0), nullptr);
  store.put("e", text(std::string(100, 'e')), 1h, kT0);  // a was used before c and d
  EXPECT_EQ(store.get("a", kT0), nullptr);
  const auto s = store.stats();
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.bytes, 3 * entry);
}

TEST(MemoryStore, EvictsAsManyEntriesAsABigOneNeeds) {
  MemoryStore store(4 * MemoryStore::cost(1, 100), 1);
  for (const char* k : {"a", "b", "c", "d"}) store.put(k, text(std::string(100, 'x')), 1h, kT0);
  store.put("e", text(std::string(450, 'y')), 1h, kT0);
  const auto s = store.stats();
  EXPECT_LE(s.bytes, store.max_bytes());
  EXPECT_EQ(s.entries, 2u);  // d and e
  EXPECT_NE(store.get("d", kT0), nullptr);
  EXPECT_NE(store.get("e", kT0), nullptr);
}

TEST(MemoryStore, CountsAnExpiredEntryDroppedForRoomAsExpired) {
  MemoryStore store(2 * MemoryStore::cost(1, 10), 1);
  store.put("a", text(std::string(10, 'a')), 1s, kT0);
  store.put("b", text(std::string(10, 'b')), 1h, kT0);
  store.put("c", text(std::string(10, 'c')), 1h, kT0 + 2s);
  const auto s = store.stats();
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.evictions, 0u);
}

TEST(MemoryStore, ReplacingAnEntryUpdatesItsBytesValueAndTtl) {
  MemoryStore store(1 << 20);
  store.put("k", text(std::string(1000, 'a')), 1s, kT0);
  store.put("k", text("short"), 1h, kT0);
  const auto s = store.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, MemoryStore::cost(1, 5));
  const auto hit = store.get("k", kT0 + 1min);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*hit, "short");
}

TEST(MemoryStore, DoesNotStoreAnEntryBiggerThanAShardsShare) {
  MemoryStore store(4 * 1024, 4);  // 1 KiB a shard
  store.put("big", text(std::string(1024, 'x')), 1h, kT0);
  EXPECT_EQ(store.get("big", kT0), nullptr);
  EXPECT_EQ(store.stats().entries, 0u);
  // And a too-big replacement removes the stale answer it would have replaced.
  store.put("k", text("small"), 1h, kT0);
  store.put("k", text(std::string(2048, 'x')), 1h, kT0);
  EXPECT_EQ(store.get("k", kT0), nullptr);
  EXPECT_EQ(store.stats().bytes, 0u);
}

TEST(MemoryStore, UsesFewerShardsWhenSmall) {
  EXPECT_EQ(MemoryStore(64 * 1024).shard_count(), 1u);
  EXPECT_EQ(MemoryStore(4u << 20).shard_count(), 4u);
  EXPECT_EQ(MemoryStore(1u << 30).shard_count(), MemoryStore::kMaxShards);
}

TEST(MemoryStore, StaysWithinItsBoundWhenUsedFromFourThreads) {
  const std::size_t bound = 64 * 1024;
  MemoryStore store(bound, 4);
  std::atomic<bool> over{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t * 13) % 500);
        const auto now = kT0 + std::chrono::milliseconds(i);
        if (i % 3 == 0) {
          store.put(key, text(std::string(static_cast<std::size_t>(100 + (i % 900)), 'x')),
                    std::chrono::milliseconds(50 + i % 200), now);
        } else if (const auto v = store.get(key, now); v && v->empty()) {
          over = true;  // values are never empty: a torn read
        }
        if (i % 1000 == 0 && store.stats().bytes > bound) over = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto s = store.stats();
  EXPECT_FALSE(over);
  EXPECT_LE(s.bytes, bound);
  EXPECT_GT(s.hits, 0u);
  EXPECT_GT(s.entries, 0u);
}

}  // namespace
}  // namespace switchyard::cache
