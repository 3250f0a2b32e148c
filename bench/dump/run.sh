#!/usr/bin/env bash
# Dumps of a process holding many coroutines, taken from outside with dotnet-aco: how long each takes, the longest
# pause of any scheduler, and the memory it adds while it is taken. See docs/dump.md.
#
#   bench/dump/run.sh [--count N] [--dumps K] [--schedulers S] [--json] [--no-build]
#
# The worker sample holds N coroutines (--hold: each asleep in worker_hold -> aco_bridge_sleep_ms). Then K dumps are
# taken one after another by `dotnet aco dump -p PID`. For each: the tool's wall time (its own start included), the
# dump's own "took" and "longest pause" (what the process measured: wall time, preemption by other processes
# included), the CPU time of the scheduler threads during the dump (both together; the held coroutines sleep, so
# it is the dump's work on them), and the memory added: the process's peak RSS during the dump (VmHWM after
# /proc/PID/clear_refs reset it to the RSS before) minus the RSS before. A dump's memory is garbage once it is
# written; an idle process collects it at its next GC, so "RSS after" grows from dump to dump until one runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

count=1000000
dumps=5
schedulers=2
format=()
build=1
usage() {
    echo "usage: $0 [--count N] [--dumps K] [--schedulers S] [--json] [--no-build]" >&2
    exit 2
}
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "$1 needs a positive integer, not '$2'" >&2; exit 2; }; }
while (($#)); do
    case $1 in
        --count) (($# >= 2)) || usage; positive "$1" "$2"; count=$2; shift 2 ;;
        --dumps) (($# >= 2)) || usage; positive "$1" "$2"; dumps=$2; shift 2 ;;
        --schedulers) (($# >= 2)) || usage; positive "$1" "$2"; schedulers=$2; shift 2 ;;
        --json) format=(--json --max-per-group 10); shift ;;
        --no-build) build=0; shift ;;
        -h | --help) usage ;;
        *) echo "unknown option: $1" >&2; usage ;;
    esac
done

config=Release
worker_dll=$repo/samples/Aco.WorkerService/bin/$config/net10.0/Aco.WorkerService.dll
tool_dll=$repo/src/Aco.Tools/bin/$config/net10.0/Aco.Tools.dll
if ((build)); then
    dotnet build "$repo/samples/Aco.WorkerService" -c $config -nologo -v q >&2
    dotnet build "$repo/src/Aco.Tools" -c $config -nologo -v q >&2
    dotnet build-server shutdown >/dev/null 2>&1 || true # no compiler server left busy while we measure
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/acodump.XXXXXX")
child=""
cleanup() {
    local rc=$?
    if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$child" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$child" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# CPU time (ns) of the scheduler threads: the held coroutines sleep, so what they spend during a dump is the dump's.
sched_cpu() {
    local total=0 t
    for t in /proc/"$1"/task/*; do
        [[ $(cat "$t/comm" 2>/dev/null) == aco-scheduler* ]] || continue
        total=$((total + $(cut -d' ' -f1 "$t/schedstat")))
    done
    echo "$total"
}
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

echo "# $(date -u '+%Y-%m-%d %H:%M:%S') UTC, $(nproc) cores, $(awk '/model name/ { $1 = $2 = $3 = ""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# worker sample: --count $count --hold, $schedulers schedulers; $dumps dumps with dotnet-aco ${format[*]}"

(cd "$(dirname "$worker_dll")" && exec env Aco__SchedulerCount="$schedulers" timeout -s KILL 1800 dotnet "$worker_dll" --count "$count" --hold) >"$work/worker.log" 2>&1 &
child=$!
# Bounded wait for the sample to hold every coroutine (a slow, busy machine: minutes, not forever).
for ((i = 0; ; i++)); do
    grep -q "holding $count coroutines" "$work/worker.log" && break
    if ((i >= 3000)) || ! kill -0 "$child" 2>/dev/null; then
        echo "the worker did not report holding $count coroutines:" >&2
        cat "$work/worker.log" >&2
        exit 1
    fi
    sleep 0.1
done
# timeout(1) runs dotnet as its child: the process to ask is that child.
pid=$(pgrep -P "$child" -f Aco.WorkerService.dll | head -1)
[[ -n $pid ]] || { echo "no worker process under $child" >&2; exit 1; }
grep -o "holding $count coroutines.*" "$work/worker.log" | head -1 | sed 's/^/# /'

printf '%-5s %12s %10s %14s %16s %14s %14s %12s\n' dump "tool wall ms" "took ms" "longest pause" "sched CPU ms" "RSS before MiB" "peak extra MiB" "RSS after"
for ((k = 1; k <= dumps; k++)); do
    before=$(kib "$pid" VmRSS)
    echo 5 >"/proc/$pid/clear_refs" # VmHWM := VmRSS now
    cpu0=$(sched_cpu "$pid")
    start=$(date +%s%N)
    if ! timeout -s KILL 300 dotnet "$tool_dll" dump -p "$pid" "${format[@]}" -o "$work/dump.$k" 2>"$work/tool.$k.err"; then
        echo "dotnet-aco failed:" >&2
        cat "$work/tool.$k.err" >&2
        exit 1
    fi
    end=$(date +%s%N)
    cpu1=$(sched_cpu "$pid")
    peak=$(kib "$pid" VmHWM)
    after=$(kib "$pid" VmRSS)
    if ((${#format[@]})); then
        took=$(grep -o '"durationMs":[0-9.]*' "$work/dump.$k" | head -1 | cut -d: -f2)
        pause=$(grep -o '"longestPauseMs":[0-9.]*' "$work/dump.$k" | head -1 | cut -d: -f2)
    else
        took=$(head -1 "$work/dump.$k" | sed -n 's/.*; took \([0-9]*\) ms.*/\1/p')
        pause=$(head -1 "$work/dump.$k" | sed -n 's/.*longest pause \([0-9.]*\) ms.*/\1/p')
    fi
    printf '%-5s %12d %10s %14s %16d %14d %14d %12d\n' "$k" $(((end - start) / 1000000)) "${took:-?}" "${pause:-?} ms" \
        $(((cpu1 - cpu0) / 1000000)) $((before / 1024)) $(((peak - before) / 1024)) $((after / 1024))
done
echo
echo "# the last dump, first lines:"
head -20 "$work/dump.$dumps"
