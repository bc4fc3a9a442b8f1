#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind: the deterministic judge of a
change (CPU time on a shared 2-core VM varies by +-20-40 % between runs; instruction counts
vary by well under 1 %).

The proxy (`python -m service`, one worker) runs under `valgrind --tool=callgrind` against
scripts/bench_upstream.py. After its first request it is left to finish what it does in the
background after start (until it is idle). For each kind of request: 50 warm-up requests,
counters zeroed (`callgrind_control -z`), --count requests at --concurrency (8)
(scripts/bench_load.py), counters dumped (`callgrind_control -d`); the dump's total over
--count is printed per kind, and the dumps are kept in --out for callgrind_annotate.

Usage: scripts/bench_callgrind.py [--kinds chat,chat-stream,anthropic,anthropic-stream,
                                           responses,responses-stream]
                                  [--count 300] [--out DIR] [--json FILE]
Needs valgrind (`apt-get install -y valgrind`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import PY, ROOT, SCRIPTS, Procs, free_port, http, proxy_env, start_upstream
from bench_load import cpu_seconds

KINDS = {
    "chat": ("proxy", False),
    "chat-stream": ("proxy", True),
    "anthropic": ("anthropic", False),
    "anthropic-stream": ("anthropic", True),
    "responses": ("responses", False),
    "responses-stream": ("responses", True),
}
# callgrind_control finds the process by a file valgrind names after USER and HOST (which is
# also the proxy's listen address).
ENV = {**os.environ, "USER": os.environ.get("USER", "root"), "LOGNAME": "root", "HOST": "127.0.0.1"}


def start_proxy_under_callgrind(
    procs: Procs, upstream_port: int, config_dir: str, out: Path, tree: Path, extra: dict
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = proxy_env(ENV, port, upstream_port, config_dir, extra)
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out.%p"]
    log = open(Path(config_dir) / "proxy.log", "ab")
    proc = procs.add(
        subprocess.Popen(
            [*cmd, PY, "-m", "service"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 1800  # minutes on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit((Path(config_dir) / "proxy.log").read_text(errors="replace")[-2000:])
        try:
            # One patient probe at a time: abandoned ones would queue up in the backlog.
            if http(url + "/healthz", timeout=120)[0] == 200:
                return proc, url
        except OSError:
            pass
        time.sleep(2)
    sys.exit("bench_callgrind: the proxy was not ready within 1800 s")


def send(
    url: str, target: str, stream: bool, count: int, strict: bool = True, concurrency: int = 8
) -> None:
    cmd = [PY, str(SCRIPTS / "bench_load.py"), "--url", url, "--target", target]
    cmd += ["--count", str(count), "--concurrency", str(concurrency), "--timeout", "900"]
    if stream:
        cmd.append("--stream")
    result = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    if strict and (result["errors"] or result["requests"] != count):
        sys.exit(f"bench_callgrind: {result['errors']} errors: {result['error_samples']}")


def settle(pid: int, window: float = 5.0, busy: float = 0.05, limit: float = 1800) -> float:
    """Waits until the proxy is idle (under `busy` of a core over `window` seconds): what it
    does in the background after start (the database opened and migrated, the tokenizer, the
    model list) takes minutes under valgrind and would otherwise be counted in the first kind.
    Returns the seconds waited."""
    t0 = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - t0 < limit:
        time.sleep(window)
        now = cpu_seconds(pid)
        if now - before < busy * window:
            break
        before = now
    return time.monotonic() - t0


def control(pid: int, flag: str) -> None:
    subprocess.run(["callgrind_control", flag, str(pid)], env=ENV, check=True, capture_output=True)


def dump(pid: int, out: Path, kind: str) -> Path:
    """Asks for a dump and waits for it: callgrind writes it at its next scheduling point."""
    sizes = {p: p.stat().st_size for p in out.glob(f"callgrind.out.{pid}*")}
    control(pid, "-d")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for path in out.glob(f"callgrind.out.{pid}*"):
            size = path.stat().st_size
            if size and size != sizes.get(path) and "totals:" in path.read_text(errors="replace"):
                named = path.with_name(f"{kind}.callgrind")
                path.rename(named)
                return named
        time.sleep(0.5)
    sys.exit("bench_callgrind: no dump within 600 s")


def total_instructions(dump: Path) -> int:
    text = dump.read_text(errors="replace")
    found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not found:
        sys.exit(f"bench_callgrind: no total in {dump}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", help="keep the dumps here (default: a temporary folder)")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the source tree to measure")
    parser.add_argument("--proxy-env", action="append", default=[], metavar="K=V",
                        help="extra environment for the proxy, e.g. USAGE_TOKENIZER=estimate "
                        "(skips minutes of tokenizer loading under valgrind)")  # fmt: skip
    parser.add_argument("--attach", type=int, metavar="PID", help="measure this running proxy")
    parser.add_argument("--url", help="with --attach: its http://127.0.0.1:PORT")
    args = parser.parse_args()
    # Timeouts fit for a proxy running ~50x slower.
    extra = {f"POE_{name}_TIMEOUT": "600" for name in ("CONNECT", "IDLE", "FIRST_EVENT")}
    extra.update(item.split("=", 1) for item in args.proxy_env)
    out = Path(args.out or tempfile.mkdtemp(prefix="poe2openai-callgrind-")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    config_dir = tempfile.mkdtemp(prefix="poe2openai-callgrind-config-")
    procs = Procs()
    results: dict[str, float] = {}
    try:
        if args.attach:  # a proxy already running under callgrind (and its upstream)
            pid, url = args.attach, args.url
        else:
            _, up_port = start_upstream(procs, 5.0)
            proxy, url = start_proxy_under_callgrind(
                procs, up_port, config_dir, out, args.tree.resolve(), extra
            )
            pid = proxy.pid
        # The first request needing `usage` loads the tokenizer: minutes under valgrind.
        body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
        if http(url + "/v1/chat/completions", body, timeout=1800)[0] != 200:
            sys.exit("bench_callgrind: the first request failed")
        waited = settle(pid)
        print(f"{'(settled)':18} {waited:7.0f} s until the proxy was idle", flush=True)
        for kind in args.kinds.split(","):
            target, stream = KINDS[kind]
            # Warm-up: connections are opened here (slowly: a timeout is forgiven).
            send(url, target, stream, 50, strict=False, concurrency=args.concurrency)
            control(pid, "-z")
            send(url, target, stream, args.count, concurrency=args.concurrency)
            named = dump(pid, out, kind)
            results[kind] = total_instructions(named) / args.count
            print(f"{kind:18} {results[kind] / 1e6:7.3f} M instructions / request  ({named})",
                  flush=True)  # fmt: skip
    finally:
        procs.stop_all()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
