#!/usr/bin/env bash
# Times the worker service sample (the main job) against its two peers, plain .NET async and Go,
# alternating them in one run. See README.md.
#
#   bench/mainjob/run.sh [--rounds K] [--count N] [--timeout SECONDS] [--no-build]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

rounds=3
count=1000000
timeout_s=""
build=1

usage() {
    echo "usage: $0 [--rounds K] [--count N] [--timeout SECONDS] [--no-build]" >&2
    exit 2
}
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "$1 needs a positive integer, not '$2'" >&2; exit 2; }; }
while (($#)); do
    case $1 in
        --rounds) (($# >= 2)) || usage; positive "$1" "$2"; rounds=$2; shift 2 ;;
        --count) (($# >= 2)) || usage; positive "$1" "$2"; count=$2; shift 2 ;;
        --timeout) (($# >= 2)) || usage; positive "$1" "$2"; timeout_s=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) usage ;;
        *) echo "unknown option: $1" >&2; usage ;;
    esac
done
# Each child's bound: generous for a slow, shared machine (1M jobs take seconds, not minutes).
timeout_s=${timeout_s:-$((120 + count / 5000))}

work=$(mktemp -d "${TMPDIR:-/tmp}/mainjob.XXXXXX")
child=""
cleanup() {
    local rc=$?
    if [[ -n $child ]]; then
        # timeout(1) leads its own process group: end the program, its wrappers and any threads' children.
        kill -TERM -- "-$child" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 -- "-$child" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$child" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools ------------------------------------------------------------------------------------
missing=()
command -v go >/dev/null || missing+=(golang-go)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    echo "installing ${missing[*]} with apt-get" >&2
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
fi
command -v dotnet >/dev/null || { echo "dotnet (the .NET 10 SDK) is not on PATH" >&2; exit 1; }
# perf counts page faults when the kernel lets it; otherwise the column comes from getrusage (via time).
fault_source="rusage minor+major (GNU time)"
perf_ok=0
if command -v perf >/dev/null && perf stat -x, -e page-faults -o /dev/null -- true >/dev/null 2>&1; then
    perf_ok=1
    fault_source="perf stat -e page-faults"
fi

# ---- build --------------------------------------------------------------------------------------
aco_dir=$repo/samples/Aco.WorkerService/bin/Release/net10.0
async_dir=$here/dotnet/bin/Release/net10.0
go_bin=$here/go/bin/mainjob-go
if ((build)); then
    # No MSBuild node or compiler server stays behind to compete with the timed runs.
    dotnet_build=(nice -n 10 dotnet build -c Release -nologo -v:q -nodeReuse:false -p:UseSharedCompilation=false)
    step() {
        local what=$1; shift
        echo "building $what" >&2
        if ! "$@" >"$work/build.log" 2>&1; then
            tail -n 40 "$work/build.log" >&2
            echo "build of $what failed" >&2
            exit 1
        fi
    }
    step "the worker service sample" "${dotnet_build[@]}" "$repo/samples/Aco.WorkerService"
    step "the .NET async peer" "${dotnet_build[@]}" "$here/dotnet"
    # shellcheck disable=SC2016 # $1 expands in the inner shell
    step "the Go peer" bash -c 'cd "$1" && nice -n 10 go build -o bin/mainjob-go .' _ "$here/go"
fi
for f in "$aco_dir/Aco.WorkerService.dll" "$async_dir/MainJobAsync.dll" "$go_bin"; do
    [[ -e $f ]] || { echo "missing $f (run without --no-build)" >&2; exit 1; }
done

# ---- run ---------------------------------------------------------------------------------------
programs=(aco dotnet go)
declare -A label=([aco]="Aco.WorkerService" [dotnet]=".NET async" [go]="Go")

# run_one NAME ROUND: one fresh process under timeout, perf (when it works) and GNU time.
# Appends "name round wall user sys rssKiB faults inner check" to $work/rows.
run_one() {
    local name=$1 round=$2
    local base=$work/$name.$round dir cmd
    case $name in
        aco) dir=$aco_dir; cmd=(dotnet Aco.WorkerService.dll --count "$count") ;;
        dotnet) dir=$async_dir; cmd=(dotnet MainJobAsync.dll --count "$count") ;;
        go) dir=$here/go; cmd=("$go_bin" --count "$count") ;;
    esac
    local perf=()
    if ((perf_ok)); then perf=(perf stat -x ',' -e page-faults -o "$base.perf" --); fi
    # The .NET hosts read appsettings.json from the working directory (their content root).
    (cd "$dir" && exec timeout -k 10 "$timeout_s" "${perf[@]}" \
        /usr/bin/time -f '%e %U %S %M %R %F' -o "$base.time" -- "${cmd[@]}") >"$base.out" 2>&1 &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=""

    local wall=NA user=NA sys=NA rss=NA minflt=NA majflt=NA faults=NA inner=NA check
    if [[ -s $base.time ]]; then
        read -r wall user sys rss minflt majflt < <(tail -n 1 "$base.time")
        [[ $wall =~ ^[0-9.]+$ ]] || wall=NA
    fi
    if ((perf_ok)) && [[ -s $base.perf ]]; then
        faults=$(awk -F, '$3 == "page-faults" && $1 ~ /^[0-9]+$/ { print $1 }' "$base.perf")
        faults=${faults:-NA}
    elif [[ $minflt =~ ^[0-9]+$ && $majflt =~ ^[0-9]+$ ]]; then
        faults=$((minflt + majflt))
    fi
    local summary
    summary=$(grep -m 1 '^summary:' "$base.out" || true)
    if [[ $summary =~ finished\ in\ ([0-9.]+)\ s ]]; then inner=${BASH_REMATCH[1]}; fi
    if ((rc == 124 || rc == 137)); then
        check="timeout (${timeout_s} s)"
    elif ((rc != 0)); then
        check="exit $rc"
    elif [[ $summary == *"(correct)"* ]]; then
        check=correct
    elif [[ -n $summary ]]; then
        check="wrong sum"
    else
        check="no summary"
    fi
    if [[ $check != correct ]]; then
        echo "$name (round $round): $check; its output ends with:" >&2
        tail -n 15 "$base.out" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$wall" "$user" "$sys" "$rss" "$faults" "$inner" "$check" >>"$work/rows"
    cp "$base.out" "$work/last-$name.out"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    commit="$commit (with uncommitted changes)"
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
report=$work/report.md

{
    echo "# Main job: Aco.WorkerService vs plain .NET async vs Go"
    echo
    echo "- when: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); command: \`bench/mainjob/run.sh --rounds $rounds --count $count\`"
    echo "- machine: $model, $(nproc) CPUs, $(uname -sr); load average at start: $(load)"
    echo "- .NET runtime $runtime, $(go version | cut -d' ' -f3-); repository $commit"
    echo "- page faults: $fault_source; each child bounded to $timeout_s s"
    echo
} >"$report"
cat "$report"

: >"$work/rows"
for ((r = 1; r <= rounds; r++)); do
    start_load=$(load)
    for p in "${programs[@]}"; do
        echo "round $r/$rounds: ${label[$p]}" >&2
        run_one "$p" "$r"
    done
    {
        echo "## Round $r (load average before: $start_load)"
        echo
        echo "| program | wall s | user s | sys s | CPU s | CPU/wall | max RSS MiB | page faults | in-process s | check |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        awk -F'\t' -v r="$r" -v a="${label[aco]}" -v d="${label[dotnet]}" -v g="${label[go]}" '
            BEGIN { name["aco"] = a; name["dotnet"] = d; name["go"] = g }
            $2 == r {
                cpu = ($4 == "NA" || $5 == "NA") ? "NA" : sprintf("%.2f", $4 + $5)
                ratio = (cpu == "NA" || $3 == "NA" || $3 == 0) ? "NA" : sprintf("%.2f", cpu / $3)
                rss = ($6 == "NA") ? "NA" : sprintf("%.0f", $6 / 1024)
                printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name[$1], $3, $4, $5, cpu, ratio, rss, $7, $8, $9
            }' "$work/rows"
        echo
    } | tee -a "$report"
done

# ---- summary -----------------------------------------------------------------------------------
{
    echo "## Summary over $rounds rounds (count $count; load average at end: $(load))"
    echo
    echo "| program | best wall s | median wall s | median CPU s | median max RSS MiB | correct runs |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F'\t' -v a="${label[aco]}" -v d="${label[dotnet]}" -v g="${label[go]}" -v k="$rounds" '
        function median(list,   n, v, i, j, t) {
            n = split(list, v, " ")
            if (n == 0) return "NA"
            for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        BEGIN { name["aco"] = a; name["dotnet"] = d; name["go"] = g; order[1] = "aco"; order[2] = "dotnet"; order[3] = "go" }
        # Only correct runs count: a wrong or failed run has no time to compare.
        $9 == "correct" {
            ok[$1]++
            walls[$1] = walls[$1] " " $3
            cpus[$1] = cpus[$1] " " ($4 + $5)
            rsss[$1] = rsss[$1] " " ($6 / 1024)
            if (!($1 in best) || $3 + 0 < best[$1]) best[$1] = $3 + 0
        }
        END {
            for (i = 1; i <= 3; i++) {
                p = order[i]
                if (p in best) {
                    m[p] = median(walls[p])
                    printf "| %s | %.2f | %.2f | %.2f | %.0f | %d/%d |\n", name[p], best[p], m[p], median(cpus[p]), median(rsss[p]), ok[p], k
                } else {
                    printf "| %s | NA | NA | NA | NA | 0/%d |\n", name[p], k
                }
            }
            print ""
            if (!("aco" in best) || (!("dotnet" in best) && !("go" in best))) {
                print "No ratio: the sample or both peers have no correct run."
                exit
            }
            peer = ("go" in best && (!("dotnet" in best) || best["go"] < best["dotnet"])) ? "go" : "dotnet"
            ratio = best["aco"] / best[peer]
            printf "Best of %d: %s %.2f s vs the faster peer, %s, %.2f s: ratio **%.3f** (target <= 0.33: %s).\n", \
                k, name["aco"], best["aco"], name[peer], best[peer], ratio, (ratio <= 0.33 ? "met" : "not met")
            mpeer = ("go" in m && (!("dotnet" in m) || m["go"] < m["dotnet"])) ? "go" : "dotnet"
            printf "Median: %s %.2f s vs %s %.2f s: ratio %.3f.\n", name["aco"], m["aco"], name[mpeer], m[mpeer], m["aco"] / m[mpeer]
        }' "$work/rows"
    echo
    echo "Last summary lines:"
    echo
    for p in "${programs[@]}"; do
        echo "- ${label[$p]}: \`$(grep -m 1 '^summary:' "$work/last-$p.out" || echo 'none')\`"
    done
} | tee -a "$report"

mkdir -p "$here/results"
cp "$report" "$here/results/$stamp.md"
echo
echo "written to bench/mainjob/results/$stamp.md"
# Fail when any run failed, so a wrong sum or a timeout is never mistaken for a figure.
if awk -F'\t' '$9 != "correct" { bad = 1 } END { exit !bad }' "$work/rows"; then
    exit 1
fi
