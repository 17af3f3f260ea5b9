#include "telemetry/access_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "base/strings.h"

namespace pier::telemetry {
namespace {

constexpr auto kWriterPeriod = std::chrono::milliseconds(20);

// Milliseconds with three decimals from microseconds: 1234 -> "1.234".
void append_ms(std::string& out, std::int64_t us) {
  if (us < 0) us = 0;
  append_decimal(out, us / 1000);
  out.push_back('.');
  std::int64_t frac = us % 1000;
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
}

// A time that was not measured (no new upstream connection, no response head) is JSON null.
void append_ms_or_null(std::string& out, std::int64_t us) {
  if (us < 0) {
    out.append("null");
  } else {
    append_ms(out, us);
  }
}

// 2026-11-25T23:55:35.123Z
void append_iso_time(std::string& out, std::int64_t time_us) {
  time_t seconds = static_cast<time_t>(time_us / 1'000'000);
  tm t{};
  gmtime_r(&seconds, &t);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                        t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                        static_cast<int>(time_us / 1000 % 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

// 25/Nov/2026:23:55:35 +0000
void append_clf_time(std::string& out, std::int64_t time_us) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t seconds = static_cast<time_t>(time_us / 1'000'000);
  tm t{};
  gmtime_r(&seconds, &t);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d +0000", t.tm_mday,
                        kMonths[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
  out.append(buf, static_cast<std::size_t>(n));
}

// A combined-format field: quotes and backslashes escaped, control bytes as \xHH (as nginx).
void append_clf_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

}  // namespace

void format_json(const AccessRecord& r, std::string& out) {
  out.append("{\"time\":\"");
  append_iso_time(out, r.time_us);
  out.append("\",\"request_id\":");
  append_json_string(out, r.request_id);
  out.append(",\"client\":");
  append_json_string(out, r.client);
  out.append(",\"method\":");
  append_json_string(out, r.method);
  out.append(",\"host\":");
  append_json_string(out, r.host);
  out.append(",\"path\":");
  append_json_string(out, r.path);
  out.append(",\"protocol\":\"HTTP/1.");
  out.push_back(r.version_minor == 0 ? '0' : '1');
  out.append("\",\"status\":");
  append_decimal(out, r.status);
  out.append(",\"bytes_in\":");
  append_decimal(out, static_cast<std::int64_t>(r.bytes_in));
  out.append(",\"bytes_out\":");
  append_decimal(out, static_cast<std::int64_t>(r.bytes_out));
  out.append(",\"duration_ms\":");
  append_ms(out, r.duration_us);
  out.append(",\"upstream\":");
  append_json_string(out, r.upstream);
  out.append(",\"upstream_connect_ms\":");
  append_ms_or_null(out, r.upstream_connect_us);
  out.append(",\"upstream_header_ms\":");
  append_ms_or_null(out, r.upstream_header_us);
  out.append(",\"attempts\":");
  append_decimal(out, r.attempts);
  out.append(",\"cache\":");
  append_json_string(out, r.cache);
  out.append(",\"rate_limit\":");
  append_json_string(out, r.rate_limit);
  out.append(",\"user_agent\":");
  append_json_string(out, r.user_agent);
  out.append("}\n");
}

// The combined log format (Apache, nginx's default), the request id and timing appended.
void format_combined(const AccessRecord& r, std::string& out) {
  out.append(r.client.empty() ? std::string_view("-") : r.client).append(" - - [");
  append_clf_time(out, r.time_us);
  out.append("] ");
  std::string request(r.method);
  request.append(" ").append(r.path).append(r.version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
  append_clf_quoted(out, request);
  out.push_back(' ');
  append_decimal(out, r.status);
  out.push_back(' ');
  append_decimal(out, static_cast<std::int64_t>(r.bytes_out));
  out.push_back(' ');
  append_clf_quoted(out, r.referer.empty() ? std::string_view("-") : r.referer);
  out.push_back(' ');
  append_clf_quoted(out, r.user_agent.empty() ? std::string_view("-") : r.user_agent);
  out.push_back(' ');
  append_clf_quoted(out, r.request_id);
  out.push_back(' ');
  append_ms(out, r.duration_us);
  out.push_back('\n');
}

LineRing::LineRing(std::size_t capacity) : buf_(new char[capacity]), mask_(capacity - 1) {}

void LineRing::copy_in(std::uint64_t at, const char* data, std::size_t n) {
  std::size_t start = static_cast<std::size_t>(at) & mask_;
  std::size_t first = std::min(n, mask_ + 1 - start);
  std::memcpy(buf_.get() + start, data, first);
  std::memcpy(buf_.get(), data + first, n - first);
}

void LineRing::copy_out(std::uint64_t at, char* data, std::size_t n) const {
  std::size_t start = static_cast<std::size_t>(at) & mask_;
  std::size_t first = std::min(n, mask_ + 1 - start);
  std::memcpy(data, buf_.get() + start, first);
  std::memcpy(data + first, buf_.get(), n - first);
}

bool LineRing::push(std::string_view line) {
  std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  std::uint64_t head = head_.load(std::memory_order_acquire);
  std::uint32_t n = static_cast<std::uint32_t>(line.size());
  if (tail + sizeof n + n - head > mask_ + 1) return false;
  copy_in(tail, reinterpret_cast<const char*>(&n), sizeof n);
  copy_in(tail + sizeof n, line.data(), n);
  tail_.store(tail + sizeof n + n, std::memory_order_release);
  return true;
}

void LineRing::drain(std::string& out) {
  std::uint64_t head = head_.load(std::memory_order_relaxed);
  std::uint64_t tail = tail_.load(std::memory_order_acquire);
  while (head < tail) {
    std::uint32_t n = 0;
    copy_out(head, reinterpret_cast<char*>(&n), sizeof n);
    std::size_t at = out.size();
    out.resize(at + n);
    copy_out(head + sizeof n, out.data() + at, n);
    head += sizeof n + n;
  }
  head_.store(head, std::memory_order_release);
}

AccessLog::AccessLog(std::string path, LogFormat format, std::size_t workers)
    : path_(std::move(path)), format_(format) {
  for (std::size_t i = 0; i < workers; ++i)
    rings_.push_back(std::make_unique<LineRing>(std::size_t{1} << 18));  // 256 KiB each
}

AccessLog::~AccessLog() {
  stop();
}

void AccessLog::open_output() {
  if (path_ == "stdout") {
    fd_ = STDOUT_FILENO;
    return;
  }
  if (path_ == "stderr") {
    fd_ = STDERR_FILENO;
    return;
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;  // keep the old one (or none): the writer retries on the next SIGUSR1
  if (fd_ > STDERR_FILENO) ::close(fd_);
  fd_ = fd;
}

void AccessLog::start() {
  open_output();
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "access log " + path_);
  }
  thread_ = std::thread([this] { run(); });
}

void AccessLog::write_all(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk or a closed pipe loses lines, never the proxy
    done += static_cast<std::size_t>(n);
  }
}

void AccessLog::run() {
  std::string batch;
  for (;;) {
    bool last = stopping_.load(std::memory_order_acquire);
    if (reopen_.exchange(false)) open_output();
    batch.clear();
    for (auto& ring : rings_)
      ring->drain(batch);
    if (!batch.empty()) write_all(batch);
    if (last) return;
    std::this_thread::sleep_for(kWriterPeriod);
  }
}

void AccessLog::reopen() {
  reopen_.store(true, std::memory_order_relaxed);
}

void AccessLog::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  thread_.join();
  if (fd_ > STDERR_FILENO) ::close(fd_);
  fd_ = -1;
}

}  // namespace pier::telemetry
