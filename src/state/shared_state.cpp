#include "switchyard/state/shared_state.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

namespace switchyard::state {

namespace {

// Why scripts: each one reads, decides and writes in a single EVALSHA, which Redis runs to the
// end before it serves any other command — so two replicas can never both read "1 left" and both
// take it, which a GET then SET from the gateway (or a MULTI around values read before it) would
// allow. Time is read inside the script (TIME; Redis 7 replicates a script's effects, not the
// script, so a non-deterministic command before a write is allowed): one clock for all replicas.
//
// Cluster: a script may only touch keys passed in KEYS, and all of them must hash to one slot.
// Each limit is one key; a budget's window keys all carry the same hash tag, {spend:<name>}, so
// they land in one slot and one script reads or updates every window of the budget.
//
// Numbers: Lua's are doubles, exact for integers up to 2^53. Every quantity below stays an
// integer under that bound, is divided only through divmod (which corrects the quotient of a
// floating division), and is written back with string.format('%.0f') — Lua's tostring keeps only
// 14 significant digits, too few for a time in microseconds.

// GCRA, the same algorithm as RateLimiter, on Redis's clock in microseconds.
//
// KEYS[1]  the limit's hash: tat = the theoretical arrival time (TAT) in whole µs, as an integer
//          string; frac = the TAT's fraction beyond that, in 1/per_minute of a tick.
// ARGV     mode ('take' | 'give' | 'force'), per_minute, units, tick_us.
// Returns  {granted (0|1), wait µs (-1: never), remaining units, reset µs}.
//
// Why a rational TAT: one unit refills every 60e6 / per_minute µs, rarely a whole number (rpm 7:
// 8571428.57 µs). Rounding it per take would lose or gain up to a µs per take, which at high
// limits is whole units (tpm 100M: 1.7 tokens per µs). So time is counted in ticks of tick_us µs
// (1 µs unless the limit is huge, see tick_us() in C++) and "in use" as s = (TAT - now) *
// per_minute, in units of 1/M (M = ticks per minute): taking u units adds exactly u * M, the
// burst is exactly per_minute * M, and refill is exactly per_minute per tick — all integers. The
// TAT itself is stored as whole ticks (as µs) plus the remainder s mod per_minute, so that it
// stays an absolute time that needs no "last updated" field, and s is computed relative to now,
// which keeps every product small: s is capped at 2^52 (debt beyond that is not booked), and
// tick_us keeps per_minute * M under 2^50, so s + u * M stays below 2^53.
const redis::Script& gcra_script() {
  static const redis::Script script(R"lua(
local P = tonumber(ARGV[2])
local u = tonumber(ARGV[3])
local g = tonumber(ARGV[4])
local M = 60000000 / g
local CAP = 4503599627370496

local function divmod(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1; r = r + b elseif r >= b then q = q + 1; r = r - b end
  return q, r
end

local function scaled(n)
  if n >= CAP / M then return CAP end
  return n * M
end

local time = redis.call('TIME')
local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
local now = divmod(now_us, g)

-- In use now, in 1/M units: a TAT behind now means nothing in use.
local s = 0
local held = redis.call('HMGET', KEYS[1], 'tat', 'frac')
local tat = tonumber(held[1])
if tat then
  local ahead = divmod(tat, g) - now
  if ahead >= 0 then
    local frac = math.min(tonumber(held[2]) or 0, P - 1)
    if ahead >= CAP / P then s = CAP else s = math.min(ahead * P + frac, CAP) end
  end
end

local mode = ARGV[1]
local granted, wait, changed = 1, 0, false
if mode == 'take' then
  if u > P then
    granted, wait = 0, -1
  else
    local over = s + u * M - P * M
    if over > 0 then
      -- They fit once `over` has drained, at per_minute a tick: the start of that tick.
      granted = 0
      local q, r = divmod(over, P)
      if r > 0 then q = q + 1 end
      wait = (now + q) * g - now_us
    elseif u > 0 then
      s = s + u * M
      changed = true
    end
  end
elseif mode == 'give' then
  if u > 0 and s > 0 then
    s = math.max(s - scaled(u), 0)
    changed = true
  end
elseif u > 0 then
  s = math.min(s + scaled(u), CAP)
  changed = true
end

-- Until nothing is in use: the start of the tick the TAT falls in.
local reset = 0
if s > 0 then
  local q, r = divmod(s, P)
  if r > 0 then q = q + 1 end
  reset = (now + q) * g - now_us
end
if changed then
  if s == 0 then
    redis.call('DEL', KEYS[1])
  else
    local q, r = divmod(s, P)
    redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', (now + q) * g),
               'frac', string.format('%.0f', r))
    -- Gone once the TAT has passed: an absent key is "nothing in use".
    redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil(reset / 1000) + 1))
  end
end
local remaining = divmod(math.max(P * M - s, 0), M)
return {granted, wait, remaining, reset}
)lua");
  return script;
}

