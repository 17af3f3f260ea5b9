// An upstream cluster: its backends (shared by all workers) and the rules that eject them.
#pragma once

#include <memory>
#include <vector>

#include "upstream/backend.h"
#include "upstream/options.h"

namespace pier::upstream {

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& name() const { return options_.name; }
  const ClusterOptions& options() const { return options_; }
  std::vector<std::unique_ptr<Backend>>& backends() { return backends_; }
  const std::vector<std::unique_ptr<Backend>>& backends() const { return backends_; }

  // Requests in flight to all backends, from all workers (max_in_flight).
  std::uint32_t in_flight() const {
    std::uint32_t n = 0;
    for (const auto& b : backends_)
      n += b->in_flight();
    return n;
  }

  // Ejects `b` unless that would put more than max_ejection_percent of the cluster out.
  void maybe_eject(Backend& b, TimePoint now);

 private:
  ClusterOptions options_;
  std::vector<std::unique_ptr<Backend>> backends_;
};

}  // namespace pier::upstream
