// The config file watcher: every way an editor, a deploy tool or Kubernetes replaces a file fires
// once; what leaves the content as it was fires nothing.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "switchyard/config/file_watch.hpp"

namespace switchyard::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Short, so the tests are quick; events of one change land well within it.
constexpr std::chrono::milliseconds kSettle = 50ms;
// How long nothing must happen before "it did not fire" is believed: the settle period several
// times over, plus the watcher's own reaction time.
constexpr std::chrono::milliseconds kQuiet = 6 * kSettle;
// How long a change may take to fire before the test gives up.
constexpr std::chrono::seconds kPatience = 5s;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class FileWatch : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "switchyard-watch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    file_ = root_ / "config.yaml";
  }
  void TearDown() override {
    watcher_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void watch(const fs::path& path, std::chrono::milliseconds settle = kSettle) {
    watcher_ = std::make_unique<FileWatcher>(
        io_.get_executor(), path, [this] { ++fired_; }, settle);
    watcher_->start();
  }

  // Runs the io_context until `fired_` reaches `count` or `kPatience` passes.
  bool fires(int count) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (fired_ < count && std::chrono::steady_clock::now() < deadline)
      io_.run_one_until(deadline);
    return fired_ >= count;
  }

  // Runs the io_context for `kQuiet`: what should not fire has had every chance to.
  void let_it_settle() { io_.run_for(kQuiet); }

  // Proves the watch is still alive after a change that should not have fired.
  void expect_a_real_change_still_fires() {
    const int before = fired_;
    write_file(file_, "proof: " + std::to_string(before) + "\n");
    EXPECT_TRUE(fires(before + 1));
    let_it_settle();
    EXPECT_EQ(fired_, before + 1);
  }

  asio::io_context io_;
  fs::path root_;
  fs::path file_;
  std::unique_ptr<FileWatcher> watcher_;
  int fired_ = 0;
};

TEST_F(FileWatch, WriteInPlaceFiresOnce) {
  write_file(file_, "a: 1\n");
  watch(file_);
  write_file(file_, "a: 2\n");
  EXPECT_TRUE(fires(1));
  let_it_settle();
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, RenameOfATempFileOverThePathFires) {
  write_file(file_, "a: 1\n");
  watch(file_);
  const fs::path temp = root_ / ".config.yaml.swp";
  write_file(temp, "a: 2\n");
  fs::rename(temp, file_);
  EXPECT_TRUE(fires(1));
  let_it_settle();
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, DeleteThenRecreateWithNewContentFiresOnlyOnceItIsBack) {
  write_file(file_, "a: 1\n");
  watch(file_);
  fs::remove(file_);
  let_it_settle();
  EXPECT_EQ(fired_, 0) << "a missing file has no content to load";
  write_file(file_, "a: 2\n");
  EXPECT_TRUE(fires(1));
  let_it_settle();
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, DeleteThenRecreateWithTheSameContentDoesNotFire) {
  write_file(file_, "a: 1\n");
  watch(file_);
  fs::remove(file_);
  let_it_settle();
  write_file(file_, "a: 1\n");
  let_it_settle();
  EXPECT_EQ(fired_, 0);
  expect_a_real_change_still_fires();
}

TEST_F(FileWatch, TouchWithTheSameContentDoesNotFire) {
  write_file(file_, "a: 1\n");
  watch(file_);
  // What touch(1) does: both times to now, an IN_ATTRIB. (std::filesystem::last_write_time sets
  // the mtime alone, which inotify reports as IN_MODIFY.)
  ASSERT_EQ(::utimensat(AT_FDCWD, file_.c_str(), nullptr, 0), 0);
  let_it_settle();
  EXPECT_EQ(fired_, 0);
  expect_a_real_change_still_fires();
}

TEST_F(FileWatch, WritingAnotherFileInTheSameDirectoryDoesNotFire) {
  write_file(file_, "a: 1\n");
  watch(file_);
  write_file(root_ / "other.yaml", "b: 1\n");
  fs::rename(root_ / "other.yaml", root_ / "renamed.yaml");
  let_it_settle();
  EXPECT_EQ(fired_, 0);
  expect_a_real_change_still_fires();
}

TEST_F(FileWatch, ThreeQuickWritesWithinTheSettleWindowFireOnce) {
  write_file(file_, "a: 1\n");
  constexpr auto settle = 300ms;
  watch(file_, settle);
  // Apart enough for the watcher to see each write as its own event.
  for (int i = 2; i <= 4; ++i) {
    write_file(file_, "a: " + std::to_string(i) + "\n");
    io_.run_for(settle / 10);
  }
  EXPECT_TRUE(fires(1));
  io_.run_for(3 * settle);
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, WritesThatKeepComingWithinTheSettlePeriodFireOnceAfterTheLast) {
  // An editor's steps can span more than one settle period in all, never a gap of one: the check
  // waits for the directory to be quiet, not for a settle period after the first event.
  write_file(file_, "a: 1\n");
  constexpr auto settle = 300ms;
  watch(file_, settle);
  for (int i = 2; i <= 4; ++i) {
    write_file(file_, "a: " + std::to_string(i) + "\n");
    io_.run_for(settle * 6 / 10);
  }
  EXPECT_TRUE(fires(1));
  io_.run_for(3 * settle);
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, SwappingTheSymlinkOnTheWayToTheFileFires) {
  // config.yaml -> ../links/current -> ../a/config.yaml; `links` is not the watched file's
  // directory, so this only fires if the directory holding the link is watched too.
  fs::create_directories(root_ / "conf");
  fs::create_directories(root_ / "links");
  fs::create_directories(root_ / "a");
  fs::create_directories(root_ / "b");
  write_file(root_ / "a" / "config.yaml", "a: 1\n");
  write_file(root_ / "b" / "config.yaml", "a: 2\n");
  fs::create_symlink("../a/config.yaml", root_ / "links" / "current");
  const fs::path path = root_ / "conf" / "config.yaml";
  fs::create_symlink("../links/current", path);
  watch(path);

  fs::create_symlink("../b/config.yaml", root_ / "links" / "current.new");
  fs::rename(root_ / "links" / "current.new", root_ / "links" / "current");
  EXPECT_TRUE(fires(1));
  let_it_settle();
  EXPECT_EQ(fired_, 1);

  // The watch has moved on with the link: b is now where the file lives, a no longer matters.
  write_file(root_ / "a" / "config.yaml", "a: 3\n");
  let_it_settle();
  EXPECT_EQ(fired_, 1);
  write_file(root_ / "b" / "config.yaml", "a: 4\n");
  EXPECT_TRUE(fires(2));
}

