// Ends a request's upstream work when its client goes away: whatever is registered — the
// upstream exchanges in flight (two while a hedge runs), a backoff sleep — is aborted at once, and
// the dispatcher tries no further target. Knows nothing of what it aborts beyond an `abort()` or
// `cancel()` member, so it sits below every area that registers with it.
#pragma once

#include <array>

namespace switchyard::request {

class Cancellation {
 public:
  // The client hung up (or the request is over): abort everything registered, now and later.
  void abort() {
    aborted_ = true;
    for (auto& w : watched_)
      if (w.object) w.stop(w.object);
  }
  bool aborted() const { return aborted_; }

  // Registers what abort() must stop: an object with `abort()` (an upstream exchange) or with
  // `cancel()` (a timer). Unregister before it is destroyed.
  template <class T>
  void watch(T* object) {
    for (auto& w : watched_) {
      if (w.object == nullptr) {
        w = {object, &stop<T>};
        return;
      }
    }
  }
  void unwatch(const void* object) {
    for (auto& w : watched_)
      if (w.object == object) w = {};
  }

 private:
  template <class T>
  static void stop(void* object) {
    auto* o = static_cast<T*>(object);
    if constexpr (requires { o->abort(); }) {
      o->abort();
    } else {
      o->cancel();
    }
  }
  struct Watched {
    void* object = nullptr;
    void (*stop)(void*) = nullptr;
  };
  std::array<Watched, 3> watched_{};  // two exchanges of a hedge, and a backoff sleep
  bool aborted_ = false;
};

}  // namespace switchyard::request
