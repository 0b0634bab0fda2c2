// A counter one thread adds to and any thread may read (for /metrics and the admin API): a
// relaxed atomic written with a plain load and store, so counting costs what `++` on an integer
// does, without the locked instruction of fetch_add.
#pragma once

#include <atomic>
#include <cstdint>

namespace switchyard::telemetry {

class SingleWriterCounter {
 public:
  void operator++() { add(1); }
  void add(std::uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t load() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace switchyard::telemetry
