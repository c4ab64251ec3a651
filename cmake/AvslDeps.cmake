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
if(NOT AVSL_TORCH_FREE_ONLY)
  find_package(Torch REQUIRED)
  # LibTorch's headers demanded C++17 up to PyTorch 2.11; later ones stop with '#error C++20 or later ...' (ATen.h,
  # torch/all.h) and use C++20 library features. The standard is read from the headers themselves, not guessed from
  # the version; LibTorch 1.13's headers in turn do not compile as C++20. avsl_core passes it on to plugins built
  # against the installed SDK (target_compile_features), so their CMAKE_CXX_STANDARD 17 is raised with it.
  set(AVSL_CXX_STANDARD 17)
  foreach(_dir ${TORCH_INCLUDE_DIRS})
    if(EXISTS "${_dir}/ATen/ATen.h")
      file(STRINGS "${_dir}/ATen/ATen.h" _avsl_needs_cxx20 REGEX "__cplusplus < 202002L")
      if(_avsl_needs_cxx20)
        set(AVSL_CXX_STANDARD 20)
      endif()
      break()
    endif()
  endforeach()
  set(CMAKE_CXX_STANDARD ${AVSL_CXX_STANDARD})
  message(STATUS "avsl: C++${AVSL_CXX_STANDARD} (what LibTorch's ATen/ATen.h requires)")
endif()
find_package(Boost 1.74 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(absl REQUIRED)
# OpenCV: core and imgproc. Images are read and written with libjpeg and libpng (below), not imgcodecs, whose
# Debian build loads GDAL, GDCM, OpenEXR and about two hundred other libraries that a machine without Debian 12's
# runtime lacks (docs/gpu.md). imgcodecs, where present, serves only the tests that compare avsl's codecs with
# OpenCV's (AVSL_TEST_IMGCODECS). OpenCV's CMake package (OpenCVConfig.cmake) ships in Debian's libopencv-dev
# metapackage with the targets of every module, all of which must then be installed; a prefix that holds only core
# and imgproc (the GPU bundle) is found by its headers and libraries instead, under the same target names.
find_package(OpenCV QUIET COMPONENTS core imgproc)
if(NOT OpenCV_FOUND)
  find_path(AVSL_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
  if(NOT AVSL_OPENCV_INCLUDE_DIR)
    message(FATAL_ERROR "OpenCV not found: neither OpenCVConfig.cmake nor opencv4/opencv2/core.hpp "
                        "(Debian: libopencv-dev, or libopencv-core-dev and libopencv-imgproc-dev)")
  endif()
  foreach(_m core imgproc imgcodecs)
    find_library(AVSL_OPENCV_${_m}_LIBRARY opencv_${_m})
    if(NOT AVSL_OPENCV_${_m}_LIBRARY)
      if(_m STREQUAL imgcodecs)
        continue()
      endif()
      message(FATAL_ERROR "OpenCV headers found in ${AVSL_OPENCV_INCLUDE_DIR} but no libopencv_${_m}.so")
    endif()
    add_library(opencv_${_m} SHARED IMPORTED)
    set_target_properties(opencv_${_m} PROPERTIES IMPORTED_LOCATION ${AVSL_OPENCV_${_m}_LIBRARY}
                                                  INTERFACE_INCLUDE_DIRECTORIES ${AVSL_OPENCV_INCLUDE_DIR})
  endforeach()
  message(STATUS "avsl: OpenCV core/imgproc from ${AVSL_OPENCV_INCLUDE_DIR} (no OpenCVConfig.cmake)")
endif()
# OpenCVConfig.cmake defines the target of every module; the search above only where libopencv_imgcodecs.so exists.
set(AVSL_TEST_IMGCODECS OFF)
if(TARGET opencv_imgcodecs)
  set(AVSL_TEST_IMGCODECS ON)
endif()
message(STATUS "avsl: tests compare the image codecs with OpenCV's imgcodecs: ${AVSL_TEST_IMGCODECS}")
find_package(nlohmann_json 3 REQUIRED)
find_package(pugixml REQUIRED)
# libsndfile and FFTW come through pkg-config. Without a pkg-config program, or where their .pc files cannot be
# resolved (the GPU bundle has no -dev packages of libsndfile's codecs, which sndfile.pc requires), their header and
# library are looked up directly, behind the same target names.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(SNDFILE QUIET IMPORTED_TARGET sndfile)
  pkg_check_modules(FFTW3 QUIET IMPORTED_TARGET fftw3)
endif()
foreach(_dep "SNDFILE;sndfile.h;sndfile" "FFTW3;fftw3.h;fftw3")
  list(GET _dep 0 _var)
  if(NOT TARGET PkgConfig::${_var})
    list(GET _dep 1 _header)
    list(GET _dep 2 _lib)
    find_path(AVSL_${_var}_INCLUDE_DIR ${_header})
    find_library(AVSL_${_var}_LIBRARY ${_lib})
    if(NOT AVSL_${_var}_INCLUDE_DIR OR NOT AVSL_${_var}_LIBRARY)
      message(FATAL_ERROR "${_lib}: not through pkg-config, and ${_header} / lib${_lib}.so not found (Debian: lib${_lib}-dev)")
    endif()
    add_library(PkgConfig::${_var} SHARED IMPORTED)
    set_target_properties(PkgConfig::${_var} PROPERTIES IMPORTED_LOCATION ${AVSL_${_var}_LIBRARY}
                                                        INTERFACE_INCLUDE_DIRECTORIES ${AVSL_${_var}_INCLUDE_DIR})
    message(STATUS "avsl: ${_lib} from ${AVSL_${_var}_LIBRARY} (not through pkg-config)")
  endif()
endforeach()

# libjpeg(-turbo) and libpng read and write every image (core/src/data/jpeg_codec.h, png_codec.h).
# jpeglib.h includes jconfig.h, which Debian keeps in the multiarch directory (/usr/include/<arch>): the compiler
# searches it by default under /usr, not under another prefix (the GPU bundle's), so it is added explicitly.
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)
find_path(AVSL_JPEG_CONFIG_DIR jconfig.h HINTS ${JPEG_INCLUDE_DIRS}
          PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE} include/${CMAKE_LIBRARY_ARCHITECTURE})
