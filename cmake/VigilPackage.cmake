# A Debian package of the install tree (docs/packaging.md):
#
#   cmake --preset release && cmake --build --preset release
#   cpack --config build/release/CPackConfig.cmake -B build/release/package
#     -> build/release/package/vigil_0.1.0_amd64.deb
#
# Everything `cmake --install` puts under the prefix /usr, /etc/vigil/vigil.toml (and its
# .example) as conffiles,
# the Debian copyright and changelog files; dpkg-shlibdeps works out the dependencies.
# tests/package/package_test.py builds it, checks its contents and runs lintian on it.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "vigil")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "Vigil maintainers <vigil@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "process supervisor with OTP-style supervision trees")
set(CPACK_PACKAGE_DESCRIPTION
    "Vigil runs programs and in-process workers under Erlang/OTP-style\n\
supervision trees. vigild is the daemon (a systemd Type=notify service, or a\n\
container's PID 1); vigilctl shows and controls the tree and offers an\n\
iex-like shell. The package also holds the worker SDK (headers, static\n\
libraries, pkg-config and CMake package files) for programs that exchange\n\
terms with vigild.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT") # vigil_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/packaging/debian/conffiles")
# Debian ships programs stripped (lintian: unstripped-binary-or-object is an error).
set(CPACK_STRIP_FILES ON)

# /usr/share/doc/vigil/copyright and changelog.gz, as Debian's policy wants them.
configure_file("${PROJECT_SOURCE_DIR}/packaging/debian/changelog.in"
               "${PROJECT_BINARY_DIR}/packaging/changelog" @ONLY)
add_custom_command(
  OUTPUT "${PROJECT_BINARY_DIR}/packaging/changelog.gz"
  COMMAND gzip -9nc "${PROJECT_BINARY_DIR}/packaging/changelog" >
          "${PROJECT_BINARY_DIR}/packaging/changelog.gz"
  DEPENDS "${PROJECT_BINARY_DIR}/packaging/changelog")
add_custom_target(vigil_debian_changelog ALL
                  DEPENDS "${PROJECT_BINARY_DIR}/packaging/changelog.gz")
install(FILES "${PROJECT_SOURCE_DIR}/packaging/debian/copyright"
              "${PROJECT_BINARY_DIR}/packaging/changelog.gz"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")

include(CPack)