// The rolling windows, as SpendWindows keeps them: slot widths 1 s, 1 min, 24 min, 12 h; a window
// is the current slot and the 59 before it. Slot index = floor(unix seconds / width), on Redis's
// clock. A window's hash maps a slot index to the micro-USD charged in it.
//
// A budget's reservations (SpendWindows::reserve) are a sorted set, member "<id>:<µUSD>" scored
// by the µs its holder's deadline passes, and their sum in a string key beside it: a reservation
// whose holder vanished (a replica killed mid-request) expires then and is no longer counted.
//
// Every spend script: KEYS[1..4] the window hashes, minute to month; KEYS[5] the reservations,
// KEYS[6] their sum; ARGV[1..4] the caps in micro-USD (0 = uncapped: its key is not touched).
constexpr std::string_view kSpendLua = R"lua(
local widths = {1, 60, 1440, 43200}
local time = redis.call('TIME')
local now_s = tonumber(time[1])
local now_us = now_s * 1000000 + tonumber(time[2])

-- The window's slot index now, its 60 slot amounts oldest (index - 59) first, and their sum.
local function window(w)
  local index = math.floor(now_s / widths[w])
  local first = index - 59
  local amounts, total = {}, 0
  for k = 1, 60 do amounts[k] = 0 end
  local flat = redis.call('HGETALL', KEYS[w])
  for i = 1, #flat, 2 do
    local slot, amount = tonumber(flat[i]), tonumber(flat[i + 1])
    if slot and amount and slot >= first and slot <= index then
      amounts[slot - first + 1] = amount
      total = total + amount
    end
  end
  return index, amounts, total
end

-- {window 0..3, spent µUSD, retry_after s, held µUSD} for the first capped window without room
-- for a request of `micro` beside `held` reserved — SpendWindows::no_room, line for line — or
-- nil. micro = held = 0: the first window whose spend has reached its cap.
local function no_room(micro, held)
  for w = 1, 4 do
    local cap = tonumber(ARGV[w])
    if cap > 0 then
      local index, amounts, total = window(w)
      local below = cap
      if micro <= cap then
        below = cap - math.max(micro, 1) + 1
      elseif held > 0 then
        return {w - 1, total, 1, held}
      end
      if total >= below then
        -- Slot index - 59 + k leaves the window when slot index + 1 + k begins; dropping all 60
        -- leaves $0, below any bound.
        local left, k = total, 0
        while k < 59 do
          left = left - amounts[k + 1]
          if left < below then break end
          k = k + 1
        end
        local leaves_us = (index + 1 + k) * widths[w] * 1000000
        local retry = math.ceil((leaves_us - now_us) / 1000000)
        return {w - 1, total, math.max(retry, 1), 0}
      end
      if micro > 0 and micro <= cap and total + held + micro > cap then
        return {w - 1, total, 1, held}
      end
    end
  end
  return nil
