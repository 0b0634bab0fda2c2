// A response-cache entry as the stores hold it: who answered (one JSON line), then the
// chat.completion the client got. Written and read with the gateway's own scanner: a hit is on
// the hot path, and a DOM for three strings cost more than the rest of the lookup but the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::cache {

struct Entry {
  std::string provider, model, upstream;  // the provider, the model it served, its upstream name
  std::string_view completion;            // into the entry's text
};

// Where an entry came from decides how it is read. One from this process's memory was written by
// encode_entry around a completion that passed storable_completion: its members are walked
// without validating them again (a validating pass over the completion was most of a hit's cost
// once the key is remembered). One from Redis may have been written or damaged by anything that
// reaches the server, so it is validated, and a damaged one is a miss.
enum class EntryOrigin { this_process, redis };

std::string encode_entry(std::string_view provider, std::string_view model,
                         std::string_view upstream, std::string_view completion);

// nullopt when the entry is damaged: no first line, or (from Redis) not valid JSON.
std::optional<Entry> decode_entry(std::string_view entry, EntryOrigin origin);

// The completion with its top-level "model" saying `model` (what this client is shown); nullopt
// when it is not JSON (an entry damaged in Redis: a miss). Only storable answers were stored, so
// this one pass is all a hit needs.
std::optional<std::string> with_model(std::string_view completion, std::string_view model,
                                      EntryOrigin origin);

}  // namespace switchyard::cache
