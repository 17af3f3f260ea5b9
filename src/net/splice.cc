#include "net/splice.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

namespace pier::net {

std::optional<Pipe> Pipe::open(std::size_t capacity, std::size_t min_capacity) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  Pipe pipe(fds[0], fds[1], 0);
  int granted = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(capacity));
  if (granted < 0) granted = fcntl(fds[1], F_GETPIPE_SZ);
  if (granted < 0 || static_cast<std::size_t>(granted) < min_capacity) return std::nullopt;
  pipe.capacity_ = static_cast<std::size_t>(granted);
  return pipe;
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

bool splice_unsupported(const std::error_code& error) {
  int e = error.value();
  return e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == EPERM;
}

bool has_pending_input(int socket) {
  char byte;
  ssize_t n;
  do {
    n = recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n >= 0;  // a byte, or 0 for a FIN; -1 with EAGAIN: nothing
}

std::optional<Pipe> PipePool::acquire() {
  if (disabled_) return std::nullopt;
  if (free_.empty()) {
    low_water_ = 0;
    // A failed open (file limit) is not retried for every piece of the body that follows.
    if (Clock::now() < retry_open_at_) return std::nullopt;
    std::optional<Pipe> pipe = Pipe::open(kCapacity, kMinCapacity);
    if (!pipe) retry_open_at_ = Clock::now() + std::chrono::seconds(1);
    return pipe;
  }
  Pipe pipe = std::move(free_.back());
  free_.pop_back();
  if (free_.size() < low_water_) low_water_ = free_.size();
  return pipe;
}

void PipePool::release(Pipe pipe) {
  if (free_.size() < kMaxCached) free_.push_back(std::move(pipe));
}

void PipePool::trim(std::size_t keep) {
  std::size_t surplus = low_water_ > keep ? low_water_ - keep : 0;
  for (; surplus > 0 && !free_.empty(); --surplus)
    free_.pop_back();
  low_water_ = free_.size();
}

}  // namespace pier::net
