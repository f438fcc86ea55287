# `cmake --install`: the programs, the systemd unit, the config, the worker SDK (headers,
# static libraries, pkg-config and CMake package files), its example, the man pages and shell
# completions (docs/man/CMakeLists.txt) and the docs. cmake/VigilPackage.cmake makes a Debian
# package of the same tree (docs/packaging.md).
#
#   cmake --install build/release --prefix /usr     # /usr/bin/vigild, /usr/lib/systemd/system
#
# The unit's paths follow the prefix given at install time: systemd/vigild.service names
# /usr/bin and /etc/vigil, and the installed copy names <prefix>/bin and <prefix>/etc/vigil
# (/etc/vigil for the prefix /usr). /etc/vigil/vigil.toml (configs/example.toml) is installed
# only where none exists: it is the administrator's from then on (a conffile in the package).
include(GNUInstallDirs)

set(VIGIL_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit goes, relative to the install prefix (systemd reads both \
/usr/lib/systemd/system and /usr/local/lib/systemd/system)")

install(TARGETS vigild vigilctl vigil-worker RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Rewritten at install time, not at configure time, so that `--prefix` is honoured.
set(_vigil_unit_src "${PROJECT_SOURCE_DIR}/systemd/vigild.service")
install(CODE "
  file(READ \"${_vigil_unit_src}\" _unit)
  set(_bindir \"${CMAKE_INSTALL_BINDIR}\")
  if(NOT IS_ABSOLUTE \"\${_bindir}\")
    set(_bindir \"\${CMAKE_INSTALL_PREFIX}/\${_bindir}\")
  endif()
  string(REPLACE \"/usr/bin/vig\" \"\${_bindir}/vig\" _unit \"\${_unit}\")
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    string(REPLACE \" /etc/vigil/\" \" \${CMAKE_INSTALL_PREFIX}/etc/vigil/\" _unit \"\${_unit}\")
  endif()
  set(_dir \"${VIGIL_SYSTEMD_UNIT_DIR}\")
  if(NOT IS_ABSOLUTE \"\${_dir}\")
    set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
  endif()
  set(_dest \"\$ENV{DESTDIR}\${_dir}/vigild.service\")
  message(STATUS \"Installing: \${_dest}\")
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}\${_dir}\")
  file(WRITE \"\${_dest}\" \"\${_unit}\")
")

# <prefix>/etc/vigil/vigil.toml.example, and /etc/vigil for the prefix /usr (GNU's rule),
# decided at install time as well.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_etc \"/etc/vigil\")
  else()
    set(_etc \"\${CMAKE_INSTALL_PREFIX}/etc/vigil\")
  endif()
  message(STATUS \"Installing: \$ENV{DESTDIR}\${_etc}/vigil.toml.example\")
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}\${_etc}\")
  file(COPY_FILE \"${PROJECT_SOURCE_DIR}/configs/example.toml\"
       \"\$ENV{DESTDIR}\${_etc}/vigil.toml.example\")
  if(NOT EXISTS \"\$ENV{DESTDIR}\${_etc}/vigil.toml\")
    message(STATUS \"Installing: \$ENV{DESTDIR}\${_etc}/vigil.toml\")
    file(COPY_FILE \"${PROJECT_SOURCE_DIR}/configs/example.toml\"
         \"\$ENV{DESTDIR}\${_etc}/vigil.toml\")
  else()
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${_etc}/vigil.toml\")
  endif()
")
install(FILES configs/example.toml configs/demo.toml
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")
install(FILES README.md CHANGELOG.md docs/vigild.md docs/vigilctl.md docs/config.md
              docs/systemd.md docs/containers.md docs/worker-sdk.md docs/os-workers.md
              docs/security.md docs/protocol.md docs/packaging.md
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES workers/sdk/examples/sdk_echo.cpp DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")

# The worker SDK (docs/worker-sdk.md): vigil::worker_sdk and the static libraries it stands
# on, their headers, a pkg-config file (vigil-worker-sdk.pc) and a CMake package:
#
#   find_package(Vigil REQUIRED)
#   target_link_libraries(my_worker PRIVATE Vigil::worker_sdk)
#
# Both files find the rest relative to themselves, so an unpacked or relocated tree works.
set(_vigil_sdk_libs vigil_common vigil_term vigil_ipc vigil_worker_sdk)
install(TARGETS ${_vigil_sdk_libs} ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY common/vigil/common common/vigil/term ipc/vigil/ipc
                  workers/sdk/vigil/worker_sdk
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/vigil"
        FILES_MATCHING PATTERN "*.hpp" PATTERN "cli_reference.hpp" EXCLUDE)
# Libraries built with sanitizers need their runtimes at link time: consumers get the flags.
set(VIGIL_SDK_LINK_FLAGS "")
if(VIGIL_SANITIZERS)
  string(REPLACE "," ";" _vigil_sdk_sanitizers "${VIGIL_SANITIZERS}")
  foreach(_s IN LISTS _vigil_sdk_sanitizers)
    list(APPEND VIGIL_SDK_LINK_FLAGS "-fsanitize=${_s}")
  endforeach()
endif()
list(JOIN VIGIL_SDK_LINK_FLAGS " " VIGIL_SDK_LINK_FLAGS_STRING)
# From each file's directory up to the prefix: "../.." for lib/pkgconfig.
file(RELATIVE_PATH VIGIL_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
file(RELATIVE_PATH VIGIL_CMAKE_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/cmake/Vigil" "/p")
configure_file(cmake/vigil-worker-sdk.pc.in vigil-worker-sdk.pc @ONLY)
configure_file(cmake/VigilConfig.cmake.in VigilConfig.cmake @ONLY)
include(CMakePackageConfigHelpers)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/VigilConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/vigil-worker-sdk.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
install(FILES "${PROJECT_BINARY_DIR}/VigilConfig.cmake"
              "${PROJECT_BINARY_DIR}/VigilConfigVersion.cmake"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/Vigil")
# The SDK's example program, where docs/worker-sdk.md's config points.
install(TARGETS vigil_sdk_echo RUNTIME DESTINATION "${CMAKE_INSTALL_LIBDIR}/vigil/examples")
