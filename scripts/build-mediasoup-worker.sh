#!/usr/bin/env bash
# Builds mediasoup's worker from the npm package's own C++ sources against Debian's libraries, with no download:
# each of the package's meson subprojects (wraps) is replaced by a small local one that points at the system
# library. Usage: build-mediasoup-worker.sh <output binary>. About 2 minutes on 2 cores.
set -euo pipefail
out="$1"
pkg="$(cd "$(dirname "$0")/.." && pwd)/node_modules/mediasoup"
[ -f "$pkg/worker/meson.build" ] || { echo "build-mediasoup-worker: $pkg/worker/meson.build not found" >&2; exit 1; }
work=$(mktemp -d /tmp/mediasoup-worker.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$pkg/worker" "$work/worker"
cd "$work/worker"
# Debian 12's meson is 1.0.1; the build needs nothing newer than that.
sed -i -E "s/meson_version: '>= [0-9.]+'/meson_version: '>= 1.0.0'/" meson.build
# One change to mediasoup's sources (the cache name carries its revision, -p1): a producer that negotiated no RTP
# header extensions (the gateway's own, fed from the frame bus) has none added to its packets. mediasoup otherwise
# writes extensions under its own ids into every packet, and a browser that made the WHEP offer reads them by its own
# map: Chromium 156 would read mediasoup's ids 4, 5 and 11 as transport-cc, playout-delay and repaired-rtp-stream-id
# (ignored today only because the lengths differ). Producers from browsers are unchanged.
python3 - <<'PY'
p = 'src/RTC/Producer.cpp'
s = open(p).read()
old = "\t\t// Mangle RTP header extensions.\n\t\t{"
if old not in s:
    raise SystemExit('build-mediasoup-worker: Producer.cpp has changed; the header extension patch does not apply')
s = s.replace(old, "\t\t// Mangle RTP header extensions (none for a producer that negotiated none).\n\t\tif (!this->rtpParameters.headerExtensions.empty())\n\t\t{", 1)
open(p, 'w').write(s)
PY
rm -f subprojects/*.wrap
sub() { # name, meson.build body, optional meson_options.txt body
  mkdir -p "subprojects/$1"
  : >"subprojects/$1/empty.c"
  printf "project('%s', 'c')\nstub = static_library('%s_stub', 'empty.c')\n%s\n" "$1" "$1" "$2" >"subprojects/$1/meson.build"
  if [ -n "${3:-}" ]; then printf '%s\n' "$3" >"subprojects/$1/meson_options.txt"; fi
}
sub openssl "openssl_dep = dependency('openssl')
libcrypto_lib = stub
libssl_lib = stub"
sub nlohmann_json "nlohmann_json_dep = dependency('nlohmann_json')"
sub libuv "libuv_dep = dependency('libuv')
libuv = stub" "option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)"
sub libsrtp2 "libsrtp2_dep = declare_dependency(dependencies: dependency('libsrtp2'), compile_args: ['-I/usr/include/srtp2'])
libsrtp2 = stub" "option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'string', value: 'disabled')
option('tests', type: 'string', value: 'disabled')"
sub usrsctp "usrsctp_dep = dependency('usrsctp')
usrsctp = stub" "option('sctp_build_programs', type: 'boolean', value: false)"
sub abseil-cpp "absl_container_dep = declare_dependency(dependencies: [dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'), dependency('absl_inlined_vector')])
absl_container_lib = stub
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])"
sub catch2 "catch2_dep = declare_dependency()"
meson setup --wrap-mode=nodownload --buildtype release -Db_ndebug=true build >"$work/setup.log" 2>&1 \
  || { tail -30 "$work/setup.log" >&2; exit 1; }
ninja -C build mediasoup-worker >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp build/mediasoup-worker "$out.tmp" && mv "$out.tmp" "$out"
