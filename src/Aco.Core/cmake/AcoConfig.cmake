# find_package(Aco CONFIG REQUIRED) with Aco_DIR set to this directory (MSBuild: $(AcoCMakeDir))
# gives the imported target Aco::aco: the libaco.so and headers of this Aco.Core package.
#
#   add_library(my_bodies SHARED bodies.c)
#   target_link_libraries(my_bodies PRIVATE Aco::aco)
#   target_link_options(my_bodies PRIVATE -Wl,--no-undefined)
#   set_target_properties(my_bodies PROPERTIES BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN")
#
# Ship the bodies library beside the application and load it with AcoNativeLibrary.LoadBodies.
get_filename_component(_aco_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_aco_rid linux-arm64)
else()
  set(_aco_rid linux-x64)
endif()
set(Aco_INCLUDE_DIR "${_aco_root}/native/include")
set(Aco_LIBRARY "${_aco_root}/runtimes/${_aco_rid}/native/libaco.so")
if(NOT EXISTS "${Aco_LIBRARY}")
  set(Aco_FOUND FALSE)
  set(Aco_NOT_FOUND_MESSAGE "this Aco.Core package has no libaco.so for ${_aco_rid} (${Aco_LIBRARY})")
  return()
endif()
if(NOT TARGET Aco::aco)
  add_library(Aco::aco SHARED IMPORTED)
  set_target_properties(Aco::aco PROPERTIES
    IMPORTED_LOCATION "${Aco_LIBRARY}"
    IMPORTED_SONAME "libaco.so"
    INTERFACE_INCLUDE_DIRECTORIES "${Aco_INCLUDE_DIR}")
endif()
unset(_aco_root)
unset(_aco_rid)
