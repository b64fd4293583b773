#!/usr/bin/env bash
# `make invoke FN=<function> EVENT=<file>`: the real Lambda runtime loop.
# cargo lambda watch serves the function (built in debug, pointed at the
# emulator through AWS_ENDPOINT_URL); cargo lambda invoke sends the event.
set -euo pipefail
fn=$1 event=$2
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$here/.venv/bin:$PATH"
port=${INVOKE_PORT:-9000}
: "${AWS_ENDPOINT_URL:?run through make invoke, which starts the emulator}"
SNS_TOPIC_ARN=${SNS_TOPIC_ARN:-$("$here/target/debug/safeguard" topic safeguard-invoke-alerts)}
export SNS_TOPIC_ARN AWS_LAMBDA_LOG_FORMAT=${AWS_LAMBDA_LOG_FORMAT:-json}
echo "invoke: alerts go to $SNS_TOPIC_ARN" >&2
mkdir -p "$here/.emulator"
cargo lambda watch --invoke-port "$port" >"$here/.emulator/watch.log" 2>&1 &
watch=$!
trap 'kill $watch 2>/dev/null || true; wait $watch 2>/dev/null || true' EXIT
# Wait for the watcher's runtime API, then invoke; the first invoke compiles
# the function, so allow for retries while it starts.
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $watch 2>/dev/null || break
  sleep 0.5
done
for _ in $(seq 1 120); do
  if cargo lambda invoke "$fn" --invoke-port "$port" --data-file "$event" --output-format json; then
    echo
    exit 0
  fi
  kill -0 $watch 2>/dev/null || { echo "invoke: cargo lambda watch exited; log:" >&2; cat "$here/.emulator/watch.log" >&2; exit 1; }
  sleep 2
done
echo "invoke: no answer from cargo lambda watch; log in .emulator/watch.log" >&2
exit 1
