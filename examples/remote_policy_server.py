#!/usr/bin/env python3
"""A vlalab remote policy server: HTTP + JSON, Python standard library only.

The protocol is docs/remote-policy.md. This server declares its observation and
action spec in the handshake, refuses a client whose declaration differs
(naming the field), keeps one policy state per episode, and answers every
observation with an action chunk and its own compute time. The policy is
examples/scripted_policy.py (vlalab's scripted expert, reading the privileged
state it asks for); replace make_policy()/Handler.act_reply with a model.

    python3 examples/remote_policy_server.py --port 8765
    npm run vlalab -- eval --policy remote:127.0.0.1:8765 --split heldout_layout --episodes 20
"""
import argparse
import base64
import collections
import json
import math
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scripted_policy import ACTION_HIGH, ACTION_LOW, ACTION_NAMES, ACTION_UNITS, ScriptedPolicy

PROTOCOL = "vlalab-remote-policy"
PROTOCOL_VERSION = 1
MAX_REQUEST_BYTES = 16 * 1024 * 1024
MAX_EPISODES = 256  # per-episode states kept (pages may run episodes concurrently)


def declaration(name, version, image_size):
    """What this server declares: vlalab checks every field against its own."""
    return {
        "protocol": PROTOCOL,
        "protocol_version": PROTOCOL_VERSION,
        "policy": {"name": name, "version": version, "backbone": "scripted", "params": 0},
        "control_hz": 10,
        "observation": {
            # Frames are decoded and checked, though the scripted policy steers by the privileged state.
            "images": {"scene": {"shape": [image_size, image_size, 3], "dtype": "uint8", "encoding": "base64"}},
            "proprio": {"names": ["x", "y", "z", "yaw", "gap", "gripper_cmd"], "shape": [6], "dtype": "float32", "units": ["m", "m", "m", "rad", "m", "1"]},
            "instruction": {"dtype": "string"},
            "privileged": {},
        },
        "action": {
            "names": ACTION_NAMES, "shape": [6], "dtype": "float32", "low": ACTION_LOW, "high": ACTION_HIGH, "units": ACTION_UNITS,
            "frame": "world", "mode": "delta", "normalization": "none",
            "gripper": {"index": 4, "open": 0, "closed": 1}, "chunk_length": 1,
        },
    }


def field(d, path):
    for k in path.split("."):
        d = d.get(k) if isinstance(d, dict) else None
    return d


def same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return all(k in b and same(v, b[k]) for k, v in a.items())
    return a == b


def check_client(client, mine):
    """None when vlalab's declaration fits this policy, else the first field that differs."""
    for path in ["protocol", "protocol_version", "control_hz", "action.names", "action.shape", "action.low", "action.high",
                 "action.units", "action.gripper", "action.normalization", "observation.proprio.names", "observation.proprio.units"]:
        want, got = field(mine, path), field(client, path)
        if not same(want, got):
            return "%s: this policy takes %s, the client declares %s" % (path, json.dumps(want), json.dumps(got))
    for cam, spec in mine["observation"]["images"].items():
        got = field(client, "observation.images." + cam)
        if got is None:
            return "observation.images.%s: the client does not send this camera" % cam
        if not same(spec["shape"], got.get("shape")):
            return "observation.images.%s.shape: this policy takes %s, the client sends %s" % (cam, spec["shape"], got.get("shape"))
    return None


def decode_image(entry):
    """A camera frame as (height, width, bytes of uint8 RGB, rows top-down); ValueError naming what is wrong."""
    h, w, c = entry["shape"]
    data = base64.b64decode(entry["data"], validate=True)
    if len(data) != h * w * c:
        raise ValueError("image data holds %d bytes, shape %s needs %d" % (len(data), entry["shape"], h * w * c))
    return h, w, data


class PolicyServer(ThreadingHTTPServer):
    daemon_threads = True

    handler_class = None  # Handler, set below (a subclass may serve another)

    def __init__(self, address, decl, args):
        super().__init__(address, self.handler_class or Handler)
        self.decl = decl
        self.args = args
        self.quiet = args.quiet
        self.episodes = collections.OrderedDict()
        self.lock = threading.Lock()

    def log(self, msg):
        if not self.quiet:
            print(msg, file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    server_version = "vlalab-remote-policy/1"

    def log_message(self, fmt, *args):  # one line per request is noise at 10 Hz
        pass

    def send_json(self, status, obj):
        data = json.dumps(obj, allow_nan=False).encode()  # allow_nan=False: never send NaN, which is not JSON
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to tell it

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_REQUEST_BYTES:
            return self.send_json(413, {"error": "request of %d bytes is larger than %d" % (n, MAX_REQUEST_BYTES)})
        try:
            msg = json.loads(self.rfile.read(n))
        except ValueError as e:
            return self.send_json(400, {"error": "request is not JSON: %s" % e})
        route = {"/handshake": self.handshake, "/reset": self.reset, "/act": self.act}.get(self.path)
        if route is None:
            return self.send_json(404, {"error": "no endpoint %s (POST /handshake, /reset, /act)" % self.path})
        try:
            self.send_json(*route(msg))
        except Exception as e:  # a bug in the policy is an HTTP 500 naming it, and the server goes on
            self.send_json(500, {"error": "%s: %s" % (type(e).__name__, e)})

    def handshake(self, msg):
        why = check_client(msg, self.server.decl)
        if why:
            self.server.log("handshake refused: " + why)
            return 409, {"error": why}
        return 200, self.server.decl

    def reset(self, msg):
        eid = str(msg["episode_id"])
        with self.server.lock:
            self.server.episodes[eid] = make_policy()
            while len(self.server.episodes) > MAX_EPISODES:
                self.server.episodes.popitem(last=False)
        self.server.log("reset %s: %s" % (eid, msg.get("instruction", "")))
        return 200, {}

    def act(self, msg):
        t0 = time.perf_counter()
        eid = str(msg.get("episode_id"))
        with self.server.lock:
            policy = self.server.episodes.get(eid)
        if policy is None:
            return 409, {"error": "unknown episode_id %r (POST /reset first)" % eid}
        obs = msg["observation"]
        try:
            for cam in self.server.decl["observation"]["images"]:
                decode_image(obs["images"][cam])
        except (KeyError, ValueError, TypeError) as e:
            return 400, {"error": "observation.images: %s" % e}
        actions = self.act_reply(policy, obs, msg)
        if actions[-1][5] > 0.5:
            self.server.log("%s: terminate at step %d" % (eid, msg.get("step", -1)))
        return 200, {"actions": actions, "compute_ms": (time.perf_counter() - t0) * 1000}

    def act_reply(self, policy, obs, msg):
        """The chunk for one observation: chunk_length actions of 6 numbers."""
        return [policy.act(obs["privileged"])]


def make_policy():
    return ScriptedPolicy()


def main(argv=None, server_class=PolicyServer, add_arguments=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=8765, help="port (0: any free one; the line 'listening on URL' names it)")
    ap.add_argument("--name", default="scripted-py", help="declared policy name: the label of its records in vlalab")
    ap.add_argument("--version", default="1.0", help="declared policy version: with the name, the model identity of its records")
    ap.add_argument("--image-size", type=int, default=96, help="camera resolution this policy takes (vlalab's --resolution must match)")
    ap.add_argument("--quiet", action="store_true", help="no log lines on stderr")
    if add_arguments:
        add_arguments(ap)
    args = ap.parse_args(argv)
    server = server_class((args.host, args.port), declaration(args.name, args.version, args.image_size), args)
    print("listening on http://%s:%d" % server.server_address[:2], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
