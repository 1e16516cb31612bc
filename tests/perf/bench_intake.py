"""Intake API throughput: single Open311 posts from 8 concurrent clients, then JSON-lines bulk posts.

    python tests/perf/bench_intake.py                       # 4,000 single posts, 100,000 bulk records
    python tests/perf/bench_intake.py --single 1000 --bulk 20000

Starts ``gridwatch api`` on a free port over a fresh workspace (tests/core/intake_cases.py), then:

* **single** — 8 httpx clients post N Open311 tickets between them, each sent twice with the same
  Idempotency-Key (a retry); tickets/s counts the N distinct tickets (target ≥ 500/s on 2 cores);
* **bulk** — 100,000 records in chunks of 10,000, each chunk sent twice (target ≥ 5,000/s).

Then counts the tickets back from the store and prints lost (sent, not stored) and duplicated
(stored more than once) for both. Baseline in the same run: one client posting one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from intake_cases import intake_workspace

from core import apikeys
from core import events as ev
from core.store import open_store

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-03-01T08:30:00+08:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GRIDWATCH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "api", "--port", str(port), "--workspace", "intake"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "api.log", "w"),  # noqa: SIM115 (open as long as the server runs)
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/open311/v2/services.json", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the API did not start")


async def singles(url: str, key: str, ids: list[str], clients: int) -> float:
    """Seconds for ``clients`` keep-alive connections to post one ticket per id, each twice.

    The clients write HTTP/1.1 on asyncio streams: an httpx client spends more CPU per request than
    the server does, and on 2 shared cores the benchmark would measure the client."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in ids:
        queue.put_nowait(i)
    host, port = httpx.URL(url).host, httpx.URL(url).port
    form = urlencode({"service_code": "c01", "lat": "0.5", "long": "0.5", "description": "bench"}).encode()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while not queue.empty():
                ident = queue.get_nowait()
                head = (
                    f"POST /open311/v2/requests.json HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
                    f"Idempotency-Key: {ident}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(form)}\r\n\r\n"
                ).encode()
                for _ in range(2):  # the post and its retry
                    writer.write(head + form)
                    status, body = await response(reader)
                    assert status in (200, 201), body
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - began


async def response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


def bulk(url: str, key: str, total: int, chunk: int) -> float:
    began = time.perf_counter()
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=300) as client:
        for start in range(0, total, chunk):
            body = "\n".join(
                json.dumps(
                    {"source_id": f"k{i}", "category": "市容环境", "lat": 0.5, "long": 0.5, "requested_datetime": AT}
                )
                for i in range(start, min(total, start + chunk))
            )
            for _ in range(2):
                r = client.post("/api/v1/tickets/bulk", content=body)
                assert r.status_code in (200, 201), r.text
    return time.perf_counter() - began


def report(name: str, store, prefix: str, sent: int, seconds: float) -> None:
    refs = store.events(kinds=[ev.TICKET])["ref"]
    mine = refs[refs.str.startswith(prefix)]
    lost, duplicated = sent - mine.nunique(), len(mine) - mine.nunique()
    print(
        f"{name:32} {sent:>8,} tickets in {seconds:7.2f} s = {sent / seconds:8,.0f} tickets/s  lost {lost}  dup {duplicated}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=4000)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ws = intake_workspace(home)
        key = apikeys.create_key(ws, "bench")
        proc, url = start(home)
        try:
            store = open_store("intake", home, create=False)
            base = max(200, args.single // 20)
            seconds = asyncio.run(singles(url, key, [f"base{i}" for i in range(base)], 1))
            report("baseline: 1 client, single", store, "bench-base", base, seconds)
            seconds = asyncio.run(singles(url, key, [f"s{i}" for i in range(args.single)], args.clients))
            report(f"{args.clients} clients, single (x2 retry)", store, "bench-s", args.single, seconds)
            seconds = bulk(url, key, args.bulk, 10_000)
            report("bulk, chunks of 10,000 (x2)", store, "bench-k", args.bulk, seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            print((home / "api.log").read_text()[-3000:], file=sys.stderr)


if __name__ == "__main__":
    main()
