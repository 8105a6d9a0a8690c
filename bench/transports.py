"""Throughput of one read (GetEmailProviderById) through every transport, beside bare baselines.

mailgate runs as its own process on SQLite. Native gRPC is driven by h2load, JSON and grpc-web by
wrk; a bare grpc.aio echo server gets the same h2load load and a bare ASGI app (uvicorn, same HTTP
implementation as mailgate) the same wrk load. Prints req/s, p50 and p99 per run and the ratios
against the goals; exits 1 when any response was not a success (or, with --strict, a goal is missed).
Memory: mailgate's resident set after the first ~10k requests against after 100k.

Needs Debian's `nghttp2-client` (h2load) and `wrk`. Options: --requests=N (h2load runs),
--seconds=S (wrk runs), --connections=C, --strict.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GRPC_PATH = "/zitadel.admin.v1.AdminService/GetEmailProviderById"
GOALS = [  # (label, numerator, denominator, minimum ratio)
    ("native gRPC / bare grpc.aio", "mailgate native", "bare grpc.aio", 0.6),
    ("JSON / native gRPC", "mailgate JSON", "mailgate native", 1.0),
    ("grpc-web / native gRPC", "mailgate grpc-web", "mailgate native", 1.0),
    ("JSON / bare ASGI", "mailgate JSON", "bare ASGI", 0.35),
]
MEMORY_GOAL = 0.10
WARMUP_REQUESTS = 10_000
TOTAL_REQUESTS = 100_000

# wrk script: count responses that are not a success, print them at the end.
CHECK_LUA = """
{setup}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0; responses = 0 end
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 or not string.find(body, '{needle}', 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local f, r = 0, 0
  for _, t in ipairs(threads) do f = f + t:get("failures"); r = r + t:get("responses") end
  io.write(string.format("CHECK responses=%d failures=%d\\n", r, f))
end
"""


@dataclass
class Result:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float


# --- servers this benchmark starts ---


def serve_echo(port: int) -> None:
    """A bare grpc.aio server answering GetEmailProviderById with the request bytes."""
    import grpc

    async def echo(request: bytes, context: object) -> bytes:
        return request

    async def run() -> None:
        server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(echo)
        service, method = GRPC_PATH.strip("/").split("/")
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(service, {method: handler})])
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(run())


def serve_asgi(port: int, body_file: str) -> None:
    """A bare ASGI app under uvicorn (httptools when installed, as mailgate) sending a fixed JSON body."""
    import uvicorn

    body = Path(body_file).read_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        http="auto",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        interface="asgi3",
    )


# --- helpers ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"transports: nothing listens on port {port} after {timeout}s")


@contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("transports: no VmRSS")


def grpc_frame(payload: bytes) -> bytes:
    return struct.pack(">BI", 0, len(payload)) + payload


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- load generators ---


def h2load(
    name: str,
    url: str,
    headers: list[str],
    requests: int,
    connections: int,
    work: Path,
    body: Path | None = None,
    expect_frame: int = 0,
    h1: bool = False,
) -> Result:
    """Exactly `requests` requests. h2load counts HTTP 2xx only; for gRPC (`expect_frame`) a success
    is also checked by the bytes: errors are trailers-only, every success carries one whole frame."""
    log = work / f"{name.replace(' ', '_')}.h2load.log"
    command = [
        "h2load",
        "-n",
        str(requests),
        "-c",
        str(connections),
        "-m",
        "1",
        "-t",
        "1",
        f"--log-file={log}",
    ]
    command += ["--h1"] if h1 else []
    command += ["-d", str(body)] if body is not None else []
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=False).stdout
    finished = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    codes = re.search(r"status codes: (\d+) 2xx", out)
    data = re.search(r"traffic: .*?\((\d+)\) data", out)
    if not (finished and codes and data):
        raise SystemExit(f"transports: cannot read h2load output:\n{out}")
    successes = int(codes[1])
    if expect_frame:
        received = int(data[1])
        successes = min(successes, received // expect_frame)
        if received != successes * expect_frame:
            successes -= 1  # a partial or foreign frame: something was not a success
    latencies = [int(line.split()[2]) / 1000 for line in log.read_text().splitlines() if line.strip()]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    return Result(name, requests, requests - successes, float(finished[1]), p50, p99)


def wrk(name: str, url: str, seconds: int, connections: int, setup: str, needle: str, work: Path) -> Result:
    script = work / f"{name.replace(' ', '_')}.lua"
    script.write_text(CHECK_LUA.format(setup=setup, needle=needle))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    check = re.search(r"CHECK responses=(\d+) failures=(\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if not (rps and check and p50 and p99):
        raise SystemExit(f"transports: cannot read wrk output:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = int(check[2]) + (sum(int(n) for n in errors.groups()) if errors else 0)
    return Result(name, int(check[1]), failures, float(rps[1]), _ms(p50), _ms(p99))


def _ms(found: re.Match[str]) -> float:
    return float(found[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found[2]]


def lua_headers(token: str, extra: dict[str, str] | None = None, body: bytes | None = None) -> str:
    lines = [f'wrk.headers["authorization"] = "Bearer {token}"']
    for key, value in (extra or {}).items():
        lines.append(f'wrk.headers["{key}"] = "{value}"')
    if body is not None:
        lines.append('wrk.method = "POST"')
        lines.append('wrk.body = "' + "".join(f"\\{byte:03d}" for byte in body) + '"')
    return "\n".join(lines)


# --- the run ---


def prepare(grpc_port: int, http_port: int, token: str) -> tuple[str, bytes, bytes]:
    """Add one SMTP provider; return its id, its native response and its JSON body."""
    import grpc
    import httpx

    from mailgate.gen.zitadel import admin_pb2 as pb
    from mailgate.gen.zitadel import admin_pb2_grpc

    metadata = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        added = stub.AddEmailProviderSMTP(
            pb.AddEmailProviderSMTPRequest(
                sender_address="bench@example.com", sender_name="Bench", host="smtp.example.com:587"
            ),
            metadata=metadata,
        )
        got = stub.GetEmailProviderById(pb.GetEmailProviderByIdRequest(id=added.id), metadata=metadata)
    response = httpx.get(
        f"http://127.0.0.1:{http_port}/admin/v1/email/{added.id}",
        headers={"authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return added.id, got.SerializeToString(), response.content


def create_token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailgate.cli",
            "token",
            "create",
            "--permission",
            "iam.write",
            "--instance",
            "bench",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1]


def report(results: dict[str, Result], memory: tuple[int, int, int, int], strict: bool) -> int:
    print(f"{'run':<20}{'requests':>10}{'failed':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results.values():
        print(f"{r.name:<20}{r.requests:>10}{r.failures:>8}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}")
    missed = 0
    print()
    for label, top, bottom, goal in GOALS:
        ratio = results[top].rps / results[bottom].rps
        ok = ratio >= goal
        missed += not ok
        print(f"{label:<30} {ratio:6.2f}x  (goal >= {goal:.2f}x)  {'ok' if ok else 'MISSED'}")
    first_n, first_kib, last_n, last_kib = memory
    growth = (last_kib - first_kib) / first_kib
    ok = growth < MEMORY_GOAL
    missed += not ok
    print(
        f"{'resident memory growth':<30} {growth * 100:+6.1f}%  "
        f"({first_kib / 1024:.1f} MiB after {first_n} requests, {last_kib / 1024:.1f} MiB after {last_n}; "
        f"goal < {MEMORY_GOAL * 100:.0f}%)  {'ok' if ok else 'MISSED'}"
    )
    failures = sum(r.failures for r in results.values())
    if failures:
        print(f"FAILED: {failures} responses were not a success")
        return 1
    if missed and strict:
        print(f"FAILED: {missed} goal(s) missed (--strict)")
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench transports")
    parser.add_argument("--requests", type=int, default=30_000, help="requests per h2load run")
    parser.add_argument("--seconds", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--strict", action="store_true", help="also fail when a goal is missed")
    args, _ = parser.parse_known_args(argv)
    missing = [tool for tool in ("h2load", "wrk") if shutil.which(tool) is None]
    if missing:
        print(
            f"transports: needs {' and '.join(missing)} (apt-get install -y nghttp2-client wrk)",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="mailgate-bench-") as tmp:
        return run(args, Path(tmp))


def run(args: argparse.Namespace, work: Path) -> int:
    grpc_port, http_port, echo_port, asgi_port = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "MAILGATE_DATA_DIR": str(work / "data"),
        "MAILGATE_GRPC_ADDR": f"127.0.0.1:{grpc_port}",
        "MAILGATE_HTTP_ADDR": f"127.0.0.1:{http_port}",
        # The default log level: per-call logging is part of what is measured.
    }
    env.pop("MAILGATE_DATABASE_URL", None)
    token = create_token(env)
    conns = args.connections
    results: dict[str, Result] = {}
    with process("-m", "mailgate.cli", "serve", env=env) as server:
        wait_for_port(grpc_port)
        wait_for_port(http_port)
        provider_id, response, json_body = prepare(grpc_port, http_port, token)
        request = grpc_frame(_request_bytes(provider_id))
        (work / "req.bin").write_bytes(request)
        (work / "body.json").write_bytes(json_body)
        json_url = f"http://127.0.0.1:{http_port}/admin/v1/email/{provider_id}"
        web_url = f"http://127.0.0.1:{http_port}{GRPC_PATH}"
        web_setup = lua_headers(
            token, {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}, request
        )
        native_frame = 5 + len(response)

        grpc_headers = ["content-type: application/grpc", "te: trailers", f"authorization: Bearer {token}"]
        native_url = f"http://127.0.0.1:{grpc_port}{GRPC_PATH}"

        def native(name: str, n: int) -> Result:
            return h2load(name, native_url, grpc_headers, n, conns, work, work / "req.bin", native_frame)

        def json_run(name: str, seconds: int) -> Result:
            return wrk(name, json_url, seconds, conns, lua_headers(token), '"config"', work)

        def web_run(name: str, seconds: int) -> Result:
            return wrk(name, web_url, seconds, conns, web_setup, "grpc-status:0", work)

        # Warm-up: 10k requests over every transport; then the resident set is the baseline.
        auth = [f"authorization: Bearer {token}"]
        web_headers = [*auth, "content-type: application/grpc-web+proto", "x-grpc-web: 1"]
        warm = [
            native("warm native", 4000),
            h2load("warm JSON", json_url, auth, 3000, conns, work, h1=True),
            h2load("warm grpc-web", web_url, web_headers, 3000, conns, work, work / "req.bin", h1=True),
        ]
        served = sum(r.requests for r in warm)
        first = (served, rss_kib(server.pid))
        for result in (
            native("mailgate native", args.requests),
            json_run("mailgate JSON", args.seconds),
            web_run("mailgate grpc-web", args.seconds),
        ):
            results[result.name] = result
            served += result.requests
        while served < TOTAL_REQUESTS:
            extra = json_run("top-up JSON", 5)
            served += extra.requests
            results["mailgate JSON"].failures += extra.failures
        last = (served, rss_kib(server.pid))
        for run_ in warm:
            results["mailgate native"].failures += run_.failures
    with process("-m", "bench.transports", "--serve-echo", str(echo_port)):
        wait_for_port(echo_port)
        echo_frame = 5 + len(_request_bytes(provider_id))
        echo_url = f"http://127.0.0.1:{echo_port}{GRPC_PATH}"
        h2load("bare warm", echo_url, grpc_headers, 4000, conns, work, work / "req.bin", echo_frame)
        bare = h2load(
            "bare grpc.aio", echo_url, grpc_headers, args.requests, conns, work, work / "req.bin", echo_frame
        )
        results["bare grpc.aio"] = bare
    with process("-m", "bench.transports", "--serve-asgi", str(asgi_port), str(work / "body.json")):
        wait_for_port(asgi_port)
        asgi_url = f"http://127.0.0.1:{asgi_port}/admin/v1/email/{provider_id}"
        wrk("bare warm", asgi_url, 2, conns, lua_headers(token), '"config"', work)
        results["bare ASGI"] = wrk(
            "bare ASGI", asgi_url, args.seconds, conns, lua_headers(token), '"config"', work
        )
    order = ["bare grpc.aio", "mailgate native", "bare ASGI", "mailgate JSON", "mailgate grpc-web"]
    return report({name: results[name] for name in order}, (*first, *last), args.strict)


def _request_bytes(provider_id: str) -> bytes:
    from mailgate.gen.zitadel import admin_pb2 as pb

    return pb.GetEmailProviderByIdRequest(id=provider_id).SerializeToString()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-echo"]:
        serve_echo(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--serve-asgi"]:
        serve_asgi(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(main(sys.argv[1:]))
