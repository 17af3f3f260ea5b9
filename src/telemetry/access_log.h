// The access log: one line per request, JSON lines (the default) or the combined log format,
// written to stdout or a file by a background thread. Workers format their line and push it into
// their own lock-free ring (single producer, single consumer); they never wait for the disk.
// When a ring is full the line is dropped and counted. SIGUSR1 reopens the file (logrotate).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pier::telemetry {

struct AccessRecord {
  std::int64_t time_us = 0;  // wall clock, microseconds since the epoch
  std::string_view request_id;
  std::string_view client;
  std::string_view method;
  std::string_view host;
  std::string_view path;
  int version_minor = 1;
  int status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::int64_t duration_us = 0;
  std::string_view upstream;              // "" when no backend was tried
  std::int64_t upstream_connect_us = -1;  // -1: none (a pooled connection, or no upstream)
  std::int64_t upstream_header_us = -1;
  std::uint32_t attempts = 0;
  std::string_view cache;       // our Cache-Status parameters, "" for routes without a cache
  std::string_view rate_limit;  // "allowed", "limited", or ""
  std::string_view user_agent;
  std::string_view referer;
};

enum class LogFormat { Json, Combined };

// One line, newline included. No I/O.
void format_json(const AccessRecord& r, std::string& out);
void format_combined(const AccessRecord& r, std::string& out);

// A byte ring for whole lines: one producer (a worker), one consumer (the writer thread).
class LineRing {
 public:
  explicit LineRing(std::size_t capacity);  // a power of two
  bool push(std::string_view line);         // false: no room (the line is dropped)
  void drain(std::string& out);             // appends every complete line, frees their room

 private:
  void copy_in(std::uint64_t at, const char* data, std::size_t n);
  void copy_out(std::uint64_t at, char* data, std::size_t n) const;

  std::unique_ptr<char[]> buf_;
  std::size_t mask_;
  alignas(64) std::atomic<std::uint64_t> head_{0};  // consumer position
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // producer position
};

class AccessLog {
 public:
  // path: "stdout", "stderr" or a file (appended to, created 0644).
  AccessLog(std::string path, LogFormat format, std::size_t workers);
  ~AccessLog();

  void start();
  void stop();    // writes what is queued, then ends the thread
  void reopen();  // async-signal-safe: flags the writer, which reopens the file
  LogFormat format() const { return format_; }
  LineRing& ring(std::size_t worker) { return *rings_[worker]; }

 private:
  void run();
  void open_output();
  void write_all(const std::string& data);

  std::string path_;
  LogFormat format_;
  std::vector<std::unique_ptr<LineRing>> rings_;
  int fd_ = -1;
  std::atomic<bool> reopen_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace pier::telemetry
