# Cross build for 64-bit Windows with Debian's mingw-w64 (gcc-mingw-w64-x86-64);
# the tests and the bench run under Wine (wine64):
#   cmake -S native -B build/win-x64 -DCMAKE_TOOLCHAIN_FILE=cmake/x86_64-w64-mingw32.cmake
#   cmake --build build/win-x64 && ctest --test-dir build/win-x64
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_ASM_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# libgcc and winpthreads linked in: aco.dll and the test programs need no DLL
# but Windows' own (and aco.dll).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
# Release: without the debug information of those static libraries (aco.dll 420 -> 130 KB).
set(CMAKE_EXE_LINKER_FLAGS_RELEASE_INIT "-Wl,--strip-debug")
set(CMAKE_SHARED_LINKER_FLAGS_RELEASE_INIT "-Wl,--strip-debug")
# CTest runs every test executable under wine64 (wine64-run.sh: aco.dll found
# through WINEPATH) in the Wine prefix ACO_WINEPREFIX, created on first use
# (MSBuild passes one outside the repository and creates it before the tests
# run; by default, one in this build tree).
find_program(ACO_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
find_program(ACO_WINE64 NAMES wine64 wine)
set(ACO_WINEPREFIX "${CMAKE_BINARY_DIR}/wineprefix" CACHE PATH "Wine prefix the tests run in")
set(CMAKE_CROSSCOMPILING_EMULATOR sh ${CMAKE_CURRENT_LIST_DIR}/wine64-run.sh ${ACO_WINE64}
    ${ACO_WINEPREFIX} ${CMAKE_BINARY_DIR})
