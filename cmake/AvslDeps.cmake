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
endif()
find_package(Boost 1.74 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(absl REQUIRED)
# OpenCV's CMake package (OpenCVConfig.cmake) ships in Debian's libopencv-dev metapackage together with the targets of
# every module, all of which must then be installed. A prefix that holds only core, imgproc and imgcodecs (the GPU
# bundle, docs/gpu.md) is found by its headers and libraries instead, under the same target names.
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(NOT OpenCV_FOUND)
  find_path(AVSL_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
  if(NOT AVSL_OPENCV_INCLUDE_DIR)
    message(FATAL_ERROR "OpenCV not found: neither OpenCVConfig.cmake nor opencv4/opencv2/core.hpp "
                        "(Debian: libopencv-dev, or libopencv-{core,imgproc,imgcodecs}-dev)")
  endif()
  foreach(_m core imgproc imgcodecs)
    find_library(AVSL_OPENCV_${_m}_LIBRARY opencv_${_m})
    if(NOT AVSL_OPENCV_${_m}_LIBRARY)
      message(FATAL_ERROR "OpenCV headers found in ${AVSL_OPENCV_INCLUDE_DIR} but no libopencv_${_m}.so")
    endif()
    add_library(opencv_${_m} SHARED IMPORTED)
    set_target_properties(opencv_${_m} PROPERTIES IMPORTED_LOCATION ${AVSL_OPENCV_${_m}_LIBRARY}
                                                  INTERFACE_INCLUDE_DIRECTORIES ${AVSL_OPENCV_INCLUDE_DIR})
  endforeach()
  message(STATUS "avsl: OpenCV core/imgproc/imgcodecs from ${AVSL_OPENCV_INCLUDE_DIR} (no OpenCVConfig.cmake)")
endif()
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

# libjpeg(-turbo), which OpenCV decodes JPEG with, used directly to decode frames straight to RGB (core/src/data/
# jpeg_decoder.h). Optional: without its headers (a GPU bundle's prefix) frames go through OpenCV, same pixels.
# jpeglib.h includes jconfig.h, which Debian keeps in the multiarch directory (/usr/include/<arch>): the compiler
# searches it by default under /usr, not under another prefix (the GPU bundle's), so it is added explicitly.
find_package(JPEG QUIET)
if(JPEG_FOUND)
  find_path(AVSL_JPEG_CONFIG_DIR jconfig.h HINTS ${JPEG_INCLUDE_DIRS}
            PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE} include/${CMAKE_LIBRARY_ARCHITECTURE})
endif()
function(avsl_use_libjpeg target)
  if(JPEG_FOUND AND AVSL_JPEG_CONFIG_DIR)
    target_compile_definitions(${target} PRIVATE AVSL_HAVE_LIBJPEG)
    target_include_directories(${target} SYSTEM PRIVATE ${AVSL_JPEG_CONFIG_DIR})
    target_link_libraries(${target} PRIVATE JPEG::JPEG)
  endif()
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
