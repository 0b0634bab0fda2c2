// The two Store backends: the process's MemoryStore, and Redis (GET, and SET with PX in the
// background).
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "switchyard/cache/memory_store.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/telemetry/single_writer_counter.hpp"

namespace switchyard::cache {
namespace {

// A backend's counts: written by its worker, read by whichever worker answers /metrics.
struct Tallies {
  telemetry::SingleWriterCounter hits, misses, stores, errors;
  Store::Stats load() const { return {hits.load(), misses.load(), stores.load(), errors.load()}; }
};

class MemoryBackend final : public Store {
 public:
  explicit MemoryBackend(std::shared_ptr<MemoryStore> store) : store_(std::move(store)) {}

  Awaitable<std::shared_ptr<const std::string>> get(std::string key) override {
    auto value = store_->get(key, std::chrono::steady_clock::now());
    ++(value ? stats_.hits : stats_.misses);
    co_return value;
  }
  void put(std::string key, std::shared_ptr<const std::string> value,
           std::chrono::milliseconds ttl) override {
    ++stats_.stores;
    store_->put(std::move(key), std::move(value), ttl, std::chrono::steady_clock::now());
  }
  Stats stats() const override { return stats_.load(); }

 private:
  std::shared_ptr<MemoryStore> store_;
  Tallies stats_;
};

class RedisBackend final : public Store {
 public:
  RedisBackend(Executor ex, redis::Client& redis, std::string prefix)
      : ex_(ex), redis_(redis), prefix_(std::move(prefix) + "cache:") {}

  Awaitable<std::shared_ptr<const std::string>> get(std::string key) override {
    const std::string name = prefix_ + key;
    // Named: GCC 12 cannot keep an initializer list alive across a co_await.
    const std::array<std::string_view, 2> get{"GET", name};
    const redis::Result result = co_await redis_.command(get);
    if (!result || result.reply->is_error()) {
      ++stats_.errors;
      ++stats_.misses;
      co_return nullptr;
    }
    if (result.reply->type != redis::Reply::Type::string) {
      ++stats_.misses;
      co_return nullptr;
    }
    ++stats_.hits;
    co_return std::make_shared<const std::string>(std::move(result.reply->str));
  }

  void put(std::string key, std::shared_ptr<const std::string> value,
           std::chrono::milliseconds ttl) override {
    ++stats_.stores;
    // The client (and this backend) belong to the worker and outlive its io_context's work.
    asio::co_spawn(
        ex_,
        [this, name = prefix_ + key, value = std::move(value),
         ms = std::to_string(ttl.count())]() -> Awaitable<void> {
          const std::array<std::string_view, 5> set{"SET", name, *value, "PX", ms};
          const redis::Result result = co_await redis_.command(set);
          if (!result || result.reply->is_error()) ++stats_.errors;
        },
        asio::detached);
  }

  Stats stats() const override { return stats_.load(); }

 private:
  Executor ex_;
  redis::Client& redis_;
  std::string prefix_;
  Tallies stats_;
};

}  // namespace

std::unique_ptr<Store> memory_backend(std::shared_ptr<MemoryStore> store) {
  return std::make_unique<MemoryBackend>(std::move(store));
}

std::unique_ptr<Store> redis_backend(Executor ex, redis::Client& redis, std::string prefix) {
  return std::make_unique<RedisBackend>(ex, redis, std::move(prefix));
}

}  // namespace switchyard::cache
