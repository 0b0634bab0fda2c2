// Watches the configuration file so an edit reloads it without a SIGHUP. Calls `on_change` when
// the file's content changes, however it was changed: written in place, replaced by an editor's
// write-to-temp-then-rename, deleted and recreated, or swapped under a symlink the way a
// Kubernetes ConfigMap volume does it (config.yaml -> ..data/config.yaml, with ..data a symlink
// that is atomically renamed onto a new directory).
//
// inotify watches directories, never the file: a file watch follows the inode, which a rename or
// a symlink swap leaves behind. The watched directories are the file's own, the one holding each
// symlink on the way to the real file, and the real file's; they are worked out again after each
// batch of events, since a swap moves the real file. Any event in them starts a settle period
// (editors write in several steps); when the directories have been quiet for `settle`, the file
// is read and its content compared with the last content seen. A touch, an event for another
// file, or a missing or unreadable file fires nothing; a file that reappears fires if its content
// differs from the last seen.
//
// Runs on one io_context thread and never blocks it (reading the file aside: it is small and
// local). `on_change` runs on that thread and may stop or destroy the watcher; an exception from
// it ends the watch and leaves io_context::run().
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>

#include "switchyard/async.hpp"

namespace switchyard::config {

class FileWatcher {
 public:
  FileWatcher(Executor ex, std::filesystem::path path, std::function<void()> on_change,
              std::chrono::milliseconds settle = std::chrono::milliseconds(100));
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Reads the baseline content (the config was just loaded from it) and starts watching; a
  // running watch is restarted. Throws std::system_error when inotify cannot be set up or the
  // file's directory cannot be watched; the caller logs it and runs without the watch.
  void start();
  // Ends the watch: nothing fires after it returns, and the watch's pending operations finish
  // (cancelled) the next time the io_context runs.
  void stop();

 private:
  // One running watch. Owned by its coroutine frame, so the frame never outlives what it uses;
  // `watch_` points at it while it runs.
  struct Watch;

  Executor ex_;
  std::filesystem::path path_;
  std::function<void()> on_change_;
  std::chrono::milliseconds settle_;
  Watch* watch_ = nullptr;
};

}  // namespace switchyard::config