end

local function amount_of(member)
  return tonumber(string.match(member, ':(%d+)$')) or 0
end

-- Writes the reservations' sum back (none left: the keys go).
local function set_held(held)
  if held <= 0 or redis.call('ZCARD', KEYS[5]) == 0 then
    redis.call('DEL', KEYS[5], KEYS[6])
    return 0
  end
  redis.call('SET', KEYS[6], string.format('%.0f', held), 'KEEPTTL')
  return held
end

-- What the budget's live reservations hold, the expired ones dropped first.
local function held_now()
  local held = tonumber(redis.call('GET', KEYS[6]) or '0') or 0
  local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', string.format('%.0f', now_us))
  if #gone == 0 then return held end
  for _, member in ipairs(gone) do held = held - amount_of(member) end
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', string.format('%.0f', now_us))
  return set_held(held)
end
)lua";

// Charges ARGV[5] micro-USD to every capped window, then, when ARGV[6] names a reservation,
// releases it. Returns 1. A hash outgrows its window only by the slot just begun: then (at most
// once a slot) the slots that have left the window are deleted. The TTL is the window's length,
// from the latest charge: a slot leaves the window at most 60 widths after a charge to it.
const redis::Script& charge_script() {
  static const redis::Script script(std::string(kSpendLua) + R"lua(
if tonumber(ARGV[5]) > 0 then
  for w = 1, 4 do
    if tonumber(ARGV[w]) > 0 then
      local index = math.floor(now_s / widths[w])
      redis.call('HINCRBY', KEYS[w], string.format('%d', index), ARGV[5])
      if redis.call('HLEN', KEYS[w]) > 60 then
        for _, field in ipairs(redis.call('HKEYS', KEYS[w])) do
          local slot = tonumber(field)
          if not slot or slot <= index - 60 then redis.call('HDEL', KEYS[w], field) end
        end
      end
      redis.call('PEXPIRE', KEYS[w], string.format('%d', widths[w] * 60 * 1000))
    end
  end
end
if ARGV[6] and redis.call('ZREM', KEYS[5], ARGV[6]) == 1 then
  set_held((tonumber(redis.call('GET', KEYS[6]) or '0') or 0) - amount_of(ARGV[6]))
end
return 1
)lua");
  return script;
}

// ARGV[5] = 0: returns {window 0..3, spent µUSD, retry_after s, 0} for the first capped window
// whose spend has reached its cap (SpendWindows::exhausted), {-1, 0, 0, 0} when all have room.
// ARGV[5] = w in 1..4: returns the spend of window w in µUSD.
const redis::Script& read_script() {
  static const redis::Script script(std::string(kSpendLua) + R"lua(
local only = tonumber(ARGV[5])
if only > 0 then
  local _, _, total = window(only)
  return total
end
return no_room(0, 0) or {-1, 0, 0, 0}
)lua");
  return script;
}

// Reserves ARGV[5] micro-USD as member ARGV[6] until ARGV[7] ms from now when there is room for
// it (SpendWindows::reserve). Returns {-1, 0, 0, held} when reserved, else {window, spent µUSD,
// retry_after s, held µUSD} for the first window without room (held 0 when spend alone leaves
// none).
const redis::Script& reserve_script() {
  static const redis::Script script(std::string(kSpendLua) + R"lua(
local held = held_now()
local micro = tonumber(ARGV[5])
local full = no_room(micro, held)
if full then return full end
if micro > 0 then
  local ttl = tonumber(ARGV[7])
  redis.call('ZADD', KEYS[5], string.format('%.0f', now_us + ttl * 1000), ARGV[6])
  held = held + micro
  redis.call('SET', KEYS[6], string.format('%.0f', held))
  -- The keys live as long as their longest reservation.
  local last = redis.call('ZRANGE', KEYS[5], -1, -1, 'WITHSCORES')
  local keep = math.max(math.ceil((tonumber(last[2]) - now_us) / 1000), 1)
  redis.call('PEXPIRE', KEYS[5], string.format('%.0f', keep))
  redis.call('PEXPIRE', KEYS[6], string.format('%.0f', keep))
end
return {-1, 0, 0, held}
)lua");
  return script;
}

