#include "base/cpus.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace pier {
namespace {

TEST(CpuMax, QuotaInWholeCpusRoundedUp) {
  EXPECT_EQ(cpus_from_cpu_max("100000 100000\n"), 1u);
  EXPECT_EQ(cpus_from_cpu_max("150000 100000"), 2u);
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1u);  // half a CPU still runs one worker
  EXPECT_EQ(cpus_from_cpu_max("400000 100000"), 4u);
}

TEST(CpuMax, NoLimitOrBadText) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max(""), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000 0"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("1e5 100000"), std::nullopt);
}

TEST(CpuCfs, QuotaAndPeriodFiles) {
  EXPECT_EQ(cpus_from_cfs("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cfs("200000\n", "100000\n"), 2u);
  EXPECT_EQ(cpus_from_cfs("25000", "100000"), 1u);
  EXPECT_EQ(cpus_from_cfs("", ""), std::nullopt);
}

TEST(CgroupPath, TheV2LineOfProcSelfCgroup) {
  EXPECT_EQ(cgroup_v2_path("0::/system.slice/pier.service\n"), "/system.slice/pier.service");
  EXPECT_EQ(cgroup_v2_path("0::/\n"), "/");  // a container in its own cgroup namespace
  EXPECT_EQ(cgroup_v2_path("12:cpu,cpuacct:/docker/abc\n1:name=systemd:/\n0::/docker/abc\n"),
            "/docker/abc");
  EXPECT_EQ(cgroup_v2_path("4:cpu,cpuacct:/user.slice\n"), "");  // cgroup v1 only
  EXPECT_EQ(cgroup_v2_path(""), "");
}

TEST(UsableCpus, AtLeastOneAndNoMoreThanTheMachineHas) {
  unsigned n = usable_cpus();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace pier
