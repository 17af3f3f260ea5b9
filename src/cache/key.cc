#include "cache/key.h"

#include <algorithm>

#include "base/strings.h"

namespace pier::cache {
namespace {

std::string_view param_name(std::string_view param) {
  return param.substr(0, param.find('='));
}

void append_query(std::string& out, std::string_view query, const KeyOptions& options) {
  if (options.ignore_query.empty() && !options.sort_query) {
    out.push_back('?');
    out.append(query);
    return;
  }
  std::vector<std::string_view> kept;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    bool ignored = std::any_of(options.ignore_query.begin(), options.ignore_query.end(),
                               [&](const std::string& name) { return param_name(param) == name; });
    if (!ignored) kept.push_back(param);
  }
  if (options.sort_query) std::sort(kept.begin(), kept.end());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    out.push_back(i == 0 ? '?' : '&');
    out.append(kept[i]);
  }
}

}  // namespace

void build_key(std::string& out, std::string_view scheme, std::string_view host,
               std::string_view target, const http::HeaderList& request,
               const KeyOptions& options) {
  out.clear();
  out.append(scheme).append("://");
  std::string_view default_port = scheme == "https" ? ":443" : ":80";
  if (host.ends_with(default_port)) host.remove_suffix(default_port.size());
  for (char c : host)
    out.push_back(ascii_lower(c));
  std::size_t q = target.find('?');
  out.append(target.substr(0, q));
  if (q != std::string_view::npos) append_query(out, target.substr(q + 1), options);
  for (const std::string& name : options.headers) {
    out.append("\n").append(name).append(":");
    bool first = true;
    for (const http::Header& h : request) {
      if (!iequals(h.name, name)) continue;
      if (!first) out.push_back(',');
      out.append(h.value);
      first = false;
    }
  }
}

}  // namespace pier::cache