// Names this worker's reservations apart from every other worker's and replica's.
std::string random_tag() {
  std::random_device random;
  const std::uint64_t bits = (std::uint64_t{random()} << 32) | random();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}
constexpr std::uint64_t kMinuteUs = 60'000'000;
constexpr double kMicro = 1e6;
// The GCRA script's bound on per_minute * (ticks per minute): see gcra_script().
constexpr std::uint64_t kMaxBurstScaled = std::uint64_t{1} << 50;

// The GCRA script's tick: 1 µs, or 10^k µs when a limit is so high (above ~18.7M a minute) that
// per_minute * µs per minute would leave doubles' exact range — still far below one unit's worth
// of time (at 18.7M a minute a unit takes 3 µs; at the clamp, 6e10 a minute, the tick is 10 ms,
// 1/6000 of a minute).
std::uint64_t tick_us(std::uint64_t per_minute) {
  std::uint64_t tick = 1;
  while (per_minute * (kMinuteUs / tick) > kMaxBurstScaled) tick *= 10;
  return tick;
}

// In SpendWindows's micro-dollars, so that local and shared spend agree.
std::array<std::uint64_t, config::kWindowCount> caps_of(const config::Budget& budget) {
  std::array<std::uint64_t, config::kWindowCount> caps{};
  for (std::size_t w = 0; w < caps.size(); ++w)
    if (budget.usd[w] > 0) caps[w] = SpendWindows::cap_micro(budget.usd[w]);
  return caps;
}

bool any(const std::array<std::uint64_t, config::kWindowCount>& caps) {
  return std::any_of(caps.begin(), caps.end(), [](std::uint64_t c) { return c > 0; });
}

// A number as a command word, without allocating.
class Decimal {
 public:
  explicit Decimal(std::uint64_t value)
      : size_(static_cast<std::size_t>(
            std::to_chars(buf_.data(), buf_.data() + buf_.size(), value).ptr - buf_.data())) {}
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::array<char, 24> buf_{};
  std::size_t size_;
};

// The reply's integers, when it is an array of exactly N of them.
template <std::size_t N>
std::optional<std::array<long long, N>> integers(const redis::Result& result) {
  if (!result || result.reply->type != redis::Reply::Type::array ||
      result.reply->elements.size() != N)
    return std::nullopt;
  std::array<long long, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    const redis::Reply& element = result.reply->elements[i];
    if (element.type != redis::Reply::Type::integer) return std::nullopt;
    out[i] = element.integer;
  }
  return out;
}

// A script whose answer nobody waits for: only a failure is counted. Owns its words.
Awaitable<void> run_in_background(redis::Client& redis, std::shared_ptr<SharedState::Stats> stats,
                                  const redis::Script& script, std::vector<std::string> keys,
                                  std::vector<std::string> args) {
  const std::vector<std::string_view> key_views(keys.begin(), keys.end());
  const std::vector<std::string_view> arg_views(args.begin(), args.end());
  ++stats->calls;
  const redis::Result result = co_await redis.eval(script, key_views, arg_views);
  if (!result || result.reply->is_error()) ++stats->failures;
}

}  // namespace

SharedState::SharedState(Executor ex, redis::Client& redis, std::string prefix)
    : ex_(ex),
      redis_(redis),
      prefix_(std::move(prefix)),
      tag_(random_tag()),
      stats_(std::make_shared<Stats>()) {}

std::string SharedState::limit_key(std::string_view name) const {
  std::string key;
  key.reserve(prefix_.size() + name.size() + 8);
  key.append(prefix_).append("{limit:").append(name).append("}");
  return key;
}

