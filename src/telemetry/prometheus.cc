#include "telemetry/prometheus.h"

#include <charconv>
#include <cmath>

namespace pier::telemetry {
namespace {

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
  out.append(buf, end);
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void PromWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PromWriter::start(std::string_view name, Labels labels, std::string_view le) {
  out_.append(name);
  if (labels.size() == 0 && le.empty()) {
    out_.push_back(' ');
    return;
  }
  out_.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_.push_back(',');
    first = false;
    out_.append(k).append("=\"");
    append_escaped(out_, v);
    out_.push_back('"');
  }
  if (!le.empty()) {
    if (!first) out_.push_back(',');
    out_.append("le=\"").append(le).push_back('"');
  }
  out_.append("} ");
}

void PromWriter::sample(std::string_view name, Labels labels, double value) {
  start(name, labels);
  append_double(out_, value);
  out_.push_back('\n');
}

void PromWriter::sample(std::string_view name, Labels labels, std::uint64_t value) {
  start(name, labels);
  append_uint(out_, value);
  out_.push_back('\n');
}

void PromWriter::histogram(std::string_view name, Labels labels, const HistogramSnapshot& h) {
  std::string bucket(name);
  bucket.append("_bucket");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= Histogram::kBuckets; ++i) {
    cumulative += h.buckets[i];
    std::string le = "+Inf";
    if (i < Histogram::kBuckets) {
      char buf[32];  // fixed notation: le="0.0005", not "5e-04"
      auto [end, ec] =
          std::to_chars(buf, buf + sizeof buf, static_cast<double>(kLatencyBucketsUs[i]) / 1e6,
                        std::chars_format::fixed);
      le.assign(buf, end);
    }
    start(bucket, labels, le);
    append_uint(out_, cumulative);
    out_.push_back('\n');
  }
  start(std::string(name) + "_sum", labels);
  append_double(out_, static_cast<double>(h.sum_us) / 1e6);
  out_.push_back('\n');
  start(std::string(name) + "_count", labels);
  append_uint(out_, cumulative);
  out_.push_back('\n');
}

}  // namespace pier::telemetry
