# Every third-party dependency, found once. Versions are those of Debian 12 (see docs/architecture.md);
# the same code also builds against LibTorch 2.x from a PyTorch install.
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