TEST_F(FileWatch, AConfigMapDataSwapFires) {
  // What the kubelet does: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>; an update
  // writes a new timestamped directory, renames a new ..data link over the old one, deletes the
  // old directory.
  fs::create_directories(root_ / "..2024_01");
  write_file(root_ / "..2024_01" / "config.yaml", "a: 1\n");
  fs::create_directory_symlink("..2024_01", root_ / "..data");
  fs::create_symlink("..data/config.yaml", file_);
  watch(file_);

  fs::create_directories(root_ / "..2024_02");
  write_file(root_ / "..2024_02" / "config.yaml", "a: 2\n");
  fs::create_directory_symlink("..2024_02", root_ / "..data_tmp");
  fs::rename(root_ / "..data_tmp", root_ / "..data");
  fs::remove_all(root_ / "..2024_01");
  EXPECT_TRUE(fires(1));
  let_it_settle();
  EXPECT_EQ(fired_, 1);
}

TEST_F(FileWatch, WritingTheSymlinkTargetInAnotherDirectoryFires) {
  fs::create_directories(root_ / "conf");
  fs::create_directories(root_ / "real");
  write_file(root_ / "real" / "config.yaml", "a: 1\n");
  const fs::path path = root_ / "conf" / "config.yaml";
  fs::create_symlink("../real/config.yaml", path);
  watch(path);
  write_file(root_ / "real" / "config.yaml", "a: 2\n");
  EXPECT_TRUE(fires(1));
}

TEST_F(FileWatch, AFileMissingAtStartFiresWhenItAppears) {
  watch(file_);
  write_file(file_, "a: 1\n");
  EXPECT_TRUE(fires(1));
}

TEST_F(FileWatch, ALinkIntoADirectoryThatDoesNotExistYetFiresOnceTheFileAppears) {
  // No watched directory sees `later` being created: the watch polls while it cannot watch it.
  fs::create_directories(root_ / "conf");
  const fs::path path = root_ / "conf" / "config.yaml";
  fs::create_symlink("../later/config.yaml", path);
  watch(path);
  fs::create_directories(root_ / "later");
  write_file(root_ / "later" / "config.yaml", "a: 1\n");
  EXPECT_TRUE(fires(1));
  // Found, it is watched again: a write to it fires without waiting for a poll.
  write_file(root_ / "later" / "config.yaml", "a: 2\n");
  EXPECT_TRUE(fires(2));
}

TEST_F(FileWatch, StopEndsTheWatchAndLeavesTheIoContextNothingToDo) {
  write_file(file_, "a: 1\n");
  watch(file_);
  io_.poll();  // the watch is waiting for events
  watcher_->stop();
  io_.run_for(kPatience);
  EXPECT_TRUE(io_.stopped()) << "the watch's operations should all have ended";
}

TEST_F(FileWatch, StopWithAChangeAlreadyQueuedFiresNothing) {
  write_file(file_, "a: 1\n");
  watch(file_);
  io_.poll();
  write_file(file_, "a: 2\n");
  watcher_->stop();
  io_.run_for(kPatience);
  EXPECT_TRUE(io_.stopped());
  EXPECT_EQ(fired_, 0);
}

TEST_F(FileWatch, DestroyingTheWatcherWhileItSettlesEndsTheWatch) {
  write_file(file_, "a: 1\n");
  watch(file_, 1s);
  write_file(file_, "a: 2\n");
  io_.run_for(kSettle);  // the event is read; the settle timer is running
  watcher_.reset();
  io_.run_for(kPatience);
  EXPECT_TRUE(io_.stopped());
  EXPECT_EQ(fired_, 0);
}

TEST_F(FileWatch, OnChangeMayDestroyTheWatcher) {
  write_file(file_, "a: 1\n");
  watcher_ = std::make_unique<FileWatcher>(
      io_.get_executor(), file_,
      [this] {
        ++fired_;
        watcher_.reset();
      },
      kSettle);
  watcher_->start();
  write_file(file_, "a: 2\n");
  EXPECT_TRUE(fires(1));
  io_.run_for(kPatience);
  EXPECT_TRUE(io_.stopped());
}

TEST_F(FileWatch, RestartTakesTheCurrentContentAsTheBaseline) {
  write_file(file_, "a: 1\n");
  watch(file_);
  watcher_->stop();
  write_file(file_, "a: 2\n");
  watcher_->start();
  let_it_settle();
  EXPECT_EQ(fired_, 0);
  expect_a_real_change_still_fires();
}

TEST_F(FileWatch, StartThrowsWhenTheDirectoryCannotBeWatched) {
  FileWatcher watcher(io_.get_executor(), root_ / "missing" / "config.yaml", [] {});
  EXPECT_THROW(watcher.start(), std::system_error);
}

}  // namespace
}  // namespace switchyard::config
