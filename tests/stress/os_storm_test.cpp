// SPDX-License-Identifier: Apache-2.0
// The SIGKILL storm: OS children under one supervisor are SIGKILLed at random moments (before
// they attach, mid-traffic, right after a restart) while a traffic thread keeps checksummed
// terms flowing through their channels. Afterwards: every kill was followed by exactly one
// restart, no reply was torn or unknown, and once the tree is stopped no descriptor, shared
// segment, owned child or zombie is left. VIGIL_OS_STORM_KILLS and VIGIL_OS_STORM_CHILDREN
// scale it.
#include "vigil/os/reaper.hpp"

#include "../unit/os/os_fixture.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <unordered_map>

namespace vigil::os::test {
namespace {

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atol(v) : fallback;
}

std::int64_t fnv(std::string_view s) {
  std::uint64_t sum = 1469598103934665603ULL;
  for (char c : s) {
    sum = (sum ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return static_cast<std::int64_t>(sum & 0x7FFFFFFFFFFFFFFF);
}

/// Mappings of memfd segments in this process.
int memfd_mappings() {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    n += line.find("/memfd:") != std::string::npos ? 1 : 0;
  }
  return n;
}

struct traffic_stats {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> verified{0};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> unknown{0};
  std::atomic<std::uint64_t> pongs{0};
};

/// Keeps up to `window` checksummed requests in flight to each child until `stop`.
void traffic(runtime& rt, pid sup, const std::vector<std::string>& ids, std::atomic<bool>& stop,
             traffic_stats& stats) {
  auto box = rt.make_mailbox();
  std::mt19937_64 rng(7);
  constexpr int window = 64;
  const atom torn("torn");
  std::vector<pid> ports(ids.size());
  std::vector<int> inflight(ids.size(), 0);
  std::unordered_map<std::int64_t, std::int64_t> expected; // seq -> sum
  std::int64_t counter = 0;
  auto refresh = [&] {
    auto rows = supervision::which_children(*box, sup);
    if (!rows) {
      return;
    }
    for (const auto& row : *rows) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (row.id == ids[i] && row.process.value_or(pid{}) != ports[i]) {
          ports[i] = row.process.value_or(pid{});
          inflight[i] = 0; // what went to the old incarnation is lost with it
        }
      }
    }
  };
  auto last_refresh = std::chrono::steady_clock::now();
  refresh();
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() - last_refresh > 10ms) {
      refresh();
      last_refresh = std::chrono::steady_clock::now();
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ports[i] == pid{} || inflight[i] >= window) {
        continue;
      }
      ++inflight[i];
      if (ids[i][0] == 'w') { // a vigil-worker echo
        box->ctx().send(ports[i], vigil::make_tuple(box->self(), atoms::ping));
        continue;
      }
      std::string payload(rng() % 2048, '\0');
      for (auto& c : payload) {
        c = static_cast<char>(rng());
      }
      std::int64_t seq = counter++ * 64 + static_cast<std::int64_t>(i);
      std::int64_t sum = fnv(payload);
      expected[seq] = sum;
      box->ctx().send(ports[i], vigil::make_tuple(box->self(), seq, term(payload), sum));
      stats.sent.fetch_add(1);
    }
    for (auto r = box->receive(2ms); r; r = box->receive(timeout(0))) {
      const term& m = r.message;
      if (m.is_tuple() && m.size() == 2 && m[0].is(atoms::ok)) {
        stats.pongs.fetch_add(1);
        inflight[ids.size() - 1] = std::max(0, inflight[ids.size() - 1] - 1);
      } else if (m.is_tuple() && m.size() == 2 && m[0].is(torn)) {
        stats.torn.fetch_add(1);
      } else if (m.is_tuple() && m.size() == 3 && m[0].is_integer() && m[1].is_string()) {
        std::int64_t seq = m[0].as_integer();
        auto it = expected.find(seq);
        if (it == expected.end() || it->second != m[2].as_integer()
            || fnv(m[1].as_string()) != it->second) {
          stats.unknown.fetch_add(1);
        } else {
          stats.verified.fetch_add(1);
          expected.erase(it);
          auto i = static_cast<std::size_t>(seq % 64);
          inflight[i] = std::max(0, inflight[i] - 1);
        }
      } else {
        stats.unknown.fetch_add(1);
      }
    }
    if (expected.size() > 200000) {
      expected.clear(); // replies lost with killed children; keep the memory bounded
    }
  }
}