std::array<std::string, 6> SharedState::spend_keys(std::string_view name) const {
  std::string base;
  base.reserve(prefix_.size() + name.size() + 10);
  base.append(prefix_).append("{spend:").append(name).append("}:");
  return {base + "minute", base + "hour",         base + "day",
          base + "month",  base + "reservations", base + "reserved"};
}

Awaitable<std::optional<SharedState::Take>> SharedState::take(std::string_view name,
                                                              std::uint64_t per_minute,
                                                              std::uint64_t units) {
  return take_key(limit_key(name), per_minute, units);
}

Awaitable<std::optional<SharedState::Take>> SharedState::take_key(std::string key,
                                                                  std::uint64_t per_minute,
                                                                  std::uint64_t units) {
  per_minute = std::min(per_minute, RateLimiter::kMaxPerMinute);
  if (per_minute == 0) co_return Take{true, std::chrono::nanoseconds::zero(), {0, 0, {}}};
  const Decimal limit(per_minute), count(units), tick(tick_us(per_minute));
  // Named: GCC 12 cannot keep an initializer list alive across a co_await.
  const std::array<std::string_view, 1> keys{key};
  const std::array<std::string_view, 4> args{"take", limit.view(), count.view(), tick.view()};
  ++stats_->calls;
  const redis::Result result = co_await redis_.eval(gcra_script(), keys, args);
  const auto values = integers<4>(result);
  if (!values) {
    ++stats_->failures;
    co_return std::nullopt;
  }
  const long long granted = (*values)[0], wait_us = (*values)[1], remaining = (*values)[2],
                  reset_us = (*values)[3];
  Take take;
  take.granted = granted == 1;
  if (!take.granted)
    take.wait = wait_us < 0 ? std::chrono::nanoseconds::max()
                            : std::chrono::nanoseconds(std::chrono::microseconds(wait_us));
  take.usage = {per_minute, static_cast<std::uint64_t>(std::max(remaining, 0LL)),
                std::chrono::microseconds(std::max(reset_us, 0LL))};
  co_return take;
}

void SharedState::give_back(std::string_view name, std::uint64_t per_minute, std::uint64_t units) {
  correct(name, per_minute, units, Correction::give_back);
}

void SharedState::take_anyway(std::string_view name, std::uint64_t per_minute,
                              std::uint64_t units) {
  correct(name, per_minute, units, Correction::take_anyway);
}

void SharedState::correct(std::string_view name, std::uint64_t per_minute, std::uint64_t units,
                          Correction correction) {
  per_minute = std::min(per_minute, RateLimiter::kMaxPerMinute);
  if (per_minute == 0 || units == 0) return;
  std::vector<std::string> args{correction == Correction::give_back ? "give" : "force",
                                std::string(Decimal(per_minute).view()),
                                std::string(Decimal(units).view()),
                                std::string(Decimal(tick_us(per_minute)).view())};
  asio::co_spawn(
      ex_, run_in_background(redis_, stats_, gcra_script(), {limit_key(name)}, std::move(args)),
      asio::detached);
}

void SharedState::charge(std::string_view name, const config::Budget& budget, double usd) {
  settle(name, budget, usd, {}, 0);
}

void SharedState::settle(std::string_view name, const config::Budget& budget, double usd,
                         std::string_view id, std::uint64_t reserved_micro) {
  const Caps caps = caps_of(budget);
  const bool charging = usd > 0, releasing = !id.empty();
  if (!any(caps) || (!charging && !releasing)) return;
  const auto key_words = spend_keys(name);
  std::vector<std::string> keys(key_words.begin(), key_words.end()), args;
  for (const std::uint64_t cap : caps) args.emplace_back(Decimal(cap).view());
  args.emplace_back(Decimal(charging ? SpendWindows::charge_micro(usd) : 0).view());
  if (releasing) args.push_back(member(id, reserved_micro));
  asio::co_spawn(
      ex_, run_in_background(redis_, stats_, charge_script(), std::move(keys), std::move(args)),
      asio::detached);
}

