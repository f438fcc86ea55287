# vigil_add_component(name SOURCES ... [DEPENDS ...] [PRIVATE_DEPENDS ...])
# Makes the static library vigil_<name> with the alias vigil::<name>. Public headers sit in
# <component dir>/vigil/<name>/ so that an include path names its component.
function(vigil_add_component name)
  cmake_parse_arguments(arg "" "INCLUDE_DIR" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  if(NOT arg_INCLUDE_DIR)
    set(arg_INCLUDE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  add_library(vigil_${name} STATIC ${arg_SOURCES})
  add_library(vigil::${name} ALIAS vigil_${name})
  target_include_directories(vigil_${name} PUBLIC "${arg_INCLUDE_DIR}")
  target_link_libraries(vigil_${name} PUBLIC ${arg_DEPENDS}
                                      PRIVATE vigil::build_flags ${arg_PRIVATE_DEPENDS})
endfunction()

# vigil_add_unit_tests(component [CONCURRENCY] SOURCES ... DEPENDS ...)
# One GoogleTest executable per component (<component>_tests), labelled "unit". CONCURRENCY
# labels it "unit_concurrency" instead: the tsan preset runs tests whose label matches
# "concurrency" under ThreadSanitizer. (One label each: gtest_discover_tests cannot pass a
# list-valued property.)
function(vigil_add_unit_tests component)
  cmake_parse_arguments(arg "CONCURRENCY" "" "SOURCES;DEPENDS" ${ARGN})
  set(labels unit)
  if(arg_CONCURRENCY)
    set(labels unit_concurrency)
  endif()
  add_executable(${component}_tests ${arg_SOURCES})
  target_link_libraries(${component}_tests PRIVATE ${arg_DEPENDS} GTest::gtest_main
                                                   GTest::gmock vigil::build_flags)
  gtest_discover_tests(${component}_tests DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${labels}" TIMEOUT 300)
endfunction()
