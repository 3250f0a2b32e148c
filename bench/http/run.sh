#!/usr/bin/env bash
# bench/http/run.sh: measures every HTTP server of bench/http in one run with wrk and idle_client,
# server after server in alternating rounds, and writes a markdown report to bench/http/results/.
# README.md beside this file says what each column means.
# shellcheck disable=SC2317  # the builders and the trap handler are called indirectly
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="$here/.build"
command_line="bench/http/run.sh${*:+ $*}"

duration=10s      # each measured wrk run
warmup=2s         # each of the three warm-up wrk runs
connections=256   # wrk connections
repeat=1          # rounds
only=""           # comma-separated server names; empty: all
idle=""           # idle connections; empty: 50000 when ulimit -n allows it, else 10000
start_bound=60    # seconds a server may take to print its 'listening on' line
stop_bound=10     # seconds a server may take to exit after SIGTERM
settle_bound=40   # samples (0.25 s apart) to wait for a stable RSS

usage() {
  cat <<'EOF'
usage: bench/http/run.sh [--duration 10s] [--warmup 2s] [--connections 256] [--repeat K]
                         [--only NAME,NAME] [--idle N]
Builds the peers and measures each server: wrk plaintext, plaintext pipelined 16 deep, json,
then the server's RSS per idle keep-alive connection. Servers: kestrel, go, aco-native, aco-managed.
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "--repeat needs a positive integer" >&2; exit 2; }
[[ $connections =~ ^[1-9][0-9]*$ ]] || { echo "--connections needs a positive integer" >&2; exit 2; }
[[ -z $idle || $idle =~ ^[1-9][0-9]*$ ]] || { echo "--idle needs a positive integer" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# The servers: one register line each, with the function that builds it (run once, even when
# servers share it) and its command; run.sh appends "--port P". A builder puts a reason in
# skip_reason and returns 2 when its server is absent (skipped), 1 when the build failed.

names=()
declare -A builder=() command_of=() built=() build_failure=()
register() {
  local name=$1 build_function=$2
  shift 2
  names+=("$name")
  builder[$name]=$build_function
  command_of[$name]=$(printf '%q ' "$@")
}

build_kestrel() {
  dotnet_publish "$here/peers/Kestrel" "$build/kestrel" kestrel
}

build_go() {
  (cd "$here/peers/go" && nice go build -trimpath -o "$build/go/httppeer" .) > "$build/logs/go.log" 2>&1 ||
    { skip_reason="go build failed (log: $build/logs/go.log)"; tail -n 20 "$build/logs/go.log" >&2; return 1; }
}

build_aco() {
  local project="$repo/samples/Aco.HttpServer"
  if [ ! -d "$project" ]; then
    skip_reason="samples/Aco.HttpServer does not exist"
    return 2
  fi
  dotnet_publish "$project" "$build/aco" aco || return 1
  if [ ! -f "$build/aco/Aco.HttpServer.dll" ]; then
    skip_reason="publishing samples/Aco.HttpServer made no Aco.HttpServer.dll"
    return 1
  fi
}

register kestrel     build_kestrel dotnet "$build/kestrel/KestrelPeer.dll"
register go          build_go      "$build/go/httppeer"
register aco-native  build_aco     dotnet "$build/aco/Aco.HttpServer.dll"
register aco-managed build_aco     dotnet "$build/aco/Aco.HttpServer.dll" --managed

# Release publish without build servers, so that no compiler process outlives the build and
# takes CPU from the measurements.
dotnet_publish() {
  local project=$1 out=$2 log="$build/logs/$3.log"
  if ! nice dotnet publish "$project" -c Release -o "$out" --nologo --disable-build-servers \
      -p:UseSharedCompilation=false > "$log" 2>&1; then
    skip_reason="dotnet publish failed (log: $log)"
    tail -n 20 "$log" >&2
    return 1
  fi
}

selected=()
if [ -n "$only" ]; then
  IFS=, read -r -a wanted <<< "$only"
  for name in "${wanted[@]}"; do
    [ -n "${builder[$name]+x}" ] || { echo "unknown server '$name' (known: ${names[*]})" >&2; exit 2; }
    selected+=("$name")
  done
else
  selected=("${names[@]}")
fi

# ---------------------------------------------------------------------------------------------
# Child processes: every one started is in `live` until it is reaped; the exit trap ends them all.

declare -A live=()
tmp=$(mktemp -d)

cleanup() {
  local pid
  for pid in "${!live[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local any=0
    for pid in "${!live[@]}"; do running "$pid" && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  for pid in "${!live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

reap() {  # reap PID: waits for an exited child, returns its status
  local status=0
  wait "$1" || status=$?
  unset "live[$1]"
  return $status
}

# Whether process PID still runs: it has a /proc entry (bash reaps exited children on its own) and
# is no zombie (state letter after the command name).
running() {
  local state
  state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_process() {  # stop_process PID: SIGTERM, bounded wait, then SIGKILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < stop_bound * 10; i++)); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then
    echo "  ${live[$pid]:-process} $pid did not exit within ${stop_bound}s of SIGTERM: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    note "${live[$pid]:-process} $pid needed SIGKILL after ${stop_bound}s"
  fi
  reap "$pid" || true
}

# ---------------------------------------------------------------------------------------------
# Tools.

install_missing() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  [ -f /usr/include/stdio.h ] || missing+=(libc6-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || echo "apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  command -v dotnet >/dev/null 2>&1 || { echo "dotnet (the .NET 10 SDK) is needed" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------------------
# Measuring.

clock_ticks=$(getconf CLK_TCK)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# CPU ticks (user + system, all threads) a process has used; fields 14 and 15 after the ')' of comm.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# CPU seconds (user + system) of this shell's reaped children, from the `times` builtin, which
# must run in this shell (in a $(...) subshell it would count that subshell's children).
children_cpu_to() {
  times > "$tmp/times"
  awk 'NR == 2 {
         t = 0
         for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
         printf "%.3f\n", t
       }' "$tmp/times" > "$1"
}

now_ns() { date +%s%N; }

# Share of all cores busy over one second, from /proc/stat (before a server starts: others' load).
busy_percent() {
  local a b
  a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    busy = y[1] - x[1]; all = busy + y[2] - x[2]; printf "%.0f\n", (all > 0) ? 100 * busy / all : 0 }'
}

# A TCP port below the ephemeral range that nothing on this machine uses.
free_port() {
  local used port
  used=$(awk 'NR > 1 { split($2, a, ":"); print strtonum_hex(a[2]) }
              function strtonum_hex(h,   i, n) { n = 0; h = toupper(h)
                for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
                return n }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    grep -qx "$port" <<< "$used" || { echo "$port"; return 0; }
  done
  return 1
}

record() {  # record ROUND SERVER METRIC VALUE
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$tmp/results.tsv"
}

note() {  # a line printed under the round's table
  printf '%s\n' "$*" >> "$tmp/notes.$round"
  echo "  note: $*" >&2
}

# run_wrk KEY URL [wrk options...]: runs wrk against the server, records requests/s, p99 (when
# --latency), wrk's and the server's CPU share. Fails only when wrk does.
run_wrk() {
  local key=$1 url=$2
  shift 2
  local out="$tmp/wrk.$round.$server.$key" pid status=0
  local t0 c0 s0 t1 c1 s1
  children_cpu_to "$tmp/cpu.0"; t0=$(now_ns); s0=$(cpu_ticks "$server_pid")
  wrk "$@" "$url" > "$out" 2>&1 &
  pid=$!
  live[$pid]=wrk
  reap "$pid" || status=$?
  t1=$(now_ns); s1=$(cpu_ticks "$server_pid"); children_cpu_to "$tmp/cpu.1"
  c0=$(cat "$tmp/cpu.0"); c1=$(cat "$tmp/cpu.1")
  if [ $status != 0 ] || ! grep -q '^Requests/sec:' "$out"; then
    failure="wrk $key failed (status $status): $(tr '\n' ' ' < "$out" | cut -c1-300)"
    return 1
  fi
  [ "$key" = warmup ] && return 0
  local wall
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  record "$round" "$server" "${key}_rps" "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
  if grep -q 'Latency Distribution' "$out"; then
    record "$round" "$server" "${key}_p99" "$(awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0
        printf "%.2f", v * f }' "$out")"
  fi
  record "$round" "$server" "${key}_wrkcpu" "$(awk -v c="$c1" -v d="$c0" -v w="$wall" 'BEGIN { printf "%.0f", 100 * (c - d) / w }')"
  record "$round" "$server" "${key}_srvcpu" "$(awk -v c="$s1" -v d="$s0" -v w="$wall" -v hz="$clock_ticks" \
    'BEGIN { printf "%.0f", 100 * (c - d) / hz / w }')"
  local errors
  errors=$(grep -E '^ *(Socket errors|Non-2xx)' "$out" | tr -s ' ' | tr '\n' ';' || true)
  [ -n "$errors" ] && note "$server $key: ${errors% ;}"
  return 0
}

# RSS in kB once three samples in a row differ by at most 0.5% (or 256 kB); the last sample
# after settle_bound samples otherwise, with a note.
stable_rss() {
  local pid=$1 what=$2 prev cur i calm=0
  prev=$(rss_kb "$pid")
  for ((i = 0; i < settle_bound; i++)); do
    sleep 0.25
    cur=$(rss_kb "$pid")
    if awk -v a="$prev" -v b="$cur" 'BEGIN { d = a - b; if (d < 0) d = -d; t = a * 0.005; if (t < 256) t = 256; exit !(d <= t) }'; then
      calm=$((calm + 1))
      [ $calm -ge 2 ] && { echo "$cur"; return 0; }
    else
      calm=0
    fi
    prev=$cur
  done
  note "$server $what: RSS still moving after $((settle_bound / 4)) s; last sample used"
  echo "$cur"
}

# open_idle COUNT: starts idle_client with COUNT connections and waits (bounded) for its
# "idle COUNT" line; sets idle_pid and idle_writer (its standard input), or `failure`.
open_idle() {
  local count=$1 fifo="$tmp/idle.in.$1" i
  idle_out="$tmp/idle.$round.$server.$count"
  rm -f "$fifo"
  mkfifo "$fifo"
  # idle_client's standard input: the fifo, held open here (read-write, so opening never blocks)
  # until its connections have been measured; closing it ends idle_client.
  exec {idle_writer}<> "$fifo"
  : > "$idle_out"   # exists before the child opens it: the polling below may run first
  "$build/idle_client" -t 120 127.0.0.1 "$server_port" "$count" < "$fifo" > "$idle_out" 2>&1 &
  idle_pid=$!
  live[$idle_pid]=idle_client
  for ((i = 0; i < 1500; i++)); do   # idle_client's own bound is 120 s; this one is 150 s
    grep -q '^idle ' "$idle_out" && return 0
    running "$idle_pid" || break
    sleep 0.1
  done
  grep -q '^idle ' "$idle_out" && return 0
  close_idle
  failure="idle_client $count: $(tr '\n' ' ' < "$idle_out" | cut -c1-300)"
  return 1
}

close_idle() {
  exec {idle_writer}>&-   # end-of-file: idle_client closes its connections and exits
  stop_process "$idle_pid"
}

# The server's RSS per idle connection, in its own fresh process: 256 connections first (answered,
# then closed), so that code and pools that any connection needs are in place; then the RSS with
# none and with $idle connections open.
measure_idle() {
  local before after
  open_idle 256 || return 1
  close_idle
  before=$(stable_rss "$server_pid" "RSS before")
  [[ $before =~ ^[0-9]+$ ]] || { failure="cannot read the server's RSS"; return 1; }
  open_idle "$idle" || return 1
  after=$(stable_rss "$server_pid" "RSS with idle connections")
  # Every connection must still be open: idle_client exits as soon as one is closed.
  if ! running "$idle_pid"; then
    close_idle
    failure="idle_client ended early: $(tr '\n' ' ' < "$idle_out" | cut -c1-300)"
    return 1
  fi
  close_idle
  [[ $after =~ ^[0-9]+$ ]] || { failure="cannot read the server's RSS"; return 1; }
  record "$round" "$server" rss_before_kb "$before"
  record "$round" "$server" rss_idle_kb "$after"
  record "$round" "$server" per_conn_b "$(( (after - before) * 1024 / idle ))"
}

start_server() {  # start_server PHASE: the server's output goes to .build/logs/SERVER.ROUND.PHASE.log
  local port log="$build/logs/$server.$round.$1.log" i line
  port=$(free_port) || { failure="no free port found"; return 1; }
  : > "$log"   # exists before the child opens it: the polling below may run first
  # exec keeps the PID: the process measured is the server itself.
  (eval "exec ${command_of[$server]} --port $port") > "$log" 2>&1 &
  server_pid=$!
  live[$server_pid]=$server
  for ((i = 0; i < start_bound * 10; i++)); do
    line=$(grep -m1 '^listening on http://' "$log" || true)
    [ -n "$line" ] && break
    running "$server_pid" || break
    sleep 0.1
  done
  if [ -z "$line" ]; then
    failure="no 'listening on' line within ${start_bound}s: $(tail -n 5 "$log" | tr '\n' ' ' | cut -c1-300)"
    stop_process "$server_pid"
    return 1
  fi
  server_port=$(sed -n 's#^listening on http://[^/]*:\([0-9][0-9]*\)/.*#\1#p' <<< "$line")
  [ -n "$server_port" ] || { failure="cannot read the port from '$line'"; stop_process "$server_pid"; return 1; }
}

# Measures one server: the wrk runs in one fresh process, the idle connections in another (so the
# heap that the wrk runs grew does not hide what the connections cost). Returns non-zero with
# `failure` set.
measure_server() {
  failure=""
  record "$round" "$server" busy_before "$(busy_percent)"
  start_server wrk || return 1
  local base="http://127.0.0.1:$server_port"
  local wrk_common=(-t1 "-c$connections")
  local script="$here/pipeline.lua"
  if ! { run_wrk warmup "$base/plaintext" "${wrk_common[@]}" "-d$warmup" &&
         run_wrk warmup "$base/plaintext" "${wrk_common[@]}" "-d$warmup" -s "$script" &&
         run_wrk warmup "$base/json" "${wrk_common[@]}" "-d$warmup" &&
         run_wrk plaintext "$base/plaintext" "${wrk_common[@]}" "-d$duration" --latency &&
         run_wrk pipelined "$base/plaintext" "${wrk_common[@]}" "-d$duration" -s "$script" &&
         run_wrk json "$base/json" "${wrk_common[@]}" "-d$duration" --latency; }; then
    stop_process "$server_pid"
    return 1
  fi
  stop_process "$server_pid"
  start_server idle || return 1
  if ! measure_idle; then
    stop_process "$server_pid"
    return 1
  fi
  stop_process "$server_pid"
}

# ---------------------------------------------------------------------------------------------
# The report: a table per round and a summary of medians with ratios to the better anchor.

# shellcheck disable=SC2016  # awk code, expanded by awk
report_awk='
function median(list,   v, n, i, j, t) {
  n = split(list, v, " ")
  for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
  if (n == 0) return ""
  return (n % 2) ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}
function fmt(x, d) { return x == "" ? "-" : sprintf("%." d "f", x) }
function ratio(x, a) { return (x == "" || a == "" || a == 0) ? "-" : sprintf("%.2fx", x / a) }
BEGIN { FS = "\t" }
{ v[$1, $2, $3] = $4; if (!(($2) in seen)) { seen[$2] = 1; order[++ns] = $2 }; rounds[$1] = 1 }
END {
  if (mode == "round") {
    print "| server | plaintext req/s | p99 ms | pipelined req/s | json req/s | p99 ms | RSS MiB | RSS MiB, " idle " idle | bytes per idle conn | wrk CPU % | server CPU % | busy before % |"
    print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    for (i = 1; i <= ns; i++) {
      s = order[i]
      if ((r, s, "status") in v && v[r, s, "status"] != "ok") { print "| " s " | " v[r, s, "status"] " | - | - | - | - | - | - | - | - | - | - |"; continue }
      if (!((r, s, "plaintext_rps") in v)) continue
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s,
        v[r, s, "plaintext_rps"], v[r, s, "plaintext_p99"], v[r, s, "pipelined_rps"], v[r, s, "json_rps"], v[r, s, "json_p99"],
        fmt(v[r, s, "rss_before_kb"] / 1024, 1), fmt(v[r, s, "rss_idle_kb"] / 1024, 1), v[r, s, "per_conn_b"],
        v[r, s, "plaintext_wrkcpu"] "/" v[r, s, "pipelined_wrkcpu"] "/" v[r, s, "json_wrkcpu"],
        v[r, s, "plaintext_srvcpu"] "/" v[r, s, "pipelined_srvcpu"] "/" v[r, s, "json_srvcpu"], v[r, s, "busy_before"]
    }
    exit
  }
  split("plaintext_rps pipelined_rps json_rps plaintext_p99 json_p99 per_conn_b", metrics, " ")
  for (i = 1; i <= ns; i++) for (m = 1; m <= 6; m++) {
    list = ""; n = 0
    for (rr in rounds) if ((rr, order[i], metrics[m]) in v && v[rr, order[i], "status"] == "ok") { list = list " " v[rr, order[i], metrics[m]]; n++ }
    med[order[i], metrics[m]] = median(list); count[order[i]] = n
  }
  # Anchors: the faster of kestrel and go for req/s, the smaller for latency and memory.
  for (m = 1; m <= 6; m++) {
    a = ""
    for (k = 1; k <= 2; k++) {
      s = (k == 1) ? "kestrel" : "go"; x = med[s, metrics[m]]
      if (x == "") continue
      if (a == "" || (m <= 3 && x > a) || (m > 3 && x < a)) a = x
    }
    anchor[metrics[m]] = a
  }
  print "| server | rounds | plaintext req/s | ratio | pipelined req/s | ratio | json req/s | ratio | plaintext p99 ms | ratio | json p99 ms | ratio | bytes per idle conn | ratio |"
  print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  for (i = 1; i <= ns; i++) {
    s = order[i]
    if (count[s] == 0) { print "| " s " | 0 | - | - | - | - | - | - | - | - | - | - | - | - |"; continue }
    line = "| " s " | " count[s]
    for (m = 1; m <= 6; m++) line = line " | " fmt(med[s, metrics[m]], (m == 4 || m == 5) ? 2 : 0) " | " ratio(med[s, metrics[m]], anchor[metrics[m]])
    print line " |"
  }
}'

round_table() { awk -v mode=round -v r="$1" -v idle="$idle" "$report_awk" "$tmp/results.tsv"; }
summary_table() { awk -v mode=summary -v idle="$idle" "$report_awk" "$tmp/results.tsv"; }

# ---------------------------------------------------------------------------------------------
# Main.

install_missing
mkdir -p "$build/logs" "$here/results"

# Each server needs a descriptor per idle connection, and so does idle_client.
if [ -z "$idle" ]; then
  if ulimit -n 50200 2>/dev/null; then idle=50000; else idle=10000; fi
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 400)) ]; then
  ulimit -n $((idle + 400)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 400)) ]; then
    echo "--idle $idle needs ulimit -n $((idle + 400)); the hard limit here is $(ulimit -Hn)" >&2
    exit 1
  fi
