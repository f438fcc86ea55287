// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/plugin.hpp"

#include "vigil/common/file_trust.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace vigil::workers {
namespace {

using init_fn = int (*)(kind_registry*, int);

error plugin_error(const std::string& path, std::string what) {
  return error{make_error_code(errc::config_invalid), "plugin " + path + ": " + std::move(what)};
}

} // namespace

result<void> load_plugin(const std::string& path, kind_registry& registry, bool strict_modes) {
  struct stat st {};

  if (::stat(path.c_str(), &st) != 0) {
    return plugin_error(path, std::error_code(errno, std::generic_category()).message());
  }
  // As root, code that others could have replaced must not run with our privileges; the
  // canonical path of a trusted file leads nowhere else until root changes it.
  std::string opened = path;
  if (strict_modes && ::geteuid() == 0) {
    auto trusted = trusted_path(path, 0);
    if (!trusted) {
      return plugin_error(path, "refusing to load as root: " + trusted.error().message
                                    + " (vigild --insecure-paths allows it)");
    }
    opened = *trusted;
  }
  void* handle = ::dlopen(opened.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return plugin_error(path, std::string("cannot load: ") + (why != nullptr ? why : "?"));
  }
  void* symbol = ::dlsym(handle, plugin_entry_point);
  if (symbol == nullptr) {
    ::dlclose(handle);
    return plugin_error(path, std::string("missing the entry point ") + plugin_entry_point
                                  + "() (declare it VIGIL_PLUGIN_EXPORT)");
  }
  auto init = reinterpret_cast<init_fn>(symbol);
  if (int rc = init(&registry, VIGIL_PLUGIN_ABI); rc != 0) {
    return plugin_error(path, "its " + std::string(plugin_entry_point) + "() refused with "
                                  + std::to_string(rc) + " (built for another VIGIL_PLUGIN_ABI?)");
  }
  return {};
}

} // namespace vigil::workers
