#!/usr/bin/env bash
# Installs what `npm start` / `npm test` need on a fresh Debian machine, and nothing when it is already there:
# npm packages (when the lockfile changed since the last install), Debian's zookeeper package (when no
# ZooKeeper is found), and for tests Debian's chromium. Without root it names what to install instead.
# Usage: scripts/bootstrap.sh [start|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-start}"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# --- npm packages -----------------------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.zkha-lock-sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "installing npm packages from package-lock.json"
  # `npm install` rather than `npm ci`: it installs the locked versions too, but tolerates optional
  # platform packages (turbo's darwin/windows builds) that the registry mirror here does not serve.
  # Browsers come from Debian, never from a download.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# --- Debian packages ----------------------------------------------------------------------------------------
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "missing: $1. Install it with: sudo apt-get install -y $2"
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing Debian package(s): $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $2 >/dev/null
}

need_zk=1
if [ -n "${ZK_NODES:-}" ]; then need_zk=0; fi  # an external ensemble: nothing to run locally
if [ "$mode" = test ]; then need_zk=1; fi       # tests always start their own ensembles
if [ "$need_zk" = 1 ]; then
  if [ -n "${ZK_HOME:-}" ]; then
    [ -d "$ZK_HOME/lib" ] || { say "ZK_HOME=$ZK_HOME has no lib/ folder: point it at an Apache ZooKeeper install"; exit 1; }
  elif [ ! -f /usr/share/java/zookeeper.jar ]; then
    apt_install "ZooKeeper (no /usr/share/java/zookeeper.jar and no ZK_HOME)" zookeeper
  fi
  command -v java >/dev/null 2>&1 || apt_install "Java (java not on PATH)" default-jre-headless
fi

if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  apt_install "Chromium for the browser tests (/usr/bin/chromium)" chromium
fi
exit 0
