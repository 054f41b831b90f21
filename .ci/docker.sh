# Sourced by .ci/run: a private Docker engine and the project's image, for test/ops/container.test.ts.
#
# ci_docker_up installs Debian's docker.io when dockerd is missing, starts its own dockerd (data root,
# exec root, socket, pidfile and config in a temp folder; no bridge, no iptables), builds the local
# stand-ins of the two base images with docker-standins.sh (no image registry is reachable here),
# then the project's image, and exports for npm test:
#   DOCKER_HOST                  the private engine's socket
#   WEBHOOK_API_IMAGE            the image, built as the README says (classic builder)
#   WEBHOOK_API_IMAGE_BUILDKIT   the same Dockerfile built with BuildKit, when a client here can
#   WEBHOOK_API_IMAGE_REVISION   the commit it was built from (its revision label)
#   WEBHOOK_API_DOCKER_PROBLEM   why there is no engine or image (the test fails with it under CI,
#                                and skips with it elsewhere)
# The engine is stopped and its folder removed when .ci/run exits, also on failure.
#
# Settings: DOCKER_STANDINS (path of docker-standins.sh; else ../shared/tools/ or /work/shared/tools/),
# DOCKER_STANDINS_WORKDIR (its cache between local runs; default ~/.cache/webhook-api/docker-standins
# outside CI, none under CI, which starts clean), CI_DOCKER_STORAGE_DRIVER (default: overlay2, then vfs).

ci_docker_log() { printf 'ci: docker: %s\n' "$*"; }

ci_docker_problem() {
  export WEBHOOK_API_DOCKER_PROBLEM="$*"
  ci_docker_log "$* (the container test fails under CI and skips elsewhere)" >&2
}

ci_docker_find_standins() {
  local candidate
  if [ -n "${DOCKER_STANDINS:-}" ]; then
    [ -f "$DOCKER_STANDINS" ] && { printf '%s\n' "$DOCKER_STANDINS"; return 0; }
    return 1
  fi
  for candidate in ../shared/tools/docker-standins.sh /work/shared/tools/docker-standins.sh; do
    [ -f "$candidate" ] && { printf '%s\n' "$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")"; return 0; }
  done
  return 1
}

ci_docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Starts dockerd with one storage driver; 0 once it answers, 1 (and stopped again) when it does not.
ci_docker_start() {
  local driver=$1 i
  dockerd --config-file "$CI_DOCKER_DIR/daemon.json" --data-root "$CI_DOCKER_DIR/root" --exec-root "$CI_DOCKER_DIR/exec" \
    --host "unix://$CI_DOCKER_DIR/docker.sock" --pidfile "$CI_DOCKER_DIR/docker.pid" --bridge=none --iptables=false \
    --storage-driver "$driver" --containerd-namespace "ci-$$" --containerd-plugins-namespace "ci-$$-plugins" \
    --shutdown-timeout 5 --log-level warn >"$CI_DOCKER_DIR/dockerd.log" 2>&1 &
  CI_DOCKER_PID=$!
  for i in $(seq 1 120); do
    ci_docker_answers && return 0
    kill -0 "$CI_DOCKER_PID" 2>/dev/null || break
    sleep 0.5
  done
  ci_docker_log "dockerd with --storage-driver $driver did not come up:" >&2
  tail -n 5 "$CI_DOCKER_DIR/dockerd.log" >&2 || true
  ci_docker_stop_engine
  return 1
}

