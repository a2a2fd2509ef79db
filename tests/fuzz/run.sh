#!/usr/bin/env bash
# Build the libFuzzer targets tests/fuzz/fuzz_*.c against src/ with clang
# (ASan + UBSan) into build/fuzz/, then replay their corpora or fuzz them.
#
#   tests/fuzz/run.sh regress [target...]   run every file of each target's
#                                           corpus once; fail on any crash
#   tests/fuzz/run.sh fuzz [target...]      fuzz each target for FUZZ_SECONDS
#
# A target is named fuzz_NAME or NAME; its corpus is tests/fuzz/corpus/NAME/.
# Environment: FUZZ_SECONDS (60), FUZZ_MERGE=1 (merge new coverage into the
# checked-in corpus: -merge=1 -use_counters=0 keeps only inputs that reach
# new edges, so corpora stay small), FUZZ_TIMEOUT (seconds one
# input may take, 10), FUZZ_ARGS (extra libFuzzer flags), FUZZ_CC (clang).
# Outputs: build/fuzz/<target> binaries, build/fuzz/logs/<target>.log,
# new inputs in build/fuzz/scratch/<target>/, crashes in build/fuzz/crashes/.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

mode=${1:-}
[ $# -gt 0 ] && shift
case $mode in
regress|fuzz) ;;
*)
    echo "usage: tests/fuzz/run.sh regress|fuzz [target...]" >&2
    exit 2
    ;;
esac

cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
extra=${FUZZ_ARGS:-}
out=build/fuzz

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c99 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O1 -g
    -fno-omit-frame-pointer $san -Wall -Wextra -Wno-unused-parameter
    -Isrc -I/usr/include/luajit-2.1 -I/usr/include/hiredis"
libs="-ljansson -lpcre2-8 -lcrypto -lmaxminddb -lhiredis -lluajit-5.1 -lm"

if [ $# -eq 0 ]; then
    set -- tests/fuzz/fuzz_*.c
fi
targets=()
for t in "$@"; do
    t=${t##*/}
    t=${t%.c}
    t=fuzz_${t#fuzz_}
    if [ ! -f "tests/fuzz/$t.c" ]; then
        echo "no such target: tests/fuzz/$t.c" >&2
        exit 2
    fi
    targets+=("$t")
done

mkdir -p "$out/obj" "$out/logs" "$out/crashes"

# --- build: src/ objects once (instrumented for coverage, no libFuzzer main),
# archived so that each target links only the objects it uses.
headers=$(ls src/*.h)
newest_header=$(ls -t $headers | head -1)
objs=()
for c in $(ls src/*.c); do
    o=$out/obj/$(basename "${c%.c}").o
    if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ "$newest_header" -nt "$o" ]
    then
        if ! $cc $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$c" \
            2> "$out/logs/build.log"
        then
            echo "BUILD FAIL $c"
            cat "$out/logs/build.log"
            exit 1
        fi
    fi
    objs+=("$o")
done
rm -f "$out/libmkt-fuzz.a"
ar rcs "$out/libmkt-fuzz.a" "${objs[@]}"

for t in "${targets[@]}"; do
    if ! $cc $cflags -fsanitize=fuzzer -o "$out/$t" "tests/fuzz/$t.c" \
        "$out/libmkt-fuzz.a" $libs 2> "$out/logs/build.log"
    then
        echo "BUILD FAIL $t"
        cat "$out/logs/build.log"
        exit 1
    fi
done

# --- run
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

stat_of() {             # stat_of NAME LOG: a -print_final_stats=1 value
    sed -n "s/^stat::$1: *//p" "$2" | tail -1
}

failed=0
for t in "${targets[@]}"; do
    name=${t#fuzz_}
    corpus=tests/fuzz/corpus/$name
    log=$out/logs/$t.log
    files=()
    if [ -d "$corpus" ]; then
        for f in "$corpus"/*; do
            [ -f "$f" ] && files+=("$f")
        done
    fi

    if [ "$mode" = regress ]; then
        if [ ${#files[@]} -eq 0 ]; then
            printf '%-18s FAIL  no corpus in %s\n' "$t" "$corpus"
            failed=1
            continue
        fi
        # files given one by one are each run exactly once, no mutation
        if "$out/$t" -timeout="$timeout" $extra "${files[@]}" > "$log" 2>&1
        then
            printf '%-18s ok    %d inputs\n' "$t" ${#files[@]}
        else
            bad=$(sed -n 's/^Running: //p' "$log" | tail -1)
            printf '%-18s FAIL  on %s (log: %s)\n' "$t" "$bad" "$log"
            failed=1
        fi
        continue
    fi

    scratch=$out/scratch/$name
    mkdir -p "$scratch" "$corpus"
    kept=$(ls "$scratch" | wc -l)
    # new inputs go to the first directory, so the checked-in corpus is read
    if "$out/$t" -max_total_time="$seconds" -timeout="$timeout" \
        -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" $extra \
        "$scratch" "$corpus" > "$log" 2>&1
    then
        result=ok
    else
        result=FAIL
        failed=1
    fi

    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" \
                | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1 ft \2/p' \
          <<< "$done_line")
    execs=$(stat_of number_of_executed_units "$log")
    rate=$(stat_of average_exec_per_sec "$log")
    corp=$(ls "$scratch" | wc -l)
    corp="$((corp - kept)) new inputs ($corp in $scratch)"

    if [ $result = ok ]; then
        printf '%-18s ok    %ss, %s execs, %s exec/s, %s, %s\n' \
            "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-cov ?}" "$corp"
    else
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" \
                | tail -1)
        printf '%-18s FAIL  %s (log: %s)\n' "$t" \
            "${crash:-see log}" "$log"
        continue
    fi

    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        before=$(ls "$corpus" | wc -l)
        if "$out/$t" -merge=1 -use_counters=0 -timeout="$timeout" $extra \
            "$corpus" "$scratch" > "$out/logs/$t.merge.log" 2>&1
        then
            after=$(ls "$corpus" | wc -l)
            printf '%-18s merged %d new inputs into %s\n' "$t" \
                $((after - before)) "$corpus"
        else
            printf '%-18s FAIL  merge (log: %s)\n' "$t" \
                "$out/logs/$t.merge.log"
            failed=1
        fi
    fi
done

exit $failed
