// A worker thread: one io_context, its buffers and deadlines. A connection lives and dies on the
// worker that accepted it, so nothing here is shared with other threads.
#pragma once

#include <asio/io_context.hpp>
#include <cstddef>
#include <optional>
#include <thread>

#include "net/buffer.h"
#include "net/deadline.h"

namespace pier::net {

class Worker {
 public:
  Worker(std::size_t index, std::size_t buffer_size);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  std::size_t index() const { return index_; }
  asio::io_context& io() { return io_; }
  BufferPool& buffers() { return buffers_; }
  DeadlineSweeper& deadlines() { return deadlines_; }

  void start();  // runs the io_context on a new thread
  void stop();   // stops the io_context; pending handlers are abandoned
  void join();

 private:
  std::size_t index_;
  asio::io_context io_{1};  // concurrency hint 1: this context is only ever run by one thread
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  BufferPool buffers_;
  DeadlineSweeper deadlines_;
  std::thread thread_;
};

}  // namespace pier::net
