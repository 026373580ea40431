#include "storage/wal_checkpointer.h"

#include <sqlite3.h>

#include <algorithm>

#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace roundup::storage {

WalCommitAction wal_commit_action(int frames, int backfilled, const WalCheckpointOptions& options) {
  if (backfilled > frames) backfilled = 0;  // from the WAL before a restart
  if (frames >= options.hard_frames) return WalCommitAction::checkpoint_whole;
  if (frames >= options.restart_frames && frames - backfilled <= options.inline_remainder) {
    return WalCommitAction::checkpoint_rest;
  }
  return WalCommitAction::none;
}

namespace {

telemetry::Counter& checkpoints_metric(const char* by) {
  return telemetry::metrics().counter(
      "roundup_state_wal_checkpoints_total",
      "Checkpoints of the state database's WAL, by who ran them: the background thread, the "
      "writer for the small rest before a restart, or the writer for the whole WAL because the "
      "background fell behind",
      {{"by", by}});
}

[[noreturn]] void raise_error(RaiseError raise, const std::string& message) {
  if (raise) raise(message);
  throw SqliteError(message);
}

}  // namespace

WalCheckpointer::WalCheckpointer(sqlite3* writer, const std::filesystem::path& file, WalCheckpointOptions options,
                                 RaiseError raise)
    : writer_(writer),
      options_(options),
      background_metric_(checkpoints_metric("background")),
      inline_rest_metric_(checkpoints_metric("writer_rest")),
      inline_full_metric_(checkpoints_metric("writer_whole")),
      restarts_metric_(telemetry::metrics().counter("roundup_state_wal_restarts_total",
                                                    "Times the state database's WAL started over from its beginning")) {
  if (sqlite3_open_v2(file.c_str(), &background_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string message = background_ ? sqlite3_errmsg(background_) : "out of memory";
    sqlite3_close(background_);
    raise_error(raise, "cannot open " + file.string() + " for WAL checkpoints: " + message);
  }
  // A connection that has not read the database yet does not know it is in WAL mode, and its
  // checkpoints silently do nothing (they report -1 frames).
  if (sqlite3_exec(background_, "PRAGMA journal_mode", nullptr, nullptr, nullptr) != SQLITE_OK) {
    const std::string message = sqlite3_errmsg(background_);
    sqlite3_close(background_);
    raise_error(raise, "cannot read " + file.string() + " for WAL checkpoints: " + message);
  }
  sqlite3_wal_hook(writer_, &WalCheckpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  sqlite3_close_v2(background_);
  // Back to SQLite's own checkpoints for whatever the connection still writes; its close then
  // checkpoints and removes the WAL, being the last connection.
  sqlite3_wal_autocheckpoint(writer_, 1000);  // SQLite's default
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  return static_cast<WalCheckpointer*>(self)->after_commit(db, schema, frames);
}

int WalCheckpointer::after_commit(sqlite3* db, const char* schema, int frames) {
  const bool restarted = frames < last_frames_;
  last_frames_ = frames;
  if (restarted) generation_.fetch_add(1);
  const auto action = wal_commit_action(frames, copied_of_current_wal(), options_);
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    stats_.largest_wal_frames = std::max(stats_.largest_wal_frames, frames);
    if (restarted) {
      ++stats_.restarts;
      restarts_metric_.inc();
    }
    if (action == WalCommitAction::checkpoint_rest) {
      ++stats_.inline_rest;
      inline_rest_metric_.inc();
    }
    if (action == WalCommitAction::checkpoint_whole) {
      ++stats_.inline_full;
      inline_full_metric_.inc();
    }
    if (action == WalCommitAction::none && frames - copied_of_current_wal() >= options_.background_every && !wanted_ &&
        !running_) {
      wanted_ = true;
      wake = true;
    }
  }
  if (wake) changed_.notify_one();
  if (action == WalCommitAction::none) return SQLITE_OK;

  // The rest is worth doing only when the background is not checkpointing right now; the whole WAL
  // has to be done, so it waits for a running background checkpoint to finish first.
  std::unique_lock checkpointing(checkpoint_mutex_, std::defer_lock);
  if (action == WalCommitAction::checkpoint_whole) {
    checkpointing.lock();
  } else if (!checkpointing.try_lock()) {
    return SQLITE_OK;
  }
  // The commit has happened: a failed checkpoint only leaves the WAL as long as it was, and the
  // next commit tries again, so it is not this commit's error.
  const auto generation = generation_.load();
  int log_frames = 0;
  int copied = 0;
  if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied) == SQLITE_OK) {
    record_copied(generation, copied);
  }
  return SQLITE_OK;
}

int WalCheckpointer::copied_of_current_wal() const {
  const auto progress = progress_.load();
  if (static_cast<std::uint32_t>(progress >> 32) != generation_.load()) return 0;
  return static_cast<int>(progress & 0xffffffffU);
}

void WalCheckpointer::record_copied(std::uint32_t generation, int copied) {
  if (copied < 0) return;
  progress_.store((static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(copied));
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || wanted_; });
    if (stopping_) return;
    wanted_ = false;
    running_ = true;
    lock.unlock();
    std::string error;
    {
      std::lock_guard checkpointing(checkpoint_mutex_);
      // Read before the checkpoint: if the WAL starts over meanwhile, the count is discarded as
      // belonging to the old one.
      const auto generation = generation_.load();
      int log_frames = 0;
      int copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(background_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
      if (rc == SQLITE_OK) {
        record_copied(generation, copied);
      } else if (rc != SQLITE_BUSY) {  // busy: another process is checkpointing
        error = sqlite3_errmsg(background_);
      }
    }
    if (!error.empty()) log::warn("state", "background checkpoint failed", {{"error", error}});
    lock.lock();
    running_ = false;
    ++stats_.background;
    background_metric_.inc();
    if (!error.empty()) stats_.last_error = error;
    changed_.notify_all();  // wait_idle()
  }
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void WalCheckpointer::wait_idle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || (!wanted_ && !running_); });
}

}  // namespace roundup::storage
