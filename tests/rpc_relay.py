"""A JSON-RPC endpoint that forwards to another (a chain node, a storage node) until it is closed: a chain outage
under a running daemon (a daemon does not start without its chain, so an outage test starts it through a relay and
closes that), or a peer on another address whose answers a subclass alters (`relay`)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class RpcRelay:
    def __init__(self, target: str, host: str = "127.0.0.1") -> None:
        self.target = target
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                reply = relay.relay(self.rfile.read(int(self.headers["Content-Length"])))
                if reply is None:
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def relay(self, body: bytes) -> bytes | None:
        """The answer to the request `body`: the target's (None: answer 503)."""
        return httpx.post(self.target, content=body, headers={"Content-Type": "application/json"}).content

    def close(self) -> None:
        """From now on, connections are refused."""
        self.server.shutdown()
        self.server.server_close()
