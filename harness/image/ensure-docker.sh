#!/bin/sh
# Make sure a Docker daemon answers, installing and starting it when we may.
# Used by `make demo` / `make test`; safe to re-run (does nothing when Docker works).
set -eu

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

docker_ok() {
  # The Python SDK is what the harness uses; the CLI may be missing or newer.
  [ -S /var/run/docker.sock ] && "${PYTHON:-python3}" - <<'PY' >/dev/null 2>&1
import docker; docker.from_env(timeout=10).ping()
PY
}

if docker_ok; then exit 0; fi

is_root=0; [ "$(id -u)" = 0 ] && is_root=1

need_pkgs=""
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need_pkgs="$need_pkgs docker.io"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_pkgs="$need_pkgs debootstrap"

if [ -n "$need_pkgs" ]; then
  if [ "$is_root" != 1 ]; then
    die "Docker is not running and these Debian packages are missing:$need_pkgs.
  Install them as root:   sudo apt-get install -y$need_pkgs
  then start the daemon:  sudo dockerd > /var/log/dockerd.log 2>&1 &
  and make sure your user can use it (e.g. sudo usermod -aG docker \$USER), then re-run.
  Without Docker, use the non-isolated backend explicitly: --sandbox local"
  fi
  command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install Docker Engine and debootstrap with your package manager, start dockerd, then re-run"
  log "installing$need_pkgs (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq $need_pkgs >&2
fi

if ! docker_ok; then
  if [ "$is_root" != 1 ]; then
    die "the Docker daemon is not reachable at /var/run/docker.sock. Start it as root (sudo dockerd > /var/log/dockerd.log 2>&1 &) and check that your user may use it (group docker)."
  fi
  DOCKERD=$(command -v dockerd || echo /usr/sbin/dockerd)
  log "starting $DOCKERD in the background (log: /var/log/obench-dockerd.log)"
  nohup "$DOCKERD" > /var/log/obench-dockerd.log 2>&1 &
  i=0
  until docker_ok; do
    i=$((i + 1))
    [ "$i" -gt 120 ] && die "dockerd did not answer within 60 s; see /var/log/obench-dockerd.log"
    sleep 0.5
  done
  log "dockerd is up"
fi
