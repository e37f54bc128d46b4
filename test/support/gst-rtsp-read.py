#!/usr/bin/python3
# Reads an RTSP URL with GStreamer's rtspsrc (Debian's gst-plugins-good: an RTSP client no one here wrote, and not
# libavformat), over TCP, for a few seconds; prints what it received as JSON: pictures, their size and codec.
# Usage: gst-rtsp-read.py <url> <seconds>
import json
import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)
url, seconds = sys.argv[1], float(sys.argv[2])
state = {'pictures': 0, 'keyframes': 0, 'width': None, 'height': None, 'codec': None, 'error': None}

pipeline = Gst.Pipeline.new('read')
src = Gst.ElementFactory.make('rtspsrc')
src.set_property('location', url)
src.set_property('protocols', 'tcp')
src.set_property('latency', 0)
pipeline.add(src)


def on_pad(_src, pad):
    caps = pad.get_current_caps() or pad.query_caps(None)
    enc = caps.get_structure(0).get_string('encoding-name') if caps and caps.get_size() else None
    if enc not in ('H264', 'H265'):
        return
    state['codec'] = enc
    depay = Gst.ElementFactory.make('rtph264depay' if enc == 'H264' else 'rtph265depay')
    parse = Gst.ElementFactory.make('h264parse' if enc == 'H264' else 'h265parse')
    sink = Gst.ElementFactory.make('fakesink')
    sink.set_property('signal-handoffs', True)
    for e in (depay, parse, sink):
        pipeline.add(e)
        e.sync_state_with_parent()
    depay.link(parse)
    parse.link(sink)
    pad.link(depay.get_static_pad('sink'))

    def handoff(_sink, buf, sinkpad):
        state['pictures'] += 1
        if not buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
            state['keyframes'] += 1
        c = sinkpad.get_current_caps()
        if c:
            s = c.get_structure(0)
            ok_w, w = s.get_int('width')
            ok_h, h = s.get_int('height')
            if ok_w and ok_h:
                state['width'], state['height'] = w, h

    sink.connect('handoff', handoff)


src.connect('pad-added', on_pad)
loop = GLib.MainLoop()


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        err, _dbg = msg.parse_error()
        state['error'] = err.message
        loop.quit()
    elif msg.type == Gst.MessageType.EOS:
        loop.quit()


bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect('message', on_message)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add(int(seconds * 1000), loop.quit)
loop.run()
pipeline.set_state(Gst.State.NULL)
print(json.dumps(state))
