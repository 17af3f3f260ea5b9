#include "base/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "base/units.h"

namespace pier {
namespace {

// Files under /sys and /proc end in a newline.
std::string_view trim_line(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  return s;
}

// A quota of `quota` µs per `period` µs, in whole CPUs rounded up (1.5 CPUs: 2 workers, each
// mostly busy, rather than 1 that leaves half the quota unused).
std::optional<unsigned> whole_cpus(std::string_view quota, std::string_view period) {
  std::optional<std::uint64_t> q = parse_uint(trim_line(quota));
  std::optional<std::uint64_t> p = parse_uint(trim_line(period));
  if (!q || !p || *q == 0 || *p == 0) return std::nullopt;
  std::uint64_t cpus = (*q + *p - 1) / *p;
  return static_cast<unsigned>(std::min<std::uint64_t>(cpus, 1u << 16));
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return std::string(trim_line(text.str()));
}

unsigned affinity_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::thread::hardware_concurrency();
}

// The tightest cpu.max from this process's cgroup up to the root of the hierarchy it sees.
std::optional<unsigned> cgroup_v2_quota_cpus(std::string_view path) {
  std::optional<unsigned> tightest;
  std::string dir = "/sys/fs/cgroup" + std::string(path);
  while (!dir.empty() && dir.back() == '/')
    dir.pop_back();
  for (;;) {
    std::optional<unsigned> quota = cpus_from_cpu_max(read_file((dir + "/cpu.max").c_str()));
    if (quota && (!tightest || *quota < *tightest)) tightest = quota;
    if (dir == "/sys/fs/cgroup") return tightest;
    dir.erase(dir.rfind('/'));
  }
}

std::optional<unsigned> cgroup_quota_cpus() {
  std::string self = read_file("/proc/self/cgroup");
  if (std::string_view path = cgroup_v2_path(self); !path.empty() && path.front() == '/') {
    if (std::optional<unsigned> quota = cgroup_v2_quota_cpus(path)) return quota;
  }
  for (const char* dir : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
    std::string quota = read_file((std::string(dir) + "/cpu.cfs_quota_us").c_str());
    std::string period = read_file((std::string(dir) + "/cpu.cfs_period_us").c_str());
    if (!quota.empty()) return cpus_from_cfs(quota, period);
  }
  return std::nullopt;
}

}  // namespace

std::optional<unsigned> cpus_from_cpu_max(std::string_view cpu_max) {
  cpu_max = trim_line(cpu_max);
  std::size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  return whole_cpus(cpu_max.substr(0, space), cpu_max.substr(space + 1));  // "max": nullopt
}

std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us) {
  return whole_cpus(quota_us, period_us);  // "-1" is not a uint: no limit
}

std::string_view cgroup_v2_path(std::string_view text) {
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.starts_with("0::")) return line.substr(3);
    start = end + 1;
  }
  return {};
}

unsigned usable_cpus() {
  unsigned cpus = affinity_cpus();
  if (std::optional<unsigned> quota = cgroup_quota_cpus()) cpus = std::min(cpus, *quota);
  return std::max(1u, cpus);
}

}  // namespace pier
