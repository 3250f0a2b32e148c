# Cross build for 32-bit Windows with Debian's mingw-w64 (gcc-mingw-w64-i686):
#   cmake -S native -B build/win-x86 -DCMAKE_TOOLCHAIN_FILE=$PWD/native/cmake/i686-w64-mingw32.cmake
#   cmake --build build/win-x86
# Its tests run only where a Wine that executes 32-bit programs is found
# (ACO_WINE32: Debian's wine32, which needs a kernel that runs 32-bit
# programs); elsewhere the build is the whole check.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-w64-mingw32-gcc)
set(CMAKE_ASM_COMPILER i686-w64-mingw32-gcc)
set(CMAKE_RC_COMPILER i686-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/i686-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# libgcc and winpthreads linked in, as in the x64 build.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_EXE_LINKER_FLAGS_RELEASE_INIT "-Wl,--strip-debug")
set(CMAKE_SHARED_LINKER_FLAGS_RELEASE_INIT "-Wl,--strip-debug")
# No .NET bodies: the .NET layers are tested on Windows x64 only.
set(ACO_BUILD_DOTNET_BODIES OFF CACHE BOOL "Build the C bodies of the .NET tests and samples")
find_program(ACO_WINE32 NAMES wine32 wine PATHS /usr/lib/wine)
if(ACO_WINE32)
  set(ACO_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix" CACHE PATH "Wine prefix the tests run in")
  set(CMAKE_CROSSCOMPILING_EMULATOR sh ${CMAKE_CURRENT_LIST_DIR}/wine64-run.sh ${ACO_WINE32}
      ${ACO_WINEPREFIX} ${CMAKE_BINARY_DIR})
endif()
