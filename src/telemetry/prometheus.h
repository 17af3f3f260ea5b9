// The Prometheus text exposition format (version 0.0.4), without I/O: HELP and TYPE once per
// family, then its samples with escaped label values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "telemetry/counters.h"

namespace pier::telemetry {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PromWriter {
 public:
  explicit PromWriter(std::string& out) : out_(out) {}

  // type: "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  // name_bucket{...,le="..."} (cumulative), name_sum (seconds) and name_count.
  void histogram(std::string_view name, Labels labels, const HistogramSnapshot& h);

 private:
  void start(std::string_view name, Labels labels, std::string_view le = {});
  std::string& out_;
};

}  // namespace pier::telemetry
