// Zero-copy relay through a pipe (Linux splice(2)): bytes move from one socket's receive queue
// into a pipe and from the pipe into another socket's send queue as page references, never
// copied into user space. A large body that the proxy neither stores nor transforms costs two
// copies and twice the memory bandwidth less this way.
#pragma once

#include <cstddef>
#include <optional>
#include <system_error>
#include <vector>

namespace pier::net {

class Pipe {
 public:
  // Asks for `capacity` bytes (F_SETPIPE_SZ); the kernel may grant less (pipe-max-size, a user's
  // pipe quota). nullopt when no pipe can be made (file limit, a kernel without pipes).
  static std::optional<Pipe> open(std::size_t capacity);
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

// Each worker's empty pipes, reused from body to body: opening one costs three syscalls.
class PipePool {
 public:
  static constexpr std::size_t kCapacity = 256 * 1024;
  std::optional<Pipe> acquire();
  // Only an empty pipe comes back (a body that failed midway may have left bytes in it: its pipe
  // is closed instead).
  void release(Pipe pipe);
  void trim(std::size_t keep);

 private:
  static constexpr std::size_t kMaxCached = 16;
  std::vector<Pipe> free_;
};

}  // namespace pier::net
