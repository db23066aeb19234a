#!/usr/bin/python3
"""Our MODEL of the Python apcupsd-to-MQTT bridges people publish and run (bench/side-by-side.ts,
bridge `python-published`). Not any one project and none of their code: written by us from the
design those bridges share (read in their public sources, 2026-12-04; see bench/README.md):

- apcupsd is read with the `apcaccess` PyPI module's approach: a new TCP connection for every
  poll, `recv` of 1 KiB at a time into a text buffer until the reply's end marker, the lines
  split on the frames' NUL bytes, units stripped, the fields kept as strings;
- the fields go out as one JSON document with sorted, lower-cased keys;
- MQTT: with `--mqtt per-message` (the default) every publish opens, uses and closes its own
  connection (paho's `publish.single`, as rpochet/apcupsd-mqtt does); with `--mqtt kept` one
  client with paho's network thread (`loop_start`), as bench/peers/pyref_bridge.py;
- between polls the process sleeps in 0.5 s slices and checks a stop flag.

What it leaves out (none of it runs per poll): Home Assistant discovery (published once at
start-up by those bridges), logging, configuration files. The lean stand-in
(pyref_bridge.py) is the least such a bridge can do; this one is the usual shape.

usage: pyref_published.py --nis-port N --mqtt-port N [--interval 1] [--mqtt per-message|kept]
"""
import argparse
import json
import signal
import socket
import time

import paho.mqtt.client as mqtt
import paho.mqtt.publish as mqtt_publish

END = "  \n\x00\x00"
UNITS = ("Percent Load Capacity", "Minutes", "Seconds", "Percent", "Volts", "Watts", "Amps",
         "Hz", "C", "VA")
running = True


def read_status(port):
    """One `status` request on a new connection, read the way apcaccess reads it."""
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    conn.settimeout(30)
    try:
        conn.connect(("127.0.0.1", port))
        conn.send(b"\x00\x06status")
        text = ""
        while not text.endswith(END):
            chunk = conn.recv(1024)
            if not chunk:
                raise OSError("apcupsd closed the connection mid-reply")
            text += chunk.decode()
    finally:
        conn.close()
    fields = {}
    for frame in text[: -len(END)].split("\x00"):
        if not frame:
            continue
        line = frame[1:-1]  # the frame's length byte in front, its newline at the end
        for unit in UNITS:
            if line.endswith(" " + unit):
                line = line[: -len(unit) - 1]
                break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def stop(*_args):
    global running
    running = False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nis-port", type=int, required=True)
    ap.add_argument("--mqtt-port", type=int, required=True)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--mqtt", choices=("per-message", "kept"), default="per-message")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    client = None
    if args.mqtt == "kept":
        client = mqtt.Client(client_id="pypub-bridge")
        client.connect("127.0.0.1", args.mqtt_port)
        client.loop_start()
    while running:
        try:
            fields = read_status(args.nis_port)
            name = fields.get("UPSNAME") or "ups"
            topic = f"pypub/{name}/state"
            doc = json.dumps({k.lower(): str(v) for k, v in fields.items()}, sort_keys=True)
            if client is None:
                mqtt_publish.single(topic, doc, retain=True, hostname="127.0.0.1",
                                    port=args.mqtt_port)
            else:
                client.publish(topic, doc, retain=True)
        except OSError as err:
            print(f"poll failed: {err}", flush=True)
        for _ in range(args.interval * 2):
            time.sleep(0.5)
            if not running:
                break


if __name__ == "__main__":
    main()
