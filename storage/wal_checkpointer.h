#pragma once
// Keeps SQLite's WAL checkpoints off the commit path.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages. That
// commit then copies the pages back into the database and fsyncs twice. On ext4 this took about
// 6 ms, and every webhook ack waiting for that group commit waited too. It was the whole ack p99
// on ext4 (bench/RESULTS.md, "Checkpoints off the commit path").
//
// Here a thread with its own connection checkpoints in the background. It uses PASSIVE
// checkpoints, which never block the writer. The WAL only starts over from its beginning when a
// write transaction begins with every frame already checkpointed. A busy writer appends frames
// while a background checkpoint runs, so that moment never comes by itself. So once the WAL has
// reached restart_frames and the background has copied all but inline_remainder frames, the
// writer checkpoints that small rest itself, right after a commit, and its next transaction starts
// the WAL over. If the background falls behind or fails, the writer checkpoints the whole WAL
// itself at hard_frames, as SQLite would have, so the WAL stays bounded.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite.h"

struct sqlite3;

namespace roundup::telemetry {
class Counter;
}  // namespace roundup::telemetry

namespace roundup::storage {

struct WalCheckpointOptions {
  int background_every = 1000;  // frames appended since the last background checkpoint that wake it
  int restart_frames = 8000;    // WAL size (frames of about 4 KiB) at which the writer restarts it
  int inline_remainder = 256;   // the most frames the writer checkpoints itself to get there
  int hard_frames = 32000;      // the writer checkpoints everything itself beyond this
};

// What the writer does after a commit that left `frames` frames in the WAL, of which the background
// has copied `backfilled` (0 when unknown).
enum class WalCommitAction {
  none,              // nothing; maybe wake the background
  checkpoint_rest,   // checkpoint the few frames left, so the next transaction restarts the WAL
  checkpoint_whole,  // checkpoint the whole WAL: the background has fallen behind
};
WalCommitAction wal_commit_action(int frames, int backfilled, const WalCheckpointOptions& options);

class WalCheckpointer {
 public:
  // `writer` is the connection that commits (in WAL mode); its WAL hook is replaced, which also
  // turns off its automatic checkpoint. The hook runs on whatever thread commits on `writer`, and
  // that thread must be the only one using `writer` at the time (the caller's lock). `file` is
  // opened a second time for the background thread; when it cannot be, `raise` throws (the
  // writer's own error type), or SqliteError when it is null.
  WalCheckpointer(sqlite3* writer, const std::filesystem::path& file, WalCheckpointOptions options = {},
                  RaiseError raise = nullptr);
  // Stops the thread and gives `writer` back SQLite's automatic checkpoint. Call it before
  // closing `writer`.
  ~WalCheckpointer();

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  struct Stats {
    std::size_t background = 0;   // background checkpoints run
    std::size_t inline_rest = 0;  // small checkpoints the writer ran to restart the WAL
    std::size_t inline_full = 0;  // whole-WAL checkpoints the writer ran past hard_frames
    std::size_t restarts = 0;     // commits that found the WAL started over
    int largest_wal_frames = 0;
    std::string last_error;  // of a background checkpoint; empty when none failed
  };
  Stats stats() const;
  // Returns once no background checkpoint is asked for or running.
  void wait_idle();

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  int after_commit(sqlite3* db, const char* schema, int frames);
  void run();
  // Frames the last checkpoint copied, if it was of the WAL as it is now (else 0).
  int copied_of_current_wal() const;
  void record_copied(std::uint32_t generation, int copied);

  sqlite3* writer_;
  sqlite3* background_ = nullptr;
  WalCheckpointOptions options_;

  // How far the last checkpoint got: (generation << 32) | frames copied. The generation counts the
  // WAL's restarts, so a count that belongs to the WAL before a restart is not taken for the new
  // one's.
  std::atomic<std::uint64_t> progress_{0};
  std::atomic<std::uint32_t> generation_{0};
  int last_frames_ = 0;          // only the writer's hook touches it
  std::mutex checkpoint_mutex_;  // one checkpoint at a time within this process
  // The same counts in /metrics (process-wide: every store's checkpoints add to them).
  telemetry::Counter& background_metric_;
  telemetry::Counter& inline_rest_metric_;
  telemetry::Counter& inline_full_metric_;
  telemetry::Counter& restarts_metric_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool wanted_ = false;
  bool running_ = false;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace roundup::storage
