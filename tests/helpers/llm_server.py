"""A stand-in OpenAI-compatible chat server on 127.0.0.1, for the LLM providers' tests.

It answers ``POST /v1/chat/completions`` with canned replies, as one JSON body or, when the
request asks for ``"stream": true``, as Server-Sent Events split into small deltas (the way
OpenAI, vLLM and llama.cpp stream), so the real client libraries parse real wire formats.
``fail_after`` cuts a stream off after that many deltas, to test a provider dying mid-answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _deltas(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text`` exactly."""
    return re.findall(r"\S+\s*|\s+", text) or [text]


class StandInLLM:
    def __init__(self, replies: list[str], *, delta_delay_s: float = 0.0,
                 fail_after: int | None = None) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.delta_delay_s = delta_delay_s
        self.fail_after = fail_after
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body})
                if self.path != "/v1/chat/completions":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                content = outer.replies.pop(0) if outer.replies else "No reply [1]."
                if body.get("stream"):
                    self._stream(body, content)
                else:
                    self._whole(body, content)

            def _whole(self, body: dict[str, Any], content: str) -> None:
                payload = json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "m"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body: dict[str, Any], content: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict[str, Any], finish: str | None = None) -> None:
                    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
                             "model": body.get("model", "m"),
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                event({"role": "assistant", "content": ""})
                for i, piece in enumerate(_deltas(content)):
                    if outer.fail_after is not None and i >= outer.fail_after:
                        self.close_connection = True
                        return  # the connection drops mid-answer
                    event({"content": piece})
                    if outer.delta_delay_s:
                        time.sleep(outer.delta_delay_s)
                event({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StandInLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
