#!/usr/bin/env bash
# Creates per second of a zero-latency apply, and fsyncs per create, for each binary given:
#
#   tests/benches/apply_throughput.sh OLD_BINARY NEW_BINARY
#
# For each binary and each of RUNS runs (default 5): a fresh `sandbox --port 0` (the embedded
# emulator, no latency, served by the binary under test), a fresh temp dir under $TMPDIR with
# no state, and `apply --auto-approve --parallelism P` of N webhooks (default 2,000 at 16).
# The URLs are `.internal` hosts, which the sandbox cannot reach, so every webhook is created
# paused and none counts against the account's limit of 50 active ones: all N are created.
# Runs alternate between the binaries, so both see the same machine load.
#
# creates/s = N / wall time of the whole `apply` process (start-up, plan, the creates, the
# final save). fsyncs are counted in one extra run per binary under `strace -f -c` (fsync,
# fdatasync), which is not timed; fsyncs per create = that count / N.
#
# The journal must be on a real disk for this to mean anything: the script prints the file
# system of the temp dir (tmpfs makes fsync free).
set -euo pipefail

N=${N:-2000}
P=${P:-16}
RUNS=${RUNS:-5}
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }

root=$(mktemp -d "${TMPDIR:-/tmp}/shw-throughput.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "temp dir: $root on $(findmnt -n -o SOURCE,FSTYPE -T "$root")"

config="$root/webhooks.yaml"
{
  echo "version: 1"
  echo "webhooks:"
  for i in $(seq 0 $((N - 1))); do
    printf '  - name: Hook %s\n    url: https://h%s.example.internal/x\n    events: [email-sent]\n' "$i" "$i"
  done
} > "$config"

# Starts the sandbox of binary $1 on a free port; sets $sandbox_pid and $api_url.
start_sandbox() {
  local out="$root/sandbox.out"
  : > "$out"
  "$1" sandbox --port 0 > "$out" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 100); do
    api_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$out" | head -n 1 || true)
    [ -n "$api_url" ] && return 0
    sleep 0.05
  done
  echo "the sandbox did not start" >&2
  exit 1
}

# One apply of binary $1 in a fresh dir, optionally under a wrapper ($2...); prints its wall
# time in seconds.
apply_once() {
  local bin=$1; shift
  local dir
  dir=$(mktemp -d "$root/run.XXXXXX")
  cp "$config" "$dir/webhooks.yaml"
  start_sandbox "$bin"
  local start end
  start=$(date +%s.%N)
  (cd "$dir" && SALESHANDY_API_KEY=sandbox-api-key NO_COLOR=1 "$@" "$bin" apply \
    -c webhooks.yaml --state webhooks.state.json --api-url "$api_url" \
    --auto-approve --parallelism "$P" > "$dir/out.txt" 2> "$dir/err.txt")
  end=$(date +%s.%N)
  kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true
  grep -q "^Apply: $N created ($N paused), 0 failed" "$dir/out.txt" \
    || { echo "$bin: not all $N created:" >&2; tail -n 3 "$dir/out.txt" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

declare -A walls
for run in $(seq "$RUNS"); do
  for bin in "$@"; do
    walls[$bin]+="$(apply_once "$bin") "
  done
done

echo
echo "| binary | runs | median wall | creates/s (median) | fsync + fdatasync calls | per create |"
echo "|---|---:|---:|---:|---:|---:|"
for bin in "$@"; do
  median=$(tr ' ' '\n' <<< "${walls[$bin]}" | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  trace="$root/strace.txt"
  apply_once "$bin" strace -f -c -o "$trace" -e trace=fsync,fdatasync > /dev/null
  syncs=$(awk '$NF == "fsync" || $NF == "fdatasync" {s += $4} END {print s + 0}' "$trace")
  printf '| `%s` (%s) | %s | %.0f ms | %.0f | %s | %.2f |\n' "$bin" "$("$bin" --version | grep -o 'commit [0-9a-f]*')" \
    "$RUNS" "$(echo "$median * 1000" | bc -l)" "$(echo "$N / $median" | bc -l)" "$syncs" \
    "$(echo "$syncs / $N" | bc -l)"
done
