#include "switchyard/redis/reply_limits.hpp"

#include <hiredis/read.h>

namespace switchyard::redis {

namespace {

// hiredis's own functions, but for arrays past the bound: the reader reports out of memory.
redisReplyObjectFunctions bounded;
void* (*create_array)(const redisReadTask*, int) = nullptr;

void* create_bounded_array(const redisReadTask* task, int elements) {
  if (elements < 0 || static_cast<std::size_t>(elements) > kMaxReplyElements) return nullptr;
  return create_array(task, elements);
}

}  // namespace

void bound_replies(redisReader* reader) {
  // Every reader starts with the same functions (hiredis's defaults): copied once.
  static const bool copied = [reader] {
    bounded = *reader->fn;
    create_array = bounded.createArray;
    bounded.createArray = &create_bounded_array;
    return true;
  }();
  (void)copied;
  reader->fn = &bounded;
}

}  // namespace switchyard::redis
