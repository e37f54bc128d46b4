#!/usr/bin/env bash
# Prepares this checkout on a fresh Debian machine: system packages, npm packages, the native SQLite module,
# the console build and the simulator's clips. Each step is skipped when already done. --browser adds the test tools
# (Chromium, xmllint, pdftotext).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "setup: unknown option $arg (known: --browser)" >&2; exit 2 ;;
  esac
done

step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js >= 20.19 is required; found $(node --version 2>/dev/null || echo none)"

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "missing $*; install it with: sudo apt-get install -y $*"
  fi
  if [ $apt_updated = 0 ]; then
    step "apt-get update"
    apt-get update -qq || die "apt-get update failed; install by hand: apt-get install -y $*"
    apt_updated=1
  fi
  step "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || apt_install ffmpeg
muxers=$(ffmpeg -hide_banner -muxers 2>/dev/null || true)
grep -qw hls <<<"$muxers" || die "this ffmpeg has no hls muxer; install Debian's ffmpeg"
# A font with Chinese characters for the mediation records exported as PDF.
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || apt_install fonts-droid-fallback
if [ $browser = 1 ]; then
  # The suite's own tools: Chromium for the browser tests, xmllint to validate ONVIF replies against their schemas,
  # and Debian's GStreamer RTSP server as a camera no one here wrote (driven from Debian's own python3).
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v xmllint >/dev/null || missing+=(libxml2-utils)
  # pdftotext reads the exported PDFs back (a reader no one here wrote).
  command -v pdftotext >/dev/null || missing+=(poppler-utils)
  if ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" 2>/dev/null \
    || ! /usr/bin/python3 -c "import gi; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); assert all(Gst.ElementFactory.find(e) for e in ('x264enc', 'x265enc', 'alawenc', 'rtph265pay'))" 2>/dev/null; then
    missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)
  fi
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
fi

# npm packages; install scripts are run below, one by one, so that nothing downloads a prebuilt binary.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages"
  # npm install (not ci): npm 11 leaves other platforms' optional packages out of the lockfile it writes and then
  # refuses that same lockfile in 'npm ci'. install keeps the locked versions and leaves the lockfile as it is.
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# better-sqlite3 is compiled from source (a couple of minutes); the result is cached outside the checkout.
sqlite_ok() { node -e "new (require('better-sqlite3'))(':memory:').close()" 2>/dev/null; }
if ! sqlite_ok; then
  version=$(node -p "require('better-sqlite3/package.json').version")
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/sharp-eyes/better-sqlite3-$version-abi$(node -p process.versions.modules)-$(uname -m).node"
  target=node_modules/better-sqlite3/build/Release/better_sqlite3.node
  if [ -f "$cache" ]; then
    mkdir -p "$(dirname "$target")" && cp "$cache" "$target"
  fi
  if ! sqlite_ok; then
    command -v g++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null \
      || apt_install g++ make python3
    step "building better-sqlite3 $version from source (about 2 minutes on 2 cores)"
    # Its install script tries a prebuilt download first (refused offline), then compiles with node-gyp.
    npm rebuild better-sqlite3 --foreground-scripts >/tmp/better-sqlite3-build.log 2>&1 \
      || die "building better-sqlite3 failed; see /tmp/better-sqlite3-build.log"
    sqlite_ok || die "better-sqlite3 was built but does not load; see /tmp/better-sqlite3-build.log"
    mkdir -p "$(dirname "$cache")" && cp "$target" "$cache"
  fi
fi

# mediasoup's worker (WebRTC) is built from the package's own sources against Debian's libraries (about 2 minutes on
# 2 cores), never downloaded, with one change (scripts/build-mediasoup-worker.sh says which); the result is cached
# outside the checkout. MEDIASOUP_WORKER_BIN, when set, names a worker to use instead.
ms_version=$(node -p "require('mediasoup/package.json').version")
ms_worker="${XDG_CACHE_HOME:-$HOME/.cache}/sharp-eyes/mediasoup-worker-$ms_version-$(uname -m)-p1"
ms_libs=(meson ninja-build pkg-config g++ libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev)
if [ -z "${MEDIASOUP_WORKER_BIN:-}" ]; then
  ms_missing=()
  for p in "${ms_libs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || ms_missing+=("$p"); done
  if [ ${#ms_missing[@]} -gt 0 ]; then apt_install "${ms_missing[@]}"; fi
  if [ ! -x "$ms_worker" ] || ldd "$ms_worker" | grep -q 'not found'; then
    step "building mediasoup's worker $ms_version from source (about 2 minutes on 2 cores)"
    bash scripts/build-mediasoup-worker.sh "$ms_worker" || die "building mediasoup's worker failed (see above)"
  fi
fi

# The console is built when missing or older than its sources.
if [ ! -f console/dist/index.html ] || [ -n "$(find console/src console/index.html console/vite.config.ts -newer console/dist/index.html -print -quit)" ]; then
  step "building the console"
  npx vite build --config console/vite.config.ts --logLevel warn
fi

# The simulator's clips are encoded once with ffmpeg (a few seconds).
node --import tsx adapters/simulator/main.ts clips --clip-dir var/clips >/dev/null
step "ready"
