// How many CPUs this process may use, for `workers: auto`: a container limited with --cpus or
// --cpuset-cpus must not get a worker per host core (each would get a slice of the quota and be
// throttled in turn).
#pragma once

#include <optional>
#include <string_view>

namespace pier {

// cgroup v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD"): the quota in whole CPUs, rounded up;
// nullopt for no limit or text it does not understand.
std::optional<unsigned> cpus_from_cpu_max(std::string_view cpu_max);

// cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1: no limit), as above.
std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us);

// The cgroup v2 path in /proc/self/cgroup's text (its "0::PATH" line), or "" when there is none.
std::string_view cgroup_v2_path(std::string_view proc_self_cgroup);

// The CPUs this process may run on (its affinity mask), capped by its cgroup's CPU quota as the
// container sees it: cgroup v2's cpu.max at its own cgroup and every parent (a limit set on a
// parent slice counts too), or cgroup v1's CFS quota; at least 1.
unsigned usable_cpus();

}  // namespace pier
