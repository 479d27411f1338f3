#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (zstd and a
# MariaDB server from the distribution's packages) when missing, so it works
# on a fresh machine. The tests read ../shared/corpus and fixtures/; a
# missing component fails a test loudly, it is never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v zstd >/dev/null || need+=(zstd)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo test --release "$@"
