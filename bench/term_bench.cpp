// SPDX-License-Identifier: Apache-2.0
// Microbenchmarks of the term layer on the shape a reply takes: `{pid, :ok}`.
//
// `term_bench` prints Google Benchmark's console table; `term_bench --json-lines` prints one
// JSON line per result instead, in the schema of ../shared/bench-anchors (impl "ours").
#include "vigil/ipc/codec.hpp"
#include "vigil/term/pattern.hpp"
#include "vigil/term/term.hpp"
#include "vigil/term/text.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vigil;

const term self = term(pid{0, 74, 0});

term reply() {
  return make_tuple(self, atoms::ok);
}

void term_build_tuple(benchmark::State& state) {
  for (auto _ : state) {
    term t = make_tuple(self, atoms::ok);
    benchmark::DoNotOptimize(t);
  }
}

void term_copy(benchmark::State& state) {
  term t = reply();
  for (auto _ : state) {
    term copy = t;
    benchmark::DoNotOptimize(copy);
  }
}

void match(benchmark::State& state, const term& subject, bool expected) {
  pattern p = pattern::parse("{_, :ok}").value();
  bindings out;
  for (auto _ : state) {
    bool hit = p.match(subject, out);
    benchmark::DoNotOptimize(hit);
  }
  if (p.match(subject, out) != expected) {
    state.SkipWithError("unexpected match result");
  }
}

void term_match_hit(benchmark::State& state) {
  match(state, reply(), true);
}

void term_match_miss(benchmark::State& state) {
  match(state, make_tuple(self, atoms::error), false);
}

void term_encode(benchmark::State& state) {
  term t = reply();
  std::string out;
  for (auto _ : state) {
    out.clear();
    ipc::encode(t, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void term_decode(benchmark::State& state) {
  std::string frame = ipc::encode(reply());
  for (auto _ : state) {
    auto decoded = ipc::decode(std::string_view(frame));
    benchmark::DoNotOptimize(decoded);
  }
  if (!ipc::decode(std::string_view(frame)).has_value()) {
    state.SkipWithError("decode failed");
  }
}

void term_print(benchmark::State& state) {
  term t = reply();
  std::string out;
  for (auto _ : state) {
    out.clear();
    print(t, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void term_parse(benchmark::State& state) {
  std::string text = to_string(reply());
  for (auto _ : state) {
    auto parsed = parse_term(text);
    benchmark::DoNotOptimize(parsed);
  }
  if (!parse_term(text).has_value()) {
    state.SkipWithError("parse failed");
  }
}

BENCHMARK(term_build_tuple);
BENCHMARK(term_copy);
BENCHMARK(term_match_hit);
BENCHMARK(term_match_miss);
BENCHMARK(term_encode);
BENCHMARK(term_decode);
BENCHMARK(term_print);
BENCHMARK(term_parse);

/// A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or 0.
long status_kb(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size()
        && line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

/// Prints one anchors-schema JSON line per iteration run.
class json_lines_reporter final : public benchmark::BenchmarkReporter {
public:
  bool ReportContext(const Context&) override { return true; }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) {
        continue;
      }
      std::string name = run.benchmark_name();
      if (run.error_occurred) {
        std::printf("{\"bench\":\"%s\",\"impl\":\"ours\",\"error\":\"%s\"}\n", name.c_str(),
                    run.error_message.c_str());
        continue;
      }
      auto n = static_cast<double>(run.iterations);
      std::printf("{\"bench\":\"%s\",\"impl\":\"ours\",\"n\":%lld,\"seconds\":%.9g,"
                  "\"per_op_ns\":%.4g,\"rss_kb\":%ld,\"peak_rss_kb\":%ld,\"threads\":%lld}\n",
                  name.c_str(), static_cast<long long>(run.iterations), run.real_accumulated_time,
                  run.real_accumulated_time * 1e9 / n, status_kb("VmRSS"), status_kb("VmHWM"),
                  static_cast<long long>(run.threads));
    }
    std::fflush(stdout);
  }
};

} // namespace

int main(int argc, char** argv) {
  bool json_lines = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json-lines") == 0) {
      json_lines = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) {
    return 1;
  }
  if (json_lines) {
    json_lines_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