if(NOT AVSL_JPEG_CONFIG_DIR)
  message(FATAL_ERROR "libjpeg: jpeglib.h found in ${JPEG_INCLUDE_DIRS} but not its jconfig.h")
endif()
function(avsl_use_image_codecs target)
  target_include_directories(${target} SYSTEM PRIVATE ${AVSL_JPEG_CONFIG_DIR})
  target_link_libraries(${target} PRIVATE JPEG::JPEG PNG::PNG)
endfunction()

# FFmpeg's libraries (libavformat, libavcodec, libavutil, libswscale) for video: `avsl infer --video` and
# datasets.VideoFrames (core/include/avsl/data/video_reader.h, avsl/viz/video_writer.h). AUTO uses them when
# pkg-config finds them, ON requires them, OFF builds without (those entry points then say so).
set(AVSL_WITH_FFMPEG AUTO CACHE STRING "video through FFmpeg's libraries: AUTO, ON or OFF")
set_property(CACHE AVSL_WITH_FFMPEG PROPERTY STRINGS AUTO ON OFF)
set(AVSL_HAVE_FFMPEG OFF)
if(NOT AVSL_WITH_FFMPEG STREQUAL "OFF")
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(AVSL_FFMPEG QUIET IMPORTED_TARGET libavformat libavcodec libavutil libswscale)
  endif()
  if(AVSL_FFMPEG_FOUND)
    set(AVSL_HAVE_FFMPEG ON)
  elseif(AVSL_WITH_FFMPEG STREQUAL "ON")
    message(FATAL_ERROR "AVSL_WITH_FFMPEG=ON but pkg-config finds no libavformat/libavcodec/libavutil/libswscale "
                        "(Debian: libavformat-dev libavcodec-dev libavutil-dev libswscale-dev)")
  endif()
endif()
message(STATUS "avsl: video through FFmpeg: ${AVSL_HAVE_FFMPEG}")
function(avsl_use_ffmpeg target)
  if(AVSL_HAVE_FFMPEG)
    target_compile_definitions(${target} PRIVATE AVSL_HAVE_FFMPEG)
    target_link_libraries(${target} PRIVATE PkgConfig::AVSL_FFMPEG)
  endif()
endfunction()

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
