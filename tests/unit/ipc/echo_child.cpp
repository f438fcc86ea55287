// SPDX-License-Identifier: Apache-2.0
// The program ChannelProcess.ExecedChildAttachesThroughAnInheritedDescriptor exec()s: it
// echoes terms through the channel descriptor number given as its argument.
#include "ipc_echo.hpp"

#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 2) {
    return 2;
  }
  return vigil::ipc::ipc_test::echo(vigil::unique_fd(std::atoi(argv[1])));
}
