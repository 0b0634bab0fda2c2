#include "switchyard/cache/memory_store.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <utility>

namespace switchyard::cache {

MemoryStore::MemoryStore(std::size_t max_bytes)
    : MemoryStore(max_bytes, std::min(kMaxShards, max_bytes / kMinShardBytes)) {}

MemoryStore::MemoryStore(std::size_t max_bytes, std::size_t shards)
    : max_bytes_(max_bytes),
      shard_count_(std::max<std::size_t>(shards, 1)),
      shard_budget_(max_bytes / shard_count_),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

MemoryStore::~MemoryStore() = default;

MemoryStore::Shard& MemoryStore::shard_for(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % shard_count_];
}

std::shared_ptr<const std::string> MemoryStore::get(std::string_view key, Time now) {
  Shard& shard = shard_for(key);
  Lru dropped;  // destroyed after the lock is released
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    ++shard.misses;
    return nullptr;
  }
  const Lru::iterator entry = found->second;
  if (now >= entry->expires) {
    ++shard.misses;
    ++shard.expired;
    shard.bytes -= entry->cost;
    shard.index.erase(found);
    dropped.splice(dropped.end(), shard.lru, entry);
    return nullptr;
  }
  ++shard.hits;
  shard.lru.splice(shard.lru.begin(), shard.lru, entry);
  return entry->value;
}

void MemoryStore::put(std::string key, std::shared_ptr<const std::string> value,
                      std::chrono::milliseconds ttl, Time now) {
  Shard& shard = shard_for(key);
  const std::size_t entry_cost = cost(key.size(), value ? value->size() : 0);
  const bool keep = value && ttl.count() > 0 && entry_cost <= shard_budget_;
  // The new node is allocated before the lock is taken; the dropped ones are freed after.
  Lru fresh;
  Lru dropped;
  if (keep) fresh.push_back(Entry{std::move(key), std::move(value), now + ttl, entry_cost});
  const std::string_view name = keep ? std::string_view(fresh.front().key) : std::string_view(key);

  std::lock_guard lock(shard.mutex);
  if (const auto old = shard.index.find(name); old != shard.index.end()) {
    shard.bytes -= old->second->cost;
    dropped.splice(dropped.end(), shard.lru, old->second);
    shard.index.erase(old);
  }
  if (!keep) return;
  shard.lru.splice(shard.lru.begin(), fresh);
  shard.index.emplace(name, shard.lru.begin());
  shard.bytes += entry_cost;
  // The new entry fits a share on its own, so this stops before reaching it.
  while (shard.bytes > shard_budget_) {
    const auto victim = std::prev(shard.lru.end());
    ++(now >= victim->expires ? shard.expired : shard.evictions);
    shard.bytes -= victim->cost;
    shard.index.erase(victim->key);
    dropped.splice(dropped.end(), shard.lru, victim);
  }
}

MemoryStore::Stats MemoryStore::stats() const {
  Stats total;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    total.entries += shard.index.size();
    total.bytes += shard.bytes;
    total.hits += shard.hits;
    total.misses += shard.misses;
    total.evictions += shard.evictions;
    total.expired += shard.expired;
  }
  return total;
}

}  // namespace switchyard::cache
