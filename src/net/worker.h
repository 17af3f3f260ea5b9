// A worker thread: one io_context, its buffers and deadlines. A connection lives and dies on the
// worker that accepted it, so nothing here is shared with other threads.
#pragma once

#include <asio/io_context.hpp>
#include <cstddef>
#include <optional>
#include <thread>

#include "net/buffer.h"
#include "net/deadline.h"
#include "net/splice.h"

namespace pier::net {

class Worker {
 public:
  Worker(std::size_t index, std::size_t buffer_size);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  std::size_t index() const { return index_; }
  asio::io_context& io() { return io_; }
  BufferPool& buffers() { return buffers_; }  // client-side blocks: a request head must fit
  // Upstream responses are read into larger blocks: a 1 MiB body then takes 16 reads and writes,
  // not 64. Blocks are mmap'd, so a small response touches only the pages it fills.
  BufferPool& body_buffers() { return body_buffers_; }
  static constexpr std::size_t kBodyBufferSize = 64 * 1024;
  PipePool& pipes() { return pipes_; }  // for bodies relayed with splice(2)
  DeadlineSweeper& deadlines() { return deadlines_; }

  void start();  // runs the io_context on a new thread
  void stop();   // stops the io_context; pending handlers are abandoned
  void join();

 private:
  std::size_t index_;
  // Run by one thread only, and sockets are touched only from it: Asio may skip the reactor's
  // per-descriptor locking (work posted from other threads still goes through the scheduler's
  // lock).
  asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  BufferPool buffers_;
  BufferPool body_buffers_;
  PipePool pipes_;
  DeadlineSweeper deadlines_;
  std::thread thread_;
};

}  // namespace pier::net
