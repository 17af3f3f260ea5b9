#include "net/splice.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace pier::net {

std::optional<Pipe> Pipe::open(std::size_t capacity) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  int granted = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(capacity));
  if (granted < 0) granted = fcntl(fds[1], F_GETPIPE_SZ);
  if (granted <= 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  return Pipe(fds[0], fds[1], static_cast<std::size_t>(granted));
}

Pipe::Pipe(int read_end, int write_end, std::size_t capacity)
    : fds_{read_end, write_end}, capacity_(capacity) {}

Pipe::Pipe(Pipe&& other) noexcept
    : fds_{std::exchange(other.fds_[0], -1), std::exchange(other.fds_[1], -1)},
      capacity_(other.capacity_) {}

Pipe& Pipe::operator=(Pipe&& other) noexcept {
  if (this != &other) {
    close();
    fds_[0] = std::exchange(other.fds_[0], -1);
    fds_[1] = std::exchange(other.fds_[1], -1);
    capacity_ = other.capacity_;
  }
  return *this;
}

Pipe::~Pipe() {
  close();
}

void Pipe::close() {
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

SpliceResult splice_some(int from, int to, std::size_t max_bytes) {
  SpliceResult result;
  ssize_t n;
  do {
    n = splice(from, nullptr, to, nullptr, max_bytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    result.bytes = static_cast<std::size_t>(n);
  } else if (n == 0) {
    result.eof = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    result.would_block = true;
  } else {
    result.error = std::error_code(errno, std::system_category());
  }
  return result;
}

std::optional<Pipe> PipePool::acquire() {
  if (free_.empty()) return Pipe::open(kCapacity);
  Pipe pipe = std::move(free_.back());
  free_.pop_back();
  return pipe;
}

void PipePool::release(Pipe pipe) {
  if (free_.size() < kMaxCached) free_.push_back(std::move(pipe));
}

void PipePool::trim(std::size_t keep) {
  while (free_.size() > keep)
    free_.pop_back();
}

}  // namespace pier::net
