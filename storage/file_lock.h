#pragma once
// An advisory lock on a file (flock): held by one open file description at a time, released when
// it is closed, also when the process dies, so a crashed holder never leaves it stuck.

#include <filesystem>

namespace roundup::storage {

class FileLock {
 public:
  // Opens `file`, creating it with `mode` when missing (its directory must exist). Does not lock.
  // Throws std::system_error ("cannot open lock file <file>") when it cannot.
  explicit FileLock(const std::filesystem::path& file, unsigned mode = 0644);
  ~FileLock();  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Waits until the lock is free, then takes it. Throws std::system_error when it cannot.
  void lock();
  // Takes the lock if it is free; false when another holds it. Throws std::system_error on any
  // other failure.
  bool try_lock();
  void unlock() noexcept;

  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

}  // namespace roundup::storage
