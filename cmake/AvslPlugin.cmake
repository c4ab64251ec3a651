# avsl_add_plugin(NAME <name> SOURCES <files...> [TORCH] [NO_INSTALL] [OUTPUT_DIRECTORY <dir>] [LIBS <libs...>])
# Builds lib<avsl_NAME>.so where the plugin host finds it with no configuration. The same function is
# exported with the SDK (avslConfig.cmake), so out-of-tree plugins build exactly like in-tree ones.
function(avsl_add_plugin)
  cmake_parse_arguments(P "TORCH;NO_INSTALL" "NAME;OUTPUT_DIRECTORY" "SOURCES;LIBS" ${ARGN})
  if(NOT P_NAME OR NOT P_SOURCES)
    message(FATAL_ERROR "avsl_add_plugin: NAME and SOURCES are required")
  endif()
  set(target avsl_${P_NAME})
  # The sources compile once, into an object library (put per-plugin compile settings on avsl_<name>_objects): the
  # module links it, and so can the plugin's tests
  # (`avsl_add_test(... LIBS avsl_<name>_objects)`), which then call the plugin's functions directly and can register
  # it with PluginHost::LoadLinked(*avsl_plugin_info_<name>(), ...).
  if(TARGET avsl_core)
    set(core avsl_core)
  elseif(TARGET avsl::core)
    set(core avsl::core)
  else()
    message(FATAL_ERROR "avsl_add_plugin: no avsl::core target; call find_package(avsl) first")
  endif()
  add_library(${target}_objects OBJECT ${P_SOURCES})
  target_link_libraries(${target}_objects PUBLIC ${core} ${P_LIBS})
  target_compile_definitions(${target}_objects PRIVATE AVSL_PLUGIN_ID=${P_NAME})
  # The objects go into a shared module. -fPIC rather than POSITION_INDEPENDENT_CODE, which would give the tests
  # that link these objects -fPIE and make GCC reject the shared torch PCH (compiled with -fPIC; GCC uses a
  # precompiled header only with the code-generation options it was built with).
  target_compile_options(${target}_objects PRIVATE -fPIC)
  set_target_properties(${target}_objects PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  add_library(${target} MODULE $<TARGET_OBJECTS:${target}_objects>)
  target_link_libraries(${target} PRIVATE ${core} ${P_LIBS})
  if(NOT P_OUTPUT_DIRECTORY)
    if(DEFINED AVSL_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIRECTORY ${AVSL_PLUGIN_OUTPUT_DIR})
    else()
      set(P_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    endif()
  endif()
  # Hidden visibility keeps plugins from shadowing each other's symbols: the plugin's own code exports only its
  # entry point (weak template instantiations from LibTorch headers may still appear in the dynamic table).
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  if(P_TORCH AND COMMAND avsl_use_torch_pch)
    avsl_use_torch_pch(${target}_objects)
  endif()
  # An installed plugin finds libavsl_core.so through its RPATH, not only because the host loaded it first (so
  # `ldd` and tools that open a plugin on their own resolve it too). In tree, plugins install to
  # <libdir>/avsl/plugins and the core to <libdir>: two levels up. Out of tree, the build RPATH CMake derives from
  # the imported avsl::core already names the SDK's library directory; the installed plugin names it explicitly.
  if(NOT AVSL_OUT_OF_TREE)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  else()
    _avsl_sdk_library_dir(sdk_lib_dir)
    if(sdk_lib_dir)
      set_target_properties(${target} PROPERTIES INSTALL_RPATH "${sdk_lib_dir}")
    endif()
  endif()
  if(NOT P_NO_INSTALL)
    if(NOT DEFINED CMAKE_INSTALL_LIBDIR)
      include(GNUInstallDirs)
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/avsl/plugins)
  endif()
endfunction()

# The directory of the imported avsl::core library (the SDK's lib/), or "" when it cannot be told.
function(_avsl_sdk_library_dir out)
  set(location "")
  if(TARGET avsl::core)
    get_target_property(imported avsl::core IMPORTED)
    if(imported)
      get_target_property(configs avsl::core IMPORTED_CONFIGURATIONS)
      if(configs)
        foreach(config IN LISTS configs)
          get_target_property(location avsl::core IMPORTED_LOCATION_${config})
          if(location)
            break()
          endif()
        endforeach()
      endif()
      if(NOT location)
        get_target_property(location avsl::core IMPORTED_LOCATION)
      endif()
    endif()
  endif()
  if(location)
    get_filename_component(dir "${location}" DIRECTORY)
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()
