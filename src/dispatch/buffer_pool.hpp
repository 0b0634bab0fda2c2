// Byte buffers for the requests in flight on one worker. Requests interleave at every co_await,
// so each takes buffers of its own; returning them keeps their capacity for the next request,
// which is what makes them cheaper than fresh strings.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::dispatch {

class BufferPool {
 public:
  class Lease {
   public:
    Lease(BufferPool& pool, std::string buffer) : pool_(&pool), buffer_(std::move(buffer)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), buffer_(std::move(other.buffer_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() { give_back(); }
    // Returns the buffer to the pool before the lease ends (an attempt done with it early).
    void give_back() {
      if (pool_) std::exchange(pool_, nullptr)->give_back(std::move(buffer_));
    }
    std::string& operator*() { return buffer_; }
    std::string* operator->() { return &buffer_; }

   private:
    BufferPool* pool_;
    std::string buffer_;
  };

  Lease take() {
    if (free_.empty()) return Lease(*this, std::string());
    Lease lease(*this, std::move(free_.back()));
    free_.pop_back();
    return lease;
  }

 private:
  // A buffer that grew for a huge response is let go rather than kept for ever.
  static constexpr std::size_t kMaxKeptCapacity = 1024 * 1024;

  void give_back(std::string buffer) {
    if (buffer.capacity() > kMaxKeptCapacity) return;
    buffer.clear();
    free_.push_back(std::move(buffer));
  }

  std::vector<std::string> free_;
};

}  // namespace switchyard::dispatch
