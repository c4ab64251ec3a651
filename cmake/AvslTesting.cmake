# avsl_add_test(NAME <name> SOURCES <files...> [TORCH] [LIBS <libs...>])
# One gtest binary per component. Tests that need the published split lists / annotation files (not shipped
# with avsl) look for them in ${AVSL_SOURCE_DIR}/../shared/data/reference and skip with a message when it is
# absent.
find_package(GTest REQUIRED)
include(GoogleTest)

function(avsl_add_test)
  cmake_parse_arguments(T "TORCH" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE avsl_core GTest::gtest GTest::gmock GTest::gtest_main ${T_LIBS})
  target_compile_definitions(${T_NAME} PRIVATE
    AVSL_SOURCE_DIR="${PROJECT_SOURCE_DIR}" AVSL_BINARY_DIR="${CMAKE_BINARY_DIR}")
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(T_TORCH)
    avsl_use_torch_pch(${T_NAME})
  endif()
  # Discovery at test time: running every torch-linked binary at build time costs 1-2 s each.
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${T_LABELS}")
endfunction()
