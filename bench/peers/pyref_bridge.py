#!/usr/bin/python3
"""Our STAND-IN for "a Python bridge polling apcupsd every second with a new TCP connection
each time" (bench/side-by-side.ts). Not a published project: the smallest honest version of
that design, written for the benchmark. Every interval it opens a connection to apcupsd's
NIS, asks for `status`, closes, and publishes all fields as one retained JSON message to
pyref/<UPSNAME>/state. Needs Debian's python3-paho-mqtt (1.6).

usage: pyref_bridge.py --nis-port N --mqtt-port N [--interval 1]
"""
import argparse
import json
import socket
import struct
import time

import paho.mqtt.client as mqtt


def nis_status(port):
    """One `status` request on a new connection; returns the fields as a dict."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack(">H", 6) + b"status")
        buf, fields = b"", {}
        while True:
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = sock.recv(4096)
                if not chunk:
                    return fields
                buf += chunk
            size = struct.unpack(">H", buf[:2])[0]
            line, buf = buf[2 : 2 + size], buf[2 + size :]
            if size == 0:
                return fields
            key, _, value = line.decode("latin-1").partition(":")
            fields[key.strip()] = value.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nis-port", type=int, required=True)
    ap.add_argument("--mqtt-port", type=int, required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args()
    client = mqtt.Client(client_id="pyref-bridge")
    client.connect("127.0.0.1", args.mqtt_port)
    client.loop_start()
    next_at = time.monotonic()
    while True:
        try:
            fields = nis_status(args.nis_port)
            name = fields.get("UPSNAME", "ups") or "ups"
            client.publish(f"pyref/{name}/state", json.dumps(fields), retain=True)
        except OSError as err:
            print(f"poll failed: {err}", flush=True)
        next_at += args.interval
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    main()
