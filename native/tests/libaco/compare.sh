#!/bin/sh
# compare.sh WHAT OURS LIBACO: runs one libaco test program built against this
# core (OURS) and the same program built against libaco 1.2.4 (LIBACO), each
# under $ACO_EMULATOR when set (a cross build), and compares them.
#   WHAT = output: the same exit status, and the same stdout and stderr once
#          every address is replaced by its order of first appearance (the
#          same pointer in the same places, wherever the allocator put it)
#   WHAT = stdout: the same, without stderr (a program that ends in the
#          default last-word handler, whose message is each library's own)
#   WHAT = threads: the same exit status, and the same counts of what the
#          threads printed (their lines interleave differently in every run):
#          yields by count, exits, main_co lines, the copy sizes and counters,
#          and the largest total of yields the program printed
#   WHAT = runs:   both run to the end (exit status 0); the output is timings
set -u
what=$1 ours=$2 libaco=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# $ACO_EMULATOR is a command line ("qemu-i386 -L /usr/i686-linux-gnu"): split on purpose.
$ACO_EMULATOR "$ours" >"$dir/ours.out" 2>"$dir/ours.err"
ours_status=$?
$ACO_EMULATOR "$libaco" >"$dir/libaco.out" 2>"$dir/libaco.err"
libaco_status=$?

show() {
    for f in ours.out ours.err libaco.out libaco.err; do
        echo "---- $f"
        cat "$dir/$f"
    done
}

if [ "$what" = runs ]; then
    if [ "$ours_status" -ne 0 ] || [ "$libaco_status" -ne 0 ]; then
        echo "exit status: ours $ours_status, libaco $libaco_status (both must be 0)"
        show
        exit 1
    fi
    tail -n 3 "$dir/ours.out"
    echo "ran to the end against both libraries"
    exit 0
fi

# What threads print, counted; a printf call's text stays in one piece, but a
# line printed by several calls may have another thread's text inside it.
summarize() {
    grep -oE ' yield_ct:[0-9]+|co_exit\(\)|main_co:0x|max stack copy size:[0-9]+|private save stack:[0-9]+' "$1" |
        sort | uniq -c
    grep -oE 'gl_race_aco_yield_ct:[0-9]+' "$1" | sort -t: -k2 -n | tail -n 1
}

normalize() {
    awk '{
        out = ""; s = $0
        while (match(s, /0x[0-9a-fA-F]+|\(nil\)/)) {
            a = substr(s, RSTART, RLENGTH)
            if (!(a in id)) id[a] = ++n
            out = out substr(s, 1, RSTART - 1) "<address " id[a] ">"
            s = substr(s, RSTART + RLENGTH)
        }
        print out s
    }' "$1"
}

status=0
if [ "$ours_status" -ne "$libaco_status" ]; then
    echo "exit status differs: ours $ours_status, libaco $libaco_status"
    status=1
fi
streams="out"
[ "$what" = output ] && streams="out err"
filter=normalize
[ "$what" = threads ] && filter=summarize
for s in $streams; do
    $filter "$dir/ours.$s" >"$dir/ours.$s.n"
    $filter "$dir/libaco.$s" >"$dir/libaco.$s.n"
    if ! cmp -s "$dir/ours.$s.n" "$dir/libaco.$s.n"; then
        echo "std$s differs ($filter):"
        diff "$dir/libaco.$s.n" "$dir/ours.$s.n"
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    show
    exit 1
fi
echo "same behaviour (exit status $ours_status, $(wc -l <"$dir/ours.out") lines of output)"
