// YAML config -> validated, typed options of every module. Errors name file:line:col and the
// key's path; unknown keys are errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proxy/options.h"

namespace pier::config {

struct LoadResult {
  std::optional<proxy::ProxyOptions> options;  // set only when there are no errors
  std::vector<std::string> errors;
};

LoadResult load_file(const std::string& path);
LoadResult load_text(const std::string& text, const std::string& file_name);

// Only the `admin:` section (what `pier --healthcheck` needs): nothing else is read, so no
// backend or Redis name is resolved and a stopped backend cannot fail a health check.
struct AdminLoadResult {
  std::optional<proxy::AdminOptions> admin;  // set only when there are no errors
  std::vector<std::string> errors;
};
AdminLoadResult load_admin_file(const std::string& path);

// The config fuzzer's: host names are not looked up and no file is read (either is an error),
// so no input can wait on a resolver or read a device.
void offline_ForTest(bool on);

}  // namespace pier::config
