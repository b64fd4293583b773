#!/usr/bin/env bash
# The local AWS emulator (moto server from the project venv, on 127.0.0.1).
#   emulator.sh start        start it; prints the variables to export
#   emulator.sh stop         stop the one `start` started
#   emulator.sh run CMD...   run CMD against an emulator: the one named by
#                            AWS_ENDPOINT_URL if set, else a fresh one that is
#                            stopped when CMD ends (whatever its exit status)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$here/.venv}
state=$here/.emulator
mkdir -p "$state"

free_port() {
  "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  if [[ ! -x $venv/bin/moto_server ]]; then
    echo "emulator: $venv/bin/moto_server is missing; run 'make venv' first" >&2
    exit 1
  fi
  local port=${EMULATOR_PORT:-$(free_port)}
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/moto.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$state/pid"
  echo "$port" >"$state/port"
  for _ in $(seq 1 100); do
    if "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1)
PY
      echo "emulator: moto server (pid $pid) listening on http://127.0.0.1:$port" >&2
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "emulator: moto server exited; its log:" >&2
      cat "$state/moto.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "emulator: moto server did not answer within 10 s; log in $state/moto.log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  if [[ -f $state/pid ]]; then
    local pid
    pid=$(cat "$state/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$state/pid" "$state/port"
    echo "emulator: stopped (pid $pid)" >&2
  fi
}

export_env() {
  export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$state/port")
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
  export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}
}

case ${1:-} in
  start)
    start
    export_env
    echo "export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=$AWS_REGION"
    ;;
  stop) stop ;;
  run)
    shift
    if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
      echo "emulator: using AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" >&2
      # An emulator takes any credentials; never let a real profile's reach it.
      export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
      export AWS_REGION=${AWS_REGION:-us-east-1}
      exec "$@"
    fi
    start
    trap stop EXIT
    export_env
    status=0
    "$@" || status=$?
    exit $status
    ;;
  *) echo "usage: $0 start|stop|run CMD..." >&2; exit 2 ;;
esac
