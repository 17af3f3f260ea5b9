#include "net/worker.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

namespace pier::net {

Worker::Worker(std::size_t index, std::size_t buffer_size)
    : index_(index),
      buffers_(buffer_size, 4096),
      body_buffers_(std::max(buffer_size, kBodyBufferSize), 4096),
      deadlines_(io_) {}

void Worker::start() {
  guard_.emplace(io_.get_executor());
  deadlines_.start();
  thread_ = std::thread([this] {
    std::string name = "pier-w" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    try {
      io_.run();
    } catch (const std::exception& e) {
      // Handlers catch their own errors; reaching here is a bug, and the process must not limp on.
      spdlog::critical("worker {}: unhandled exception: {}", index_, e.what());
      std::abort();
    }
  });
}

void Worker::stop() {
  guard_.reset();
  io_.stop();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace pier::net
