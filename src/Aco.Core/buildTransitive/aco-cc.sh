#!/bin/sh
# aco-cc.sh COMMAND ARGS...: runs a compiler or linker and rewrites its diagnostics into MSBuild's
# canonical form, "file(line,col): error ACOCC: text", so that dotnet build shows them as errors
# and warnings with their file and line (the first rule that matches a line wins). Exits with the
# command's status.
out=$("$@" 2>&1)
status=$?
if [ -n "$out" ]; then
  printf '%s\n' "$out" | sed -E \
    -e 's/^(.+):([0-9]+):([0-9]+): (fatal )?error: /\1(\2,\3): error ACOCC: /' -e t \
    -e 's/^(.+):([0-9]+):([0-9]+): warning: /\1(\2,\3): warning ACOCC: /' -e t \
    -e 's/^(.+):([0-9]+): (fatal )?error: /\1(\2): error ACOCC: /' -e t \
    -e 's/^(.+):([0-9]+): undefined reference to (.+)$/\1(\2): error ACOLD: undefined reference to \3/' -e t \
    -e 's/^(.+): undefined reference to (.+)$/ld : error ACOLD: \1: undefined reference to \2/' -e t \
    -e 's/^(.*ld[^ :]*): cannot find (.+)$/\1 : error ACOLD: cannot find \2/' -e t
fi
exit $status
