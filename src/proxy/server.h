// The proxy as a whole: N workers, each with its own SO_REUSEPORT listening socket per listener
// (the kernel spreads connections), its own pools and balancers. Health checks run on worker 0.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "net/worker.h"
#include "proxy/runtime.h"

namespace pier::proxy {

class Server {
 public:
  explicit Server(std::shared_ptr<const Runtime> runtime);
  ~Server();

  // Every worker writes its access-log lines to `log` (call before start()).
  void set_access_log(telemetry::AccessLog* log) {
    for (auto& ctx : contexts_)
      ctx->access_log = log;
  }

  // Binds every listener on every worker; throws std::system_error naming the address on failure.
  void start();
  // Stops accepting, closes idle connections, and waits up to shutdown_timeout for the requests
  // in progress to finish. Returns the number of connections still open when it gave up.
  std::size_t drain();
  void stop();

  // For the admin listener (another thread): each worker's state holds atomics it may read.
  const Runtime& runtime() const { return *runtime_; }
  const std::vector<std::unique_ptr<WorkerContext>>& contexts() const { return contexts_; }
  net::Worker& worker(std::size_t i) { return *workers_[i]; }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  struct Acceptor;
  void open_listeners(std::size_t worker_index);

  std::shared_ptr<const Runtime> runtime_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<WorkerContext>> contexts_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace pier::proxy
