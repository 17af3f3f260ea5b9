// The proxy as a whole: N workers, each with its own SO_REUSEPORT listening socket per listener
// (the kernel spreads connections), its own pools and balancers. Health checks run on worker 0.
#pragma once

#include <memory>
#include <vector>

#include "net/worker.h"
#include "proxy/runtime.h"

namespace pier::proxy {

class Server {
 public:
  explicit Server(std::shared_ptr<const Runtime> runtime);
  ~Server();

  // Binds every listener on every worker; throws std::system_error naming the address on failure.
  void start();
  // Stops accepting, closes idle connections, and waits up to shutdown_timeout for the requests
  // in progress to finish. Returns the number of connections still open when it gave up.
  std::size_t drain();
  void stop();

 private:
  struct Acceptor;
  void open_listeners(std::size_t worker_index);

  std::shared_ptr<const Runtime> runtime_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<WorkerContext>> contexts_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
};

}  // namespace pier::proxy
