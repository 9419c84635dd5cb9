# CMake package for the safeconv C library, installed by scripts/install-c.sh as
# PREFIX/lib/cmake/safeconv/safeconvConfig.cmake.
#
#   find_package(safeconv 0.1 REQUIRED)          # CMAKE_PREFIX_PATH=PREFIX if not in /usr/local
#   target_link_libraries(app PRIVATE safeconv::safeconv)          # shared library
#   target_link_libraries(app PRIVATE safeconv::safeconv_static)   # or: static archive
#
# Both targets carry the include directory; the static one also carries the system libraries
# the Rust runtime needs (pthread, dl, m, rt, util, gcc_s).

get_filename_component(_safeconv_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET safeconv::safeconv)
  add_library(safeconv::safeconv SHARED IMPORTED)
  set_target_properties(safeconv::safeconv PROPERTIES
    IMPORTED_LOCATION "${_safeconv_prefix}/lib/libsafeconv.so"
    # The Rust cdylib has no SONAME: link it as -lsafeconv so that DT_NEEDED is the file name.
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "${_safeconv_prefix}/include")
endif()

if(NOT TARGET safeconv::safeconv_static)
  find_package(Threads REQUIRED)
  add_library(safeconv::safeconv_static STATIC IMPORTED)
  set_target_properties(safeconv::safeconv_static PROPERTIES
    IMPORTED_LOCATION "${_safeconv_prefix}/lib/libsafeconv.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_safeconv_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;rt;util;gcc_s")
endif()

set(safeconv_INCLUDE_DIRS "${_safeconv_prefix}/include")
set(safeconv_LIBRARIES safeconv::safeconv)
set(safeconv_FOUND TRUE)
unset(_safeconv_prefix)
