#!/usr/bin/env bash
# make bench-engine: writes the experiments files that the engine benchmark
# decides (tests/bench/experiments.pl), runs it (engine.c), and writes its
# tables, with the machine and commit they came from, to
# build/bench/engine.md.
#
#   tests/bench/engine/run.sh ENGINE-BINARY
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
engine=${1:?usage: $0 ENGINE-BINARY}
out=$repo/build/bench
data=$out/engine

mkdir -p "$data"
rm -f "$out/engine.md"

# TOTAL MATCHING: experiments in the file, and how many can apply to the
# request; the last is mkt_exp1000's file, which is also loaded and whose
# visitor's sticky cookie is verified
files=()
for spec in "1 1" "5 5" "100 100" "1000 1000" "1000 100"; do
    read -r total matching <<< "$spec"
    file=$data/experiments-$total-$matching.json
    perl "$here/../experiments.pl" "$total" "$matching" > "$file"
    files+=("$file")
done

echo "engine: about $(( (2 * ${#files[@]} + 8) * 6 / 10 )) s," \
    "each figure the median of 10 slices of 50 ms" >&2

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- src tests/bench 2>/dev/null ||
    commit+=" with uncommitted changes"
{
    echo "### Engine benchmark of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs ($(sed -n \
        's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1))," \
        "Linux $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- src/ at commit $commit, $(${CC:-cc} --version | head -n 1), -O2;" \
        "one thread, not pinned; each figure is the median of 10 slices" \
        "of 50 ms of its CPU time (CLOCK_THREAD_CPUTIME_ID)"
    echo "- a desktop Chrome asking for www.example.com/index.html;" \
        "returning: with the sticky state its first request left (as" \
        "mkt_exp5 and mkt_exp1000 measure it); new: no sticky state," \
        "every visitor another id"
    echo
    (cd "$data" && "$engine" "${files[@]##*/}")
} | tee "$out/engine.md"
echo
echo "engine: wrote $out/engine.md" >&2
