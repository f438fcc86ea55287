// SPDX-License-Identifier: Apache-2.0
// Built against the installed SDK only. Started outside vigild, it has no channel to attach
// to: it prints the SDK's error and exits 3; with --term it prints a term built and printed
// by the installed term library.
#include "vigil/term/text.hpp"
#include "vigil/worker_sdk/worker.hpp"

#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  using namespace vigil;
  if (argc > 1 && std::string_view(argv[1]) == "--term") {
    auto parsed = parse_term("{:ok, 42}");
    if (!parsed) {
      return 1;
    }
    std::printf("%s\n", to_string(make_tuple(atom("ok"), *parsed)).c_str());
    return 0;
  }
  auto w = sdk::worker::from_env();
  if (!w) {
    std::printf("consumer: %s\n", w.error().message().c_str());
    return 3;
  }
  return 0;
}