fi

echo "building idle_client, then the servers: ${selected[*]}"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$build/idle_client" "$here/idle_client.c"
declare -A skip=()
failed_any=0
for server in "${selected[@]}"; do
  b=${builder[$server]}
  if [ -z "${built[$b]+x}" ]; then
    skip_reason=""
    status=0
    $b || status=$?
    built[$b]=$status
    build_failure[$b]=$skip_reason
  fi
  if [ "${built[$b]}" != 0 ]; then
    skip[$server]=${build_failure[$b]}
    echo "skipping $server: ${skip[$server]}"
    [ "${built[$b]}" = 2 ] || failed_any=1
  fi
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
report="$here/results/$stamp.md"
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# HTTP servers, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- command: \`$command_line\`"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores, $(uname -r)"
  echo "- tools: $(dotnet --version | sed 's/^/dotnet SDK /'), $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
  echo "- load average at start: $load"
  echo "- wrk: -t1 -c$connections -d$duration (warm-up: $warmup each of plaintext, pipelined, json); idle connections: $idle (ulimit -n $(ulimit -n), hard $(ulimit -Hn))"
  for server in "${selected[@]}"; do
    [ -n "${skip[$server]+x}" ] && echo "- $server skipped: ${skip[$server]}"
  done
  echo
} > "$report"
cat "$report"
awk -v l="${load%% *}" 'BEGIN { exit !(l > 1) }' &&
  echo "warning: load average $load: others are using the machine, figures will be noisy" | tee -a "$report"

: > "$tmp/results.tsv"
for ((round = 1; round <= repeat; round++)); do
  : > "$tmp/notes.$round"
  for server in "${selected[@]}"; do
    [ -n "${skip[$server]+x}" ] && continue
    echo "round $round: $server"
    if measure_server; then
      record "$round" "$server" status ok
    else
      echo "  $server failed: $failure" >&2
      record "$round" "$server" status "failed: ${failure//|//}"
      failed_any=1
    fi
  done
  {
    echo "## Round $round"
    echo
    round_table "$round"
    if [ -s "$tmp/notes.$round" ]; then echo; sed 's/^/- /' "$tmp/notes.$round"; fi
    echo
  } | tee -a "$report"
done

{
  echo "## Summary: medians over $repeat round(s)"
  echo
  summary_table
  echo
  echo "Ratios: req/s against the faster of kestrel and go in this run (above 1: faster); p99 and bytes per idle connection against the smaller of the two (below 1: better)."
} | tee -a "$report"
echo
echo "report: ${report#"$repo"/}"
exit $failed_any
