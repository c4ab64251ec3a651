# NCCL for the CUDA tensors of data-parallel runs (core/src/dist/nccl_group.cc, docs/distributed.md). It is used
# where LibTorch has CUDA, nccl.h is found (AVSL_NCCL_ROOT, $NCCL_ROOT, $NCCL_HOME, the system, or the nvidia-nccl
# wheel beside AVSL_PYTHON's PyTorch) and that file compiles and links against them; otherwise Gloo carries CUDA
# tensors through the host, and the configure log says why. A failed probe never fails the build: a GPU machine
# still builds and runs everything else.
option(AVSL_NCCL "Use NCCL for CUDA tensors in data-parallel runs where LibTorch has CUDA" ON)
set(AVSL_NCCL_ROOT "" CACHE PATH "Where NCCL is installed (include/nccl.h), when not on the default paths")

function(avsl_use_nccl target)
  set(AVSL_WITH_NCCL OFF PARENT_SCOPE)
  if(NOT AVSL_WITH_CUDA OR NOT AVSL_NCCL)
    if(AVSL_WITH_CUDA)
      message(STATUS "avsl: NCCL: off (AVSL_NCCL=OFF); Gloo carries CUDA tensors")
    endif()
    return()
  endif()
  set(_hints ${AVSL_NCCL_ROOT} $ENV{NCCL_ROOT} $ENV{NCCL_HOME})
  if(AVSL_PYTHON)
    execute_process(COMMAND ${AVSL_PYTHON} -c "import nvidia.nccl as m; print(list(m.__path__)[0])"
                    OUTPUT_VARIABLE _wheel OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND _wheel)
      list(APPEND _hints ${_wheel})
    endif()
  endif()
  find_path(AVSL_NCCL_INCLUDE_DIR nccl.h HINTS ${_hints} PATH_SUFFIXES include)
  if(NOT AVSL_NCCL_INCLUDE_DIR)
    message(STATUS "avsl: NCCL: off (nccl.h not found; set NCCL_ROOT, or install nvidia-nccl beside PyTorch); "
                   "Gloo carries CUDA tensors")
    return()
  endif()
  # The probe is the real file, linked into a program, so whatever the LibTorch version makes of it is known here.
  set(_dir ${CMAKE_BINARY_DIR}/nccl_probe)
  file(WRITE ${_dir}/main.cc
       "#include \"dist/nccl_group.h\"\nint main() { return avsl::dist::internal::NcclVersion().empty(); }\n")
  set(_includes ${AVSL_NCCL_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/core/src ${CUDAToolkit_INCLUDE_DIRS} ${CUDA_INCLUDE_DIRS})
  unset(AVSL_NCCL_COMPILES CACHE)
  try_compile(AVSL_NCCL_COMPILES ${_dir}/build SOURCES ${PROJECT_SOURCE_DIR}/core/src/dist/nccl_group.cc ${_dir}/main.cc
              CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${_includes}"
              LINK_LIBRARIES ${TORCH_LIBRARIES} absl::strings
              CXX_STANDARD ${CMAKE_CXX_STANDARD}
              OUTPUT_VARIABLE _log)
  file(WRITE ${_dir}/probe.log "${_log}")
  if(NOT AVSL_NCCL_COMPILES)
    message(STATUS "avsl: NCCL: off (core/src/dist/nccl_group.cc did not build against ${AVSL_NCCL_INCLUDE_DIR}: "
                   "see ${_dir}/probe.log); Gloo carries CUDA tensors")
    return()
  endif()
  message(STATUS "avsl: NCCL: on (${AVSL_NCCL_INCLUDE_DIR}/nccl.h): CUDA tensors of data-parallel runs travel over NCCL")
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/core/src/dist/nccl_group.cc)
  # The probe's include directories, so what compiled there compiles here.
  target_include_directories(${target} PRIVATE ${AVSL_NCCL_INCLUDE_DIR} ${CUDAToolkit_INCLUDE_DIRS} ${CUDA_INCLUDE_DIRS})
  # Per file, not per target: a target-wide define would make GCC refuse the shared torch PCH.
  set_source_files_properties(${PROJECT_SOURCE_DIR}/core/src/dist/nccl_group.cc
                              ${PROJECT_SOURCE_DIR}/core/src/dist/communicator.cc
                              TARGET_DIRECTORY ${target}
                              PROPERTIES COMPILE_DEFINITIONS AVSL_WITH_NCCL=1 SKIP_PRECOMPILE_HEADERS ON)
  set(AVSL_WITH_NCCL ON PARENT_SCOPE)
endfunction()
