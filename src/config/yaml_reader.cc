#include "config/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/units.h"

namespace pier::config {

void YamlReader::error(const YAML::Node& at, const std::string& path, std::string_view message) {
  YAML::Mark mark = at.Mark();
  errors_.push_back({mark.line + 1, mark.column + 1,
                     fmt::format("{}:{}:{}: {}: {}", file_, mark.line + 1, mark.column + 1,
                                 path.empty() ? "(top level)" : path, message)});
}

void YamlReader::error_at(int line, int column, std::string_view message) {
  errors_.push_back({line, column, fmt::format("{}:{}:{}: {}", file_, line, column, message)});
}

std::vector<std::string> YamlReader::errors() const {
  std::vector<Located> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Located& a, const Located& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::vector<std::string> out;
  for (auto& e : sorted)
    out.push_back(std::move(e.text));
  return out;
}

bool YamlReader::is_map(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) return true;
  error(node, path, "must be a mapping (key: value)");
  return false;
}

bool YamlReader::is_sequence(const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) return true;
  error(node, path, "must be a list");
  return false;
}

void YamlReader::only_keys(const YAML::Node& map, const std::string& path,
                           std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : map) {
    std::string key = entry.first.Scalar();
    bool known = false;
    for (std::string_view a : allowed)
      known = known || a == key;
    if (known) continue;
    std::string list;
    for (std::string_view a : allowed)
      list += (list.empty() ? "" : ", ") + std::string(a);
    error(entry.first, path.empty() ? key : path + "." + key,
          "unknown key (expected one of: " + list + ")");
  }
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, const std::string& path,
                                              std::string_view what) {
  if (!node.IsScalar()) {
    error(node, path, fmt::format("must be {}", what));
    return std::nullopt;
  }
  return node.Scalar();
}

bool YamlReader::read(const YAML::Node& node, const std::string& path, std::string& out) {
  auto s = scalar(node, path, "a string");
  if (!s) return false;
  out = *s;
  return true;
}

bool YamlReader::read(const YAML::Node& node, const std::string& path, bool& out) {
  auto s = scalar(node, path, "true or false");
  if (!s) return false;
  if (*s == "true" || *s == "yes" || *s == "on") {
    out = true;
  } else if (*s == "false" || *s == "no" || *s == "off") {
    out = false;
  } else {
    error(node, path, "must be true or false");
    return false;
  }
  return true;
}

bool YamlReader::read_duration(const YAML::Node& node, const std::string& path, Duration& out) {
  auto s = scalar(node, path, "a duration such as 250ms, 2s or 1m");
  if (!s) return false;
  auto d = parse_duration(*s);
  if (!d) {
    error(node, path, fmt::format("\"{}\" is not a duration (use a unit: 250ms, 2s, 1m, 1h)", *s));
    return false;
  }
  out = *d;
  return true;
}

bool YamlReader::read_size(const YAML::Node& node, const std::string& path, std::uint64_t& out) {
  auto s = scalar(node, path, "a size such as 512, 64KiB or 8MiB");
  if (!s) return false;
  auto v = parse_size(*s);
  if (!v) {
    error(node, path, fmt::format("\"{}\" is not a size (512, 64KiB, 8MiB, 1GiB)", *s));
    return false;
  }
  out = *v;
  return true;
}

bool YamlReader::read_percent(const YAML::Node& node, const std::string& path, double& out) {
  auto s = scalar(node, path, "a percentage such as 20%");
  if (!s) return false;
  auto v = parse_percent(*s);
  if (!v) {
    error(node, path, fmt::format("\"{}\" is not a percentage from 0% to 100%", *s));
    return false;
  }
  out = *v;
  return true;
}

bool YamlReader::read_int(const YAML::Node& node, const std::string& path, std::int64_t min,
                          std::int64_t max, std::int64_t& out) {
  auto s = scalar(node, path, "an integer");
  if (!s) return false;
  auto v = parse_uint(*s);
  if (!v || static_cast<std::int64_t>(*v) < min || static_cast<std::int64_t>(*v) > max ||
      *v > static_cast<std::uint64_t>(INT64_MAX)) {
    error(node, path, fmt::format("must be an integer from {} to {}", min, max));
    return false;
  }
  out = static_cast<std::int64_t>(*v);
  return true;
}

}  // namespace pier::config
