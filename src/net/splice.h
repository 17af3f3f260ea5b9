// Zero-copy relay through a pipe (Linux splice(2)): bytes move from one socket's receive queue
// into a pipe and from the pipe into another socket's send queue as page references, never
// copied into user space. A large body that the proxy neither stores nor transforms costs two
// copies and twice the memory bandwidth less this way.
#pragma once

#include <cstddef>
#include <optional>
#include <system_error>
#include <vector>

#include "net/clock.h"

namespace pier::net {

class Pipe {
 public:
  // Asks for `capacity` bytes (F_SETPIPE_SZ). nullopt when no pipe can be made (file limit), or
  // when the kernel grants less than `min_capacity`: past a user's pipe quota new pipes get two
  // pages, and moving a body 8 KiB per two syscalls costs more than copying it.
  static std::optional<Pipe> open(std::size_t capacity, std::size_t min_capacity);
  Pipe(Pipe&& other) noexcept;
  Pipe& operator=(Pipe&& other) noexcept;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe();

  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  std::size_t capacity() const { return capacity_; }

 private:
  Pipe(int read_end, int write_end, std::size_t capacity);
  void close();

  int fds_[2] = {-1, -1};
  std::size_t capacity_ = 0;
};

// One splice(2) call between non-blocking descriptors. `bytes` > 0: moved; otherwise either
// `would_block` (nothing ready, or no room), `eof` (the source closed), or `error`.
struct SpliceResult {
  std::size_t bytes = 0;
  bool would_block = false;
  bool eof = false;
  std::error_code error;
};
SpliceResult splice_some(int from, int to, std::size_t max_bytes);

// Whether errno-style `error` from a first splice means the descriptors cannot be spliced at all
// (a kernel or sandbox without splice for sockets), as opposed to a peer that failed.
bool splice_unsupported(const std::error_code& error);

// Whether bytes (or the peer's FIN) are waiting on a socket: one recv(MSG_PEEK).
bool has_pending_input(int socket);

// Each worker's empty pipes, reused from body to body: opening one costs three syscalls.
class PipePool {
 public:
  static constexpr std::size_t kCapacity = 256 * 1024;
  static constexpr std::size_t kMinCapacity = 64 * 1024;

  // nullopt: no pipe now (splicing disabled, or opening one failed within the last second).
  std::optional<Pipe> acquire();
  // Only an empty pipe comes back (a body that failed midway may have left bytes in it: its pipe
  // is closed instead).
  void release(Pipe pipe);
  // As BufferPool::trim: closes the pipes that stayed unused for the whole period, keeping `keep`.
  void trim(std::size_t keep);
  // splice(2) turned out not to work here: every later acquire() says no.
  void disable() { disabled_ = true; }

 private:
  static constexpr std::size_t kMaxCached = 16;
  std::vector<Pipe> free_;
  std::size_t low_water_ = 0;
  TimePoint retry_open_at_{};
  bool disabled_ = false;
};

}  // namespace pier::net
