// The response cache's default backend: one per process, shared by every worker thread, bounded
// in bytes, least recently used out first, each entry with its own time to live. Sharded by key
// so that workers rarely meet on a lock, and each critical section only looks up a hash map and
// splices a list node: values are shared immutable strings, so a hit copies a pointer, not the
// answer, and whatever an operation frees (an evicted, expired or replaced entry) is freed after
// the lock is released. Time is passed in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace switchyard::cache {

class MemoryStore {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // What an entry is charged beyond its key and value bytes: the list node, the hash map node and
  // bucket, the shared_ptr control block and the strings' headers (about 60 bytes on 64-bit
  // libstdc++) rounded up for allocator slack. So a store of many tiny entries still stays near
  // its bound.
  static constexpr std::size_t kEntryOverhead = 96;
  static constexpr std::size_t kMaxShards = 16;
  // Fewer shards for a small store: each shard gets an equal share of the bound and an entry must
  // fit one share, so shards never shrink below this (unless the whole store is smaller).
  static constexpr std::size_t kMinShardBytes = 1 << 20;

  static std::size_t cost(std::size_t key_size, std::size_t value_size) {
    return key_size + value_size + kEntryOverhead;
  }

  // min(kMaxShards, max_bytes / kMinShardBytes) shards, at least one.
  explicit MemoryStore(std::size_t max_bytes);
  // An explicit shard count (at least one), for tests that need one LRU order.
  MemoryStore(std::size_t max_bytes, std::size_t shards);
  ~MemoryStore();
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // The value, or nullptr when absent or expired at `now` (an expired entry is removed). A hit
  // makes the entry the most recently used of its shard.
  std::shared_ptr<const std::string> get(std::string_view key, Time now);

  // Stores `value` under `key` until now + ttl, replacing any entry under that key, then evicts
  // the least recently used entries of the shard until it fits its share. An entry that cannot be
  // kept — costing more than a shard's share, a ttl that is not positive, a null value — is not
  // stored, and the entry it would have replaced is removed all the same: it is stale.
  void put(std::string key, std::shared_ptr<const std::string> value, std::chrono::milliseconds ttl,
           Time now);

  struct Stats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;  // sum of cost() over the entries
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;     // expired hits included
    std::uint64_t evictions = 0;  // live entries dropped for room
    std::uint64_t expired = 0;    // entries dropped past their ttl (on get, or when evicted)
  };
  // A sum over shards, each read under its lock: exact when nothing runs concurrently.
  Stats stats() const;

  std::size_t max_bytes() const { return max_bytes_; }
  std::size_t shard_count() const { return shard_count_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const std::string> value;
    Time expires;
    std::size_t cost;
  };
  using Lru = std::list<Entry>;  // most recently used first

  // Own cache line each: the locks of neighbouring shards must not share one.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    Lru lru;
    // Keys view the key strings held by the list nodes, which never move.
    std::unordered_map<std::string_view, Lru::iterator> index;
    std::size_t bytes = 0;
    std::uint64_t hits = 0, misses = 0, evictions = 0, expired = 0;
  };

  Shard& shard_for(std::string_view key);

  std::size_t max_bytes_;
  std::size_t shard_count_;
  std::size_t shard_budget_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace switchyard::cache
