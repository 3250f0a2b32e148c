#!/bin/sh
# wine64-run.sh WINE64 PREFIX DLLDIR PROGRAM [ARGS...]: how CTest runs a test
# program of the Windows build: under WINE64, in the Wine prefix PREFIX, with
# DLLDIR (where aco.dll is) on the DLL search path, without Wine's debug
# channels and without offering to install Mono or Gecko (WINEDLLOVERRIDES from
# the caller wins: .NET programs need mscoree, which loads IL-only images).
#
# Wine's server and services outlive a program by a few seconds and keep the
# stdout/stderr of the program that started them: CTest would wait for them
# (3 s per test). So a program whose output goes nowhere starts them first
# (about 0.1 s when they already run), then the test runs.
wine=$1
export WINEPREFIX="$2" WINEPATH="$3" WINEDEBUG=-all WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
shift 3
"$wine" cmd /c exit </dev/null >/dev/null 2>&1
exec "$wine" "$@"