using Storm = os_test;

TEST_F(Storm, SigkillsInTheMiddleOfTrafficLoseNothingAndLeakNothing) {
  const long kills = env_or("VIGIL_OS_STORM_KILLS", 1000);
  const long children = env_or("VIGIL_OS_STORM_CHILDREN", 6);
  ASSERT_TRUE(become_subreaper());
  (void)svc();
  const int fds_before = open_fds();
  const int maps_before = memfd_mappings();

  std::vector<supervision::child_spec> specs;
  std::vector<std::string> ids;
  for (long i = 0; i < children; ++i) {
    ids.push_back("c" + std::to_string(i));
    specs.push_back(command(ids.back(), {"storm-echo", ""}));
  }
  ids.push_back("w0");
  specs.push_back(process("w0", "echo"));
  pid sup = start_tree(specs, 1000000);
  ASSERT_NE(sup, pid{});

  traffic_stats stats;
  std::atomic<bool> stop{false};
  std::thread sender([&] { traffic(rt, sup, ids, stop, stats); });

  std::mt19937 rng(11);
  std::vector<pid> killed(ids.size());
  long done = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (done < kills) {
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    auto i = rng() % ids.size();
    pid port = child_pid(sup, ids[i]);
    if (port == pid{} || port == killed[i]) {
      continue; // not restarted yet: the next kill must hit a new incarnation
    }
    auto info = svc().info(port);
    if (!info) {
      continue;
    }
    ASSERT_EQ(::kill(info->os_pid, SIGKILL), 0);
    killed[i] = port;
    ++done;
  }
  auto storm_time = std::chrono::steady_clock::now() - t0;
  std::uint32_t restarts = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    pid now = restarted(sup, ids[i], killed[i]);
    auto info = svc().info(now);
    ASSERT_TRUE(info) << ids[i];
    restarts += info->restarts;
  }
  std::this_thread::sleep_for(300ms); // traffic with every child up again
  stop.store(true);
  sender.join();

  std::printf("storm: %ld kills of %zu children in %.1f s; %llu terms sent, %llu echoed and "
              "verified, %llu pongs, %llu torn, %llu unknown\n",
              done, ids.size(), std::chrono::duration<double>(storm_time).count(),
              static_cast<unsigned long long>(stats.sent.load()),
              static_cast<unsigned long long>(stats.verified.load()),
              static_cast<unsigned long long>(stats.pongs.load()),
              static_cast<unsigned long long>(stats.torn.load()),
              static_cast<unsigned long long>(stats.unknown.load()));
  EXPECT_EQ(restarts, static_cast<std::uint32_t>(done)) << "one restart per kill";
  EXPECT_EQ(stats.torn.load(), 0U);
  EXPECT_EQ(stats.unknown.load(), 0U);
  EXPECT_GT(stats.verified.load(), static_cast<std::uint64_t>(done));
  EXPECT_GT(stats.pongs.load(), 0U);

  ASSERT_TRUE(supervision::stop_supervisor(*box, sup, atoms::shutdown, 60s));
  EXPECT_TRUE(eventually([&] { return svc().live_children() == 0; })) << svc().live_children();
  EXPECT_EQ(owned_count(), 0U);
  EXPECT_TRUE(eventually([&] { return zombie_children() == 0; })) << zombie_children();
  EXPECT_TRUE(eventually([&] { return open_fds() == fds_before; }))
      << open_fds() << " descriptors open, " << fds_before << " before";
  EXPECT_EQ(memfd_mappings(), maps_before);
}

} // namespace
} // namespace vigil::os::test
