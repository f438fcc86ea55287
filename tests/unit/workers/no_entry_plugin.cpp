// SPDX-License-Identifier: Apache-2.0
// A shared library that is not a Vigil plugin: it lacks vigil_plugin_init.
extern "C" int not_a_vigil_plugin() {
  return 42;
}
