#include "switchyard/config/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace switchyard::config {

namespace fs = std::filesystem;

namespace {

// Everything that can replace or rewrite a file in a directory: IN_CLOSE_WRITE for a write in
// place, IN_MOVED_TO / IN_MOVED_FROM for a rename over it (editors, a ConfigMap's ..data swap),
// IN_CREATE / IN_DELETE for delete-and-recreate and new symlinks, IN_ATTRIB for a chmod that makes
// it readable again. The *_SELF events say a watched directory itself went away.
constexpr std::uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                  IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |
                                  IN_ONLYDIR;

// Events that keep coming (a busy log file next to the config) postpone the content check by at
// most this many settle periods, so they cannot starve it.
constexpr int kMaxSettles = 10;

// While a directory on the way to the file is missing (a dangling symlink, a directory being
// recreated) no event can announce the file's return, so the watch looks this often.
constexpr std::chrono::seconds kPollInterval{1};

// The kernel's own limit on symlinks followed while resolving a path (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

// What "the content changed" compares. The size rules out most collisions before the hash does.
struct Digest {
  std::size_t size = 0;
  std::size_t hash = 0;
  bool operator==(const Digest&) const = default;
};

// The content of the file `path` resolves to, or nothing while it is missing, unreadable or not
// a regular file (a FIFO would block the reader).
std::optional<Digest> read_digest(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::nullopt;
  return Digest{content.size(), std::hash<std::string>{}(content)};
}

// The directories where a change to `path` can happen: the one holding `path`, and for each
// symlink on the way to the real file the directory holding its target. A swap of a link's target
// is an event in the link's directory; a write to the real file, one in the real file's.
// For a ConfigMap, /etc/app/config.yaml -> ..data/config.yaml gives /etc/app (where ..data is
// swapped) and /etc/app/..data, which inotify resolves to the current timestamped directory.
std::vector<fs::path> directories_on_the_way(const fs::path& path) {
  std::vector<fs::path> dirs{path.parent_path()};
  fs::path at = path;
  for (int hop = 0; hop < kMaxSymlinks; ++hop) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(at, ec)) || ec) break;
    const fs::path target = fs::read_symlink(at, ec);
    if (ec) break;
    at = target.is_absolute() ? target : at.parent_path() / target;
    dirs.push_back(at.parent_path());
  }
  return dirs;
}

}  // namespace

struct FileWatcher::Watch {
  Watch(Executor ex, fs::path file, std::function<void()> callback, std::chrono::milliseconds wait)
      : inotify(ex),
        timer(ex),
        path(std::move(file)),
        on_change(std::move(callback)),
        settle(wait) {}
  ~Watch() {
    if (owner) *owner = nullptr;
  }

  static Awaitable<void> run(std::unique_ptr<Watch> self);

  // Points the inotify watches at the directories on the way to the file now, dropping those no
  // longer on the way. Returns why the file's own directory cannot be watched, if it cannot.
  std::error_code watch_directories() {
    const std::vector<fs::path> dirs = directories_on_the_way(path);
    std::vector<int> now;
    std::error_code own_dir;
    bool all = true;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      const int wd = ::inotify_add_watch(inotify.native_handle(), dirs[i].c_str(), kEvents);
      if (wd >= 0) {
        now.push_back(wd);
      } else {
        all = false;
        if (i == 0) own_dir = std::error_code(errno, std::generic_category());
      }
    }
    // The same directory reached twice (or unchanged since last time) has the same descriptor.
    std::sort(now.begin(), now.end());
    now.erase(std::unique(now.begin(), now.end()), now.end());
    for (const int wd : watched)
      if (!std::binary_search(now.begin(), now.end(), wd))
        ::inotify_rm_watch(inotify.native_handle(), wd);  // EINVAL if the kernel dropped it
    watched = std::move(now);
    all_watched = all && !inotify_failed;
    return own_dir;
  }

  // Reads the queued events without waiting; says whether there were any. Which file an event
  // names does not matter: the content check decides.
  bool drain() {
    bool any = false;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = inotify.read_some(asio::buffer(events), ec);
      if (ec) return any;  // would_block: drained
      any = any || n > 0;
    }
  }

  // Whether the file now holds content other than the last seen; a missing file holds none.
  bool content_changed() {
    const std::optional<Digest> now = read_digest(path);
    if (!now || now == last) return false;
    last = now;
    return true;
  }

  asio::posix::basic_stream_descriptor<Executor> inotify;
  Timer timer;  // the settle period, or the poll interval
  const fs::path path;
  const std::function<void()> on_change;
  const std::chrono::milliseconds settle;
  std::optional<Digest> last;  // nothing: not seen yet (missing at start)
  std::vector<int> watched;    // inotify watch descriptors, sorted
  bool all_watched = false;    // false: some directory cannot be watched, so poll
  bool inotify_failed = false;
  bool stopped = false;
  Watch** owner = nullptr;  // the FileWatcher's pointer to this, while it has one
  alignas(inotify_event) std::array<char, 4096> events;
};

Awaitable<void> FileWatcher::Watch::run(std::unique_ptr<Watch> self) {
  Watch& w = *self;
  while (!w.stopped) {
    if (w.all_watched) {
      const auto [ec, n] = co_await w.inotify.async_read_some(asio::buffer(w.events), as_result);
      if (w.stopped) co_return;
      if (ec) w.inotify_failed = true;  // never seen; polling still notices changes
    } else {
      w.timer.expires_after(kPollInterval);
      co_await w.timer.async_wait(as_result);
      if (w.stopped) co_return;
    }
    // The check runs once the directories have been quiet for a whole settle period.
    const auto give_up = std::chrono::steady_clock::now() + kMaxSettles * w.settle;
    do {
      w.timer.expires_after(w.settle);
      co_await w.timer.async_wait(as_result);
      if (w.stopped) co_return;
    } while (w.drain() && std::chrono::steady_clock::now() < give_up);
    w.watch_directories();
    // `w` belongs to this frame: on_change may stop or destroy the FileWatcher.
    if (w.content_changed()) w.on_change();
  }
}

FileWatcher::FileWatcher(Executor ex, fs::path path, std::function<void()> on_change,
                         std::chrono::milliseconds settle)
    : ex_(ex), path_(std::move(path)), on_change_(std::move(on_change)), settle_(settle) {}

FileWatcher::~FileWatcher() {
  stop();
}

void FileWatcher::start() {
  stop();
  auto watch = std::make_unique<Watch>(ex_, fs::absolute(path_), on_change_, settle_);
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  boost::system::error_code ec;
  watch->inotify.assign(fd, ec);
  if (ec) {
    ::close(fd);
    throw std::system_error(ec, "inotify descriptor");
  }
  watch->inotify.non_blocking(true, ec);  // drain() reads until would_block
  if (ec) throw std::system_error(ec, "inotify descriptor");
  if (const std::error_code own_dir = watch->watch_directories())
    throw std::system_error(own_dir, "cannot watch " + watch->path.parent_path().string());
  watch->last = read_digest(watch->path);
  watch->owner = &watch_;
  watch_ = watch.get();
  asio::co_spawn(ex_, Watch::run(std::move(watch)), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // from on_change: out of io_context::run()
  });
}

void FileWatcher::stop() {
  if (!watch_) return;
  Watch& w = *watch_;
  watch_ = nullptr;
  w.owner = nullptr;
  w.stopped = true;
  // The frame wakes (operation_aborted), sees `stopped` and ends, freeing the watch.
  boost::system::error_code ignored;
  w.inotify.close(ignored);
  w.timer.cancel();
}

}  // namespace switchyard::config
