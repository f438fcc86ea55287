# vigil::build_flags carries warnings and sanitizers. Every Vigil target links it PRIVATE,
# so third-party code and consumers never inherit our -Werror (CAF's caf_internal).
add_library(vigil_build_flags INTERFACE)
add_library(vigil::build_flags ALIAS vigil_build_flags)

target_compile_options(vigil_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wno-missing-field-initializers -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
# g++ 12 at -O2 reports -Wmaybe-uninitialized for terms held in a std::variant that it
# has inlined through (a known false positive of that pass with variant storage).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(vigil_build_flags INTERFACE -Wno-maybe-uninitialized)
endif()
if(VIGIL_WERROR)
  target_compile_options(vigil_build_flags INTERFACE -Werror)
endif()

if(VIGIL_SANITIZERS)
  string(REPLACE "," ";" _vigil_sanitizer_list "${VIGIL_SANITIZERS}")
  foreach(_s IN LISTS _vigil_sanitizer_list)
    target_compile_options(vigil_build_flags INTERFACE -fsanitize=${_s})
    target_link_options(vigil_build_flags INTERFACE -fsanitize=${_s})
  endforeach()
  target_compile_options(vigil_build_flags INTERFACE -fno-omit-frame-pointer
                                                     -fno-sanitize-recover=all)
endif()
