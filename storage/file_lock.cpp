#include "storage/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace roundup::storage {

FileLock::FileLock(const std::filesystem::path& file, unsigned mode) : file_(file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open lock file " + file.string());
}

FileLock::~FileLock() {
  ::close(fd_);
}

void FileLock::lock() {
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "cannot lock " + file_.string());
  }
}

bool FileLock::try_lock() {
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "cannot lock " + file_.string());
  }
  return true;
}

void FileLock::unlock() noexcept {
  ::flock(fd_, LOCK_UN);
}

}  // namespace roundup::storage
