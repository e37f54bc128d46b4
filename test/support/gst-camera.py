#!/usr/bin/python3
# A camera the project did not write: Debian's GStreamer RTSP server (gst-rtsp-server through GObject
# introspection), encoding a live test pattern as a camera does. Mounts:
#   /h264        H.264 at 25 fps (1280x720 unless --width/--height say otherwise; baseline, no B-frames) and G.711 A-law audio, as most Chinese IPCs send
#   /h264-bframes H.264 main profile with B-frames
#   /h265        H.265 (HEVC) and AAC-LC audio (RFC 3640 mpeg4-generic)
# With --user (and the password in the environment, CAMERA_PASSWORD) every mount asks for Digest credentials. The port is printed on stdout once the
# server listens ("listening <port>"); the server stops when its stdin closes, so it never outlives the test.
import argparse
import os
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = 'videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate=25/1 ! '
MOUNTS = {
    '/h264': (VIDEO + 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bframes=0 '
              '! video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=1 '
              'audiotestsrc is-live=true wave=sine volume=0.1 ! audio/x-raw,rate=8000,channels=1 ! alawenc '
              '! rtppcmapay name=pay1 pt=8'),
    '/h264-bframes': (VIDEO + 'x264enc speed-preset=ultrafast key-int-max=25 bframes=2 b-adapt=false '
                      '! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=1'),
    '/h265': (VIDEO + 'x265enc tune=zerolatency speed-preset=ultrafast key-int-max=25 '
              '! rtph265pay name=pay0 pt=96 config-interval=1 '
              'audiotestsrc is-live=true wave=sine volume=0.1 ! audio/x-raw,rate=16000,channels=1 ! voaacenc '
              '! rtpmp4gpay name=pay1 pt=97'),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--user')
    parser.add_argument('--width', type=int, default=1280)
    parser.add_argument('--height', type=int, default=720)
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(args.port))
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string('media.factory.role', 'camera-user')
        auth.add_digest(args.user, os.environ.get('CAMERA_PASSWORD', ''), token)
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for path, launch in MOUNTS.items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch('( ' + launch.format(w=args.width, h=args.height) + ' )')
        # Each client gets its own pipeline: a shared one answers a second DESCRIBE with 503 while the first plays
        # (gst-rtsp-server 1.22), which cameras do not.
        factory.set_shared(False)
        if args.user:
            factory.add_role_from_structure(Gst.Structure.from_string(
                'camera-user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true')[0])
        mounts.add_factory(path, factory)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print('could not listen', file=sys.stderr, flush=True)
        sys.exit(1)
    print('listening %d' % server.get_bound_port(), flush=True)

    def watch_stdin():
        sys.stdin.read()
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run()


if __name__ == '__main__':
    main()