ci_docker_stop_engine() {
  local i pid
  if [ -n "${CI_DOCKER_PID:-}" ] && kill -0 "$CI_DOCKER_PID" 2>/dev/null; then
    kill -TERM "$CI_DOCKER_PID" 2>/dev/null || true
    for i in $(seq 1 60); do kill -0 "$CI_DOCKER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$CI_DOCKER_PID" 2>/dev/null || true
  fi
  CI_DOCKER_PID=
  # The containerd dockerd started for itself, should it outlive a killed dockerd.
  pid=$(cat "$CI_DOCKER_DIR/exec/containerd/containerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
}

ci_docker_down() {
  [ -n "${CI_DOCKER_DIR:-}" ] && [ -d "$CI_DOCKER_DIR" ] || return 0
  ci_docker_stop_engine
  # Mounts dockerd left behind (overlay layers, network namespaces) before the folder goes.
  awk -v p="$CI_DOCKER_DIR/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$CI_DOCKER_DIR"
  ci_docker_log "engine stopped, $CI_DOCKER_DIR removed"
}

# Adds to whatever EXIT trap .ci/run already has instead of replacing it.
ci_docker_on_exit() {
  local handler=$1
  eval "set -- $(trap -p EXIT)"
  trap "${3:+$3; }$handler" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

ci_docker_up() {
  local started=$SECONDS step standins workdir revision source driver ok=0 client
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      ci_docker_log "installing Debian's docker.io package"
      if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }; then
        ci_docker_problem "installing docker.io failed"
        return 0
      fi
    else
      ci_docker_problem "dockerd or docker is missing and cannot be installed here (needs root and apt-get)"
      return 0
    fi
  fi
  if [ "$(id -u)" != 0 ]; then
    ci_docker_problem "a private dockerd and the stand-in images need root"
    return 0
  fi

  # A short path: the engine's sockets live in it (a unix socket path has at most 107 bytes).
  CI_DOCKER_DIR=$(mktemp -d /tmp/ci-docker.XXXXXX)
  ci_docker_on_exit ci_docker_down
  printf '{}\n' >"$CI_DOCKER_DIR/daemon.json" # not /etc/docker/daemon.json: nothing of the machine's own engine
  export DOCKER_HOST="unix://$CI_DOCKER_DIR/docker.sock"
  for driver in ${CI_DOCKER_STORAGE_DRIVER:-overlay2 vfs}; do
    if ci_docker_start "$driver"; then ok=1; break; fi
  done
  if [ "$ok" = 0 ]; then
    ci_docker_problem "no dockerd came up (log: $CI_DOCKER_DIR/dockerd.log)"
    return 0
  fi
  ci_docker_log "dockerd $(docker version --format '{{.Server.Version}}') on $DOCKER_HOST, storage driver $driver ($((SECONDS - started)) s)"

  if ! standins=$(ci_docker_find_standins); then
    ci_docker_problem "docker-standins.sh not found (set DOCKER_STANDINS, or provide ../shared/tools/ or /work/shared/tools/)"
    return 0
  fi
  workdir=${DOCKER_STANDINS_WORKDIR-}
  if [ -z "${DOCKER_STANDINS_WORKDIR+set}" ] && [ -z "${CI:-}" ]; then workdir="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/webhook-api/docker-standins"; fi
  step=$SECONDS
  ci_docker_log "stand-in base images: $standins ${workdir:+(cache $workdir)}"
  local run_standins=(bash "$standins")
  if [ -n "$workdir" ]; then
    mkdir -p "$workdir"
    # Two runs on one machine share the cache: one at a time builds in it.
    if command -v flock >/dev/null 2>&1; then run_standins=(flock "$workdir/.lock" bash "$standins"); fi
    run_standins+=("$workdir")
  fi
  if ! "${run_standins[@]}" >"$CI_DOCKER_DIR/standins.log" 2>&1; then
    tail -n 20 "$CI_DOCKER_DIR/standins.log" >&2
    ci_docker_problem "docker-standins.sh failed"
    return 0
  fi
  ci_docker_log "stand-in base images built ($((SECONDS - step)) s)"

  revision=$(git rev-parse HEAD)
  source=$(git remote get-url origin 2>/dev/null || true)
  step=$SECONDS
  if ! DOCKER_BUILDKIT=0 docker build --network host --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
      -t webhook-api:ci . >"$CI_DOCKER_DIR/build.log" 2>&1; then
    tail -n 30 "$CI_DOCKER_DIR/build.log" >&2
    ci_docker_problem "docker build of the project's image failed"
    return 0
  fi
  export WEBHOOK_API_IMAGE=webhook-api:ci WEBHOOK_API_IMAGE_REVISION="$revision"
  ci_docker_log "built $WEBHOOK_API_IMAGE with the classic builder ($((SECONDS - step)) s, $(docker image inspect --format '{{.Size}}' webhook-api:ci) bytes)"

  # BuildKit (Docker's default builder) creates WORKDIRs differently, so the layout is checked on
  # its build too. docker.io's 20.10 CLI has it built in; a newer CLI needs the buildx plugin.
  step=$SECONDS
  for client in docker /usr/bin/docker; do
    command -v "$client" >/dev/null 2>&1 || continue
    if DOCKER_BUILDKIT=1 "$client" build --network host --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
        -t webhook-api:ci-buildkit . >"$CI_DOCKER_DIR/build-buildkit.log" 2>&1; then
      export WEBHOOK_API_IMAGE_BUILDKIT=webhook-api:ci-buildkit
      ci_docker_log "built $WEBHOOK_API_IMAGE_BUILDKIT with BuildKit ($client, $((SECONDS - step)) s)"
      break
    fi
  done
  if [ -z "${WEBHOOK_API_IMAGE_BUILDKIT:-}" ]; then
    tail -n 20 "$CI_DOCKER_DIR/build-buildkit.log" >&2 2>/dev/null || true
    ci_docker_log "no BuildKit build (the log's end is above); the container test fails under CI without it" >&2
  fi
  ci_docker_log "ready in $((SECONDS - started)) s"
}
