# Cross build for 32-bit x86 Linux (System V i386 ABI) with Debian's
# gcc-i686-linux-gnu and libc6-dev-i386-cross (not gcc-multilib, which cannot
# be installed beside gcc-aarch64-linux-gnu); the tests run under qemu-i386
# (qemu-user), since this build's machines need not execute 32-bit programs:
#   cmake -S native -B build/i386 -DCMAKE_TOOLCHAIN_FILE=$PWD/native/cmake/i686-linux-gnu.cmake
#   cmake --build build/i386 && ctest --test-dir build/i386
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER i686-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER i686-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# CTest runs every test executable through qemu, with the target's libc.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-i386 -L /usr/i686-linux-gnu)
# .NET has no linux-x86 runtime: the C bodies of the .NET tests and samples
# have no use here.
set(ACO_BUILD_DOTNET_BODIES OFF CACHE BOOL "Build the C bodies of the .NET tests and samples")
# AddressSanitizer + UBSan run under qemu-i386, but LeakSanitizer cannot: it
# stops the world with a clone() that qemu-user refuses (EINVAL) and then
# spins. Leaks are still caught by the tests' counter checks.
set(ACO_CROSS_SANITIZE ON CACHE BOOL "Build and run the ASan+UBSan tests of this cross build")
set(ACO_ASAN_DETECT_LEAKS 0 CACHE STRING "LeakSanitizer in the ASan tests (1 or 0)")
