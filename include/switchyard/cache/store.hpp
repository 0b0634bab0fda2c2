// Where the response cache keeps its answers: in this process (MemoryStore, shared by the
// workers), or in Redis, shared by every replica. The gateway sees only this interface. A backend
// that cannot answer — Redis down or slow — misses: the request is then served upstream, and the
// cache comes back by itself when the backend does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "switchyard/async.hpp"

namespace switchyard::redis {
class Client;
}

namespace switchyard::cache {

class MemoryStore;

class Store {
 public:
  virtual ~Store() = default;
  // The value under `key`, or nullptr (absent, expired, or the backend failed).
  virtual Awaitable<std::shared_ptr<const std::string>> get(std::string key) = 0;
  // Stores in the background; a failure only means a later miss.
  virtual void put(std::string key, std::shared_ptr<const std::string> value,
                   std::chrono::milliseconds ttl) = 0;

  struct Stats {
    std::uint64_t hits = 0, misses = 0, stores = 0, errors = 0;  // errors: backend failures
    Stats& operator+=(const Stats& o) {
      hits += o.hits;
      misses += o.misses;
      stores += o.stores;
      errors += o.errors;
      return *this;
    }
  };
  // Any thread: counted with atomics.
  virtual Stats stats() const = 0;
};

std::unique_ptr<Store> memory_backend(std::shared_ptr<MemoryStore> store);
// Keys are `prefix` + "cache:" + key. `redis` must outlive the backend (both are a worker's).
std::unique_ptr<Store> redis_backend(Executor ex, redis::Client& redis, std::string prefix);

}  // namespace switchyard::cache
