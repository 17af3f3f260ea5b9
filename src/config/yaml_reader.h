// Typed reads of YAML nodes that collect errors as "FILE:LINE:COL: path: message" instead of
// stopping at the first one, so `pier --check` can list every problem at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.h"

namespace pier::config {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Node& at, const std::string& path, std::string_view message);
  void error_at(int line, int column, std::string_view message);  // 1-based position
  // In file order, whatever order the checks ran in.
  std::vector<std::string> errors() const;
  const std::string& file() const { return file_; }

  // Each reader leaves `out` unchanged and records an error when the node is wrong.
  bool is_map(const YAML::Node& node, const std::string& path);
  bool is_sequence(const YAML::Node& node, const std::string& path);
  // Reports every key of a map that is not in `allowed`: a typo must not silently do nothing.
  void only_keys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> allowed);

  bool read(const YAML::Node& node, const std::string& path, std::string& out);
  bool read(const YAML::Node& node, const std::string& path, bool& out);
  bool read_duration(const YAML::Node& node, const std::string& path, Duration& out);
  bool read_size(const YAML::Node& node, const std::string& path, std::uint64_t& out);
  bool read_percent(const YAML::Node& node, const std::string& path, double& out);
  bool read_int(const YAML::Node& node, const std::string& path, std::int64_t min, std::int64_t max,
                std::int64_t& out);

  // Helpers for optional keys of a map: read only when the key is present.
  template <class Fn>
  void optional(const YAML::Node& map, const std::string& path, const char* key, Fn&& fn) {
    if (YAML::Node value = map[key]) fn(value, path.empty() ? std::string(key) : path + "." + key);
  }

 private:
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view what);
  std::string file_;
  struct Located {
    int line;
    int column;
    std::string text;
  };
  std::vector<Located> errors_;
};

}  // namespace pier::config
