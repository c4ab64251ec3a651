# Every third-party dependency, found once. Versions are those of Debian 12 (see docs/architecture.md);
# the same code also builds against LibTorch 2.x from a PyTorch install.
if(AVSL_TORCH_FROM_PYTHON)
  execute_process(COMMAND ${AVSL_PYTHON} -c "import torch; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _avsl_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _avsl_rc)
  if(NOT _avsl_rc EQUAL 0 OR NOT _avsl_torch_prefix)
    message(FATAL_ERROR "AVSL_TORCH_FROM_PYTHON: '${AVSL_PYTHON} -c \"import torch\"' failed; install PyTorch or set AVSL_PYTHON")
  endif()
  list(PREPEND CMAKE_PREFIX_PATH ${_avsl_torch_prefix})
  message(STATUS "avsl: LibTorch from ${AVSL_PYTHON}'s PyTorch: ${_avsl_torch_prefix}")
endif()
find_package(Torch REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(absl REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(nlohmann_json 3 REQUIRED)
find_package(pugixml REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)

# Boost.DLL is header-only; std::filesystem avoids linking Boost.Filesystem.
add_library(avsl_boost_dll INTERFACE)
target_link_libraries(avsl_boost_dll INTERFACE Boost::headers ${CMAKE_DL_LIBS})
target_compile_definitions(avsl_boost_dll INTERFACE BOOST_DLL_USE_STD_FS)

if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(AVSL_WITH_CUDA ON)
else()
  set(AVSL_WITH_CUDA OFF)
endif()
message(STATUS "avsl: LibTorch ${Torch_VERSION}, CUDA: ${AVSL_WITH_CUDA}")
