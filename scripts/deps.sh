#!/usr/bin/env bash
# Install what a fresh machine of this kind lacks: Debian packages, uv, the Python workspace,
# FerretDB (built once with Go). Safe to re-run: each step checks first and says what it does.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
  redis-server            # cache, event bus (Redis Streams)
  rabbitmq-server         # the event bus on RabbitMQ (amqp:// BROKER_URL): the PDF flow is tested on both
  prometheus              # local Prometheus for `make up`, promtool for `make test`
  qpdf poppler-utils      # PDF checks in tests (qpdf --check, pdftotext, pdftoppm)
  fonts-dejavu-core fonts-liberation2
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 shared-mime-info  # WeasyPrint
  nginx                   # the alternative gateway (gateway/nginx/): nginx -t and its contract tests
)

say() { printf '==> %s\n' "$*"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts its own redis/prometheus/nginx/rabbitmq services on install; the stack runs its own on chosen ports
  for svc in redis-server prometheus nginx rabbitmq-server; do
    (command -v systemctl >/dev/null && $SUDO systemctl disable --now "$svc" >/dev/null 2>&1) || true
    (command -v service >/dev/null && $SUDO service "$svc" stop >/dev/null 2>&1) || true
  done
else
  say "Debian packages present"
fi

if ! command -v uv >/dev/null 2>&1; then
  say "installing uv from PyPI"
  python3 -m pip install -q --user uv 2>/dev/null || python3 -m pip install -q uv
  export PATH="$HOME/.local/bin:$PATH"
fi

say "syncing the Python workspace (uv sync --frozen)"
uv sync --frozen --quiet

"$ROOT/scripts/build-ferretdb.sh"
"$ROOT/scripts/build-kustomize.sh"
say "dependencies ready"
