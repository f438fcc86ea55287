# `cmake --install`: the programs, the systemd unit and the example configs (docs/systemd.md).
#
#   cmake --install build/release --prefix /usr     # /usr/bin/vigild, /usr/lib/systemd/system
#
# The unit's paths follow the prefix given at install time: systemd/vigild.service names
# /usr/bin, and the installed copy names <prefix>/bin. The config itself is never installed:
# /etc/vigil/vigil.toml is the administrator's; the annotated example sits beside it.
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
")
install(FILES configs/example.toml configs/demo.toml
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")
install(FILES docs/vigild.md docs/vigilctl.md docs/config.md docs/systemd.md
              docs/containers.md
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")
