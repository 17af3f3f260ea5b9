// What an acceptor does when the process is out of file descriptors (EMFILE, ENFILE).
//
// The connection then stays in the kernel's accept queue, the listener stays readable, and the
// client hangs until a descriptor frees up. A spare descriptor, opened ahead for this moment, lets
// the worker take the connection anyway and close it at once with a short 503, so the client
// learns straight away; then the spare is opened again. Errors are logged at most once a second
// per worker, with how many there were since the last line.
#pragma once

#include <cstdint>
#include <system_error>

#include "net/clock.h"

namespace pier::net {

class DescriptorReserve {
 public:
  DescriptorReserve();
  ~DescriptorReserve();
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  // After an accept on `listener` failed with `error`: when it ran out of descriptors, uses the
  // spare to take one waiting connection and turn it away. True when a connection was shed.
  bool shed_one(int listener, const std::error_code& error);

  // Logs an accept error unless one was logged less than a second ago (then counts it).
  void log_error(const std::error_code& error, TimePoint now);

  static bool out_of_descriptors(const std::error_code& error);

 private:
  void reopen();

  int spare_ = -1;
  TimePoint last_log_{};
  std::uint64_t unlogged_ = 0;
};

}  // namespace pier::net
