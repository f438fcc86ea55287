// SPDX-License-Identifier: Apache-2.0
#include "vigil/workers/plugin.hpp"

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

result<void> load_plugin(const std::string& path, kind_registry& registry) {
  struct stat st {};

  if (::stat(path.c_str(), &st) != 0) {
    return plugin_error(path, std::error_code(errno, std::generic_category()).message());
  }
  // As root, code that others could have replaced must not run with our privileges.
  if (::geteuid() == 0 && ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_uid != 0)) {
    return plugin_error(path, "refusing to load: it must be owned by root and writable by no "
                              "one else (chmod go-w, chown root)");
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
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
