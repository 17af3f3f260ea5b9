#include "net/descriptor_reserve.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/error.hpp>
#include <cerrno>

namespace pier::net {

DescriptorReserve::DescriptorReserve() {
  reopen();
}

DescriptorReserve::~DescriptorReserve() {
  if (spare_ >= 0) ::close(spare_);
}

void DescriptorReserve::reopen() {
  if (spare_ < 0) spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool DescriptorReserve::out_of_descriptors(const std::error_code& error) {
  // Asio reports errno in a category of its own ("asio.system") that compares equal to no
  // std::errc, so the value is checked with the category.
  const std::error_category& c = error.category();
  bool errno_value = c == asio::error::get_system_category() || c == std::system_category() ||
                     c == std::generic_category();
  return errno_value && (error.value() == EMFILE || error.value() == ENFILE);
}

bool DescriptorReserve::shed_one(int listener, const std::error_code& error) {
  if (!out_of_descriptors(error) || spare_ < 0) return false;
  ::close(spare_);
  spare_ = -1;
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (conn >= 0) {
    static constexpr char kBusy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
        "Connection: close\r\n\r\n";
    ssize_t ignored = ::send(conn, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    ::shutdown(conn, SHUT_WR);
    ::close(conn);
  }
  reopen();
  return conn >= 0;
}

void DescriptorReserve::log_error(const std::error_code& error, TimePoint now) {
  if (last_log_ != TimePoint{} && now - last_log_ < std::chrono::seconds(1)) {
    ++unlogged_;
    return;
  }
  if (unlogged_ > 0) {
    spdlog::error("accept failed: {} ({} more since the last message)", error.message(), unlogged_);
  } else {
    spdlog::error("accept failed: {}", error.message());
  }
  last_log_ = now;
  unlogged_ = 0;
}

}  // namespace pier::net