std::string SharedState::reservation_id() {
  return tag_ + "." + std::to_string(++reservations_);
}

std::string SharedState::member(std::string_view id, std::uint64_t micro) {
  return std::string(id) + ":" + std::string(Decimal(micro).view());
}

Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> SharedState::exhausted(
    std::string_view name, const config::Budget& budget) {
  return decide(read_script(), std::string(name), caps_of(budget), budget.usd, 0, {"0"});
}

Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> SharedState::reserve(
    std::string_view name, const config::Budget& budget, std::uint64_t micro, std::string_view id,
    std::chrono::milliseconds ttl) {
  return decide(
      reserve_script(), std::string(name), caps_of(budget), budget.usd, micro,
      {std::string(Decimal(micro).view()), member(id, micro),
       std::string(
           Decimal(static_cast<std::uint64_t>(std::max<std::int64_t>(ttl.count(), 1))).view())});
}

Awaitable<std::optional<std::optional<SpendWindows::Exhausted>>> SharedState::decide(
    const redis::Script& script, std::string name, Caps caps,
    std::array<double, config::kWindowCount> cap_usd, std::uint64_t need_micro,
    std::vector<std::string> tail) {
  using Answer = std::optional<SpendWindows::Exhausted>;
  if (!any(caps)) co_return Answer{};
  const auto key_words = spend_keys(name);
  const std::array<Decimal, config::kWindowCount> cap_words{Decimal(caps[0]), Decimal(caps[1]),
                                                            Decimal(caps[2]), Decimal(caps[3])};
  const std::vector<std::string_view> keys(key_words.begin(), key_words.end());
  std::vector<std::string_view> args;
  for (const Decimal& cap : cap_words) args.push_back(cap.view());
  args.insert(args.end(), tail.begin(), tail.end());
  ++stats_->calls;
  const redis::Result result = co_await redis_.eval(script, keys, args);
  const auto values = integers<4>(result);
  if (!values || (*values)[0] >= static_cast<long long>(config::kWindowCount)) {
    ++stats_->failures;
    co_return std::nullopt;
  }
  const long long window = (*values)[0], spent_micro = (*values)[1], retry_after = (*values)[2],
                  held_micro = (*values)[3];
  if (window < 0) co_return Answer{};
  const auto w = static_cast<std::size_t>(window);
  co_return Answer{SpendWindows::Exhausted{static_cast<config::Window>(w),
                                           static_cast<double>(spent_micro) / kMicro, cap_usd[w],
                                           std::chrono::seconds(std::max(retry_after, 1LL)),
                                           static_cast<double>(std::max(held_micro, 0LL)) / kMicro,
                                           static_cast<double>(need_micro) / kMicro}};
}

Awaitable<std::optional<double>> SharedState::spent(std::string_view name, config::Window window,
                                                    const config::Budget& budget) {
  return spent_keys(std::string(name), window, caps_of(budget));
}

Awaitable<std::optional<double>> SharedState::spent_keys(std::string name, config::Window window,
                                                         Caps caps) {
  const auto w = static_cast<std::size_t>(window);
  if (caps[w] == 0) co_return 0.0;
  const auto key_words = spend_keys(name);
  const Decimal only(w + 1);
  const std::array<std::string_view, config::kWindowCount> keys{key_words[0], key_words[1],
                                                                key_words[2], key_words[3]};
  const std::array<std::string_view, config::kWindowCount + 1> args{"0", "0", "0", "0",
                                                                    only.view()};
  ++stats_->calls;
  const redis::Result result = co_await redis_.eval(read_script(), keys, args);
  if (!result || result.reply->type != redis::Reply::Type::integer) {
    ++stats_->failures;
    co_return std::nullopt;
  }
  co_return static_cast<double>(result.reply->integer) / kMicro;
}

}  // namespace switchyard::state
