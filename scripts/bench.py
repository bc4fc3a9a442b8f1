#!/usr/bin/env python3
"""poe2openai benchmark: the proxy and the fake upstream it fronts, measured the same way.

Starts scripts/bench_upstream.py (a raw-asyncio fake Poe), a one-worker proxy
(`python -m service`), and runs scripts/bench_load.py (aiohttp, own process) phase by phase,
against the proxy and against the upstream directly. Everything listens on 127.0.0.1.
Prints a table with PASS/MISS against the targets; --json FILE writes all results.
See docs/performance.md for what each number means.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import bench_layers  # scripts/ is on sys.path when a script here runs

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
PY = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable
EXPECTED_TEXT = "".join(f"word{i:02d} " for i in range(20))

# Targets: one worker, 2 cores, 20-chunk answers.
TARGETS = {
    "ns32_rps": (">=", 1500),
    "ns32_cpu_ms": ("<=", 0.75),  # issue 11
    "st32_sps": (">=", 1000),
    "st32_cps": (">=", 20000),
    "ns1_p50_overhead_ms": ("<=", 1.0),
    "ttfc_overhead_ms": ("<=", 0.5),
    "ready_s": ("<=", 1.0),
    "idle_rss_mb": ("<", 80),  # USAGE_TOKENIZER=estimate
    "idle_rss_tokenizer_mb": ("<", 200),  # the default, the o200k_base vocabulary loaded
    "streams_hwm_mb": ("<", 200),
    # The Anthropic front's CPU per request, over the chat front's in the same run.
    "ans32_cpu_ratio": ("<=", 1.10),
    "ast32_cpu_ratio": ("<=", 1.10),
    # The Responses front's, likewise (issue 9).
    "rns32_cpu_ratio": ("<=", 1.10),
    "rst32_cpu_ratio": ("<=", 1.10),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mem_mb(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": out["VmRSS"], "hwm_mb": out["VmHWM"]}


def http(url: str, body: dict | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("authorization", "Bearer bench")
    if data:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Procs:
    """Children started here, stopped by pid on exit."""

    def __init__(self) -> None:
        self.items: list[subprocess.Popen] = []

    def add(self, proc: subprocess.Popen) -> subprocess.Popen:
        self.items.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 5.0) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.items):
            self.stop(proc)


def start_upstream(procs: Procs, slow_hold: float) -> tuple[subprocess.Popen, int]:
    proc = procs.add(
        subprocess.Popen(
            [PY, str(SCRIPTS / "bench_upstream.py"), "--slow-hold", str(slow_hold)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,  # one JSON line of counters at exit
            text=True,
        )
    )
    line = proc.stdout.readline().split()
    if not line or line[0] != "READY":
        sys.exit("bench: the fake upstream did not start")
    return proc, int(line[1])


def proxy_env(
    base: Mapping[str, str], port: int, upstream_port: int, config_dir: str, extra: Mapping
) -> dict[str, str]:
    """The environment of a benchmarked proxy: one worker on 127.0.0.1, quiet logs."""
    return {
        **base,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "POE_BASE_URL": f"http://127.0.0.1:{upstream_port}",
        "WORKERS": "1",
        "LOG_LEVEL": "warning",
        "CONFIG_DIR": config_dir,
        **extra,
    }


def start_proxy(
    procs: Procs, upstream_port: int, config_dir: str, extra_env: dict[str, str]
) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = proxy_env(os.environ, port, upstream_port, config_dir, extra_env)
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    logfile = open(Path(config_dir) / "proxy.log", "ab")
    proc = procs.add(
        subprocess.Popen(
            [PY, "-m", "service"], cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT
        )
    )
    logfile.close()  # the child holds its own copy
    while True:
        if proc.poll() is not None:
            tail = (Path(config_dir) / "proxy.log").read_text(errors="replace")[-2000:]
            sys.exit(f"bench: the proxy exited with {proc.returncode} before it was ready\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            pass
        if time.perf_counter() - t0 > 30:
            sys.exit("bench: the proxy was not ready within 30 s")
        time.sleep(0.005)
    return proc, url, time.perf_counter() - t0


def load(url: str, target: str, *, pids: list[int], **kw: object) -> dict:
    cmd = [PY, str(SCRIPTS / "bench_load.py"), "--url", url, "--target", target]
    for key, value in kw.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            cmd.append(flag)
        elif value not in (False, None):
            cmd += [flag, str(value)]
    for pid in pids:
        cmd += ["--watch-pid", str(pid)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"bench: load generator failed:\n{out.stderr}")
    return json.loads(out.stdout)


def check_answers(url: str) -> float:
    """One stream and one non-stream request through the proxy, checked; returns the latency
    of the non-stream one."""
    body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    status, raw = http(url + "/v1/chat/completions", body)
    text = ""
    for line in raw.decode().splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                text += choice.get("delta", {}).get("content") or ""
    if status != 200 or text != EXPECTED_TEXT or not raw.rstrip().endswith(b"data: [DONE]"):
        sys.exit(f"bench: unexpected stream from the proxy ({status}): {raw[:300]!r}")
    body["stream"] = False
    t0 = time.perf_counter()
    status, raw = http(url + "/v1/chat/completions", body)
    elapsed = time.perf_counter() - t0
    answer = json.loads(raw) if status == 200 else {}
    if answer.get("choices", [{}])[0].get("message", {}).get("content") != EXPECTED_TEXT:
        sys.exit(f"bench: unexpected answer from the proxy ({status}): {raw[:300]!r}")
    body = {"model": "bench", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    status, raw = http(url + "/v1/messages", body)  # the bearer works for this front too
    message = json.loads(raw) if status == 200 else {}
    if [b.get("text") for b in message.get("content", [])] != [EXPECTED_TEXT]:
        sys.exit(f"bench: unexpected Anthropic answer from the proxy ({status}): {raw[:300]!r}")
    check_responses(url)
    return elapsed


def check_responses(url: str) -> None:
    """The Responses front, word for word: the streamed text is the concatenation of the
    `response.output_text.delta` deltas, the whole one the `output_text` parts' text."""
    body = {"model": "bench", "input": "hi", "stream": True}
    status, raw = http(url + "/v1/responses", body)
    text, last = "", None
    for line in raw.decode().splitlines():
        if line.startswith("data: {"):
            event = json.loads(line[6:])
            last = event.get("type")
            if last == "response.output_text.delta":
                text += event["delta"]
    if status != 200 or text != EXPECTED_TEXT or last != "response.completed":
        sys.exit(f"bench: unexpected Responses stream from the proxy ({status}): {raw[:300]!r}")
    body["stream"] = False
    status, raw = http(url + "/v1/responses", body)
    answer = json.loads(raw) if status == 200 else {}
    texts = [
        part.get("text")
        for item in answer.get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if part.get("type") == "output_text"
    ]
    if texts != [EXPECTED_TEXT] or answer.get("status") != "completed":
        sys.exit(f"bench: unexpected Responses answer from the proxy ({status}): {raw[:300]!r}")


def children(pid: int) -> list[int]:
    """Every descendant of a process (Sanic's manager and its workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


def request_ms(url: str) -> float:
    """One non-stream chat request (it needs `usage`), checked; its latency in ms."""
    body = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
    t0 = time.perf_counter()
    status, raw = http(url + "/v1/chat/completions", body, timeout=60)
    elapsed = time.perf_counter() - t0
    if status != 200:
        sys.exit(f"bench: unexpected answer from the proxy ({status}): {raw[:300]!r}")
    return round(elapsed * 1000, 1)


# ---------------------------------------------------------------------------- profiling


def profile_phase(pid: int, url: str, out: Path, name: str, duration: float, **kw: object) -> dict:
    """py-spy record (collapsed stacks) of the proxy while the load runs."""
    pyspy = shutil.which("py-spy", path=str(ROOT / ".venv/bin")) or shutil.which("py-spy")
    if not pyspy:
        return {"error": "py-spy not installed (.venv/bin/pip install py-spy)"}
    raw = out / f"{name}.collapsed.txt"
    spy = subprocess.Popen(
        [pyspy, "record", "-p", str(pid), "-r", "250", "-d", str(int(duration + 2)),
         "-f", "raw", "-o", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    result = load(url, "proxy", pids=[pid], duration=duration, warmup=0.5, **kw)
    spy.wait(timeout=duration + 30)
    summary = summarize_profile(raw) if raw.exists() else {"error": "py-spy wrote nothing"}
    (out / f"{name}.summary.json").write_text(json.dumps(summary, indent=1))
    return {"load": result, "profile": summary, "file": str(raw)}


def summarize_profile(path: Path, top: int = 25) -> dict:
    self_time: collections.Counter[str] = collections.Counter()
    total_time: collections.Counter[str] = collections.Counter()
    by_area: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        frames = [f for f in frames if f]
        if not frames:
            continue
        self_time[frames[-1]] += n
        for frame in set(frames):
            total_time[frame] += n
        by_area[_area(stack.split(";")[-1])] += n

    def pct(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)]

    _, by_layer = bench_layers.layers(path)
    return {
        "samples": total,
        "by_layer_pct": pct(by_layer),
        "self_pct": pct(self_time),
        "inclusive_pct": pct(total_time),
        "by_area_pct": pct(by_area),
    }


def _short(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)".
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{name}" if path else name


def _area(frame: str) -> str:
    for key in ("service/", "generated/", "sanic", "httpx_aiohttp", "httpx", "aiohttp",
                "pydantic", "tiktoken", "uvloop", "asyncio", "json"):  # fmt: skip
        if key in frame:
            return key.rstrip("/")
    return "other"


# ---------------------------------------------------------------------------- report


def pick_median(runs: list[dict]) -> dict:
    """The run with the median req/s stands for the phase (its latencies and chunk rates stay
    consistent with each other); CPU per request is the median over all runs; every run's
    req/s is kept so the spread is visible (this machine is a shared VM: expect +-20%)."""
    ordered = sorted(runs, key=lambda r: r["rps"] or 0)
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    per_req = sorted(r["cpu_proxy_s"] * 1000 / r["requests"] for r in runs if r["requests"])
    chosen["proxy_cpu_ms_per_req"] = round(per_req[(len(per_req) - 1) // 2], 3) if per_req else None
    chosen["proxy_cpu_util"] = round(chosen["cpu_proxy_s"] / chosen["elapsed"], 2)
    chosen["rps_runs"] = [r["rps"] for r in runs]
    chosen["errors"] = sum(r["errors"] for r in runs)
    chosen["error_samples"] = [e for r in runs for e in r["error_samples"]][:5]
    return chosen


def spread(res: dict) -> str:
    runs = res["rps_runs"]
    return f"runs {min(runs):,.0f}-{max(runs):,.0f}" if len(runs) > 1 else ""


def verdict(key: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    op, limit = TARGETS[key]
    ok = {">=": value >= limit, "<=": value <= limit, "<": value < limit}[op]
    return "PASS" if ok else "MISS"


def fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def build_rows(r: dict) -> list[dict]:
    p, d = r["proxy"], r["direct"]
    rows: list[dict] = []

    def row(metric: str, proxy: object, direct: object = None, key: str | None = None,
            value: float | None = None, note: str = "") -> None:  # fmt: skip
        target = f"{TARGETS[key][0]} {TARGETS[key][1]:g}" if key else ""
        check = value if value is not None else proxy
        rows.append({
            "metric": metric,
            "proxy": proxy,
            "direct": direct,
            "target": target,
            "verdict": verdict(key, check) if key else "",
            "note": note,
        })  # fmt: skip

    def per_req(phase: str) -> float | None:
        return p[phase]["proxy_cpu_ms_per_req"]

    ns1, ns32, st32, st1 = p["ns1"], p["ns32"], p["st32"], p["st1"]
    dns1, dns32, dst32, dst1 = d["ns1"], d["ns32"], d["st32"], d["st1"]
    row("non-stream c=1   req/s", ns1["rps"], dns1["rps"], note=spread(ns1))
    row("non-stream c=1   p50 ms", ns1["p50_ms"], dns1["p50_ms"])
    row("non-stream c=1   p99 ms", ns1["p99_ms"], dns1["p99_ms"])
    overhead = round(ns1["p50_ms"] - dns1["p50_ms"], 3)
    row("non-stream c=1   p50 overhead ms", overhead, None, "ns1_p50_overhead_ms")
    row("non-stream c=1   proxy CPU ms/req", per_req("ns1"))
    row("non-stream c=32  req/s", ns32["rps"], dns32["rps"], "ns32_rps", note=spread(ns32))
    row("non-stream c=32  p50 ms", ns32["p50_ms"], dns32["p50_ms"])
    row("non-stream c=32  p99 ms", ns32["p99_ms"], dns32["p99_ms"])
    row("non-stream c=32  proxy CPU ms/req", per_req("ns32"), None, "ns32_cpu_ms",
        note=f"proxy CPU busy {ns32['proxy_cpu_util']:.0%}")  # fmt: skip
    row("stream c=32      streams/s", st32["rps"], dst32["rps"], "st32_sps", note=spread(st32))
    row("stream c=32      chunks/s", st32["chunks_per_s"], dst32["chunks_per_s"], "st32_cps")
    row("stream c=32      p50 ms (whole)", st32["p50_ms"], dst32["p50_ms"])
    row("stream c=32      p99 ms (whole)", st32["p99_ms"], dst32["p99_ms"])
    row("stream c=32      first chunk p50 ms", st32["ttfc_p50_ms"], dst32["ttfc_p50_ms"])
    row("stream c=32      proxy CPU ms/stream", per_req("st32"),
        note=f"proxy CPU busy {st32['proxy_cpu_util']:.0%}")  # fmt: skip
    row("stream c=1       first chunk p50 ms", st1["ttfc_p50_ms"], dst1["ttfc_p50_ms"])
    row("stream c=1       first chunk p99 ms", st1["ttfc_p99_ms"], dst1["ttfc_p99_ms"])
    ttfc_over = round(st1["ttfc_p50_ms"] - dst1["ttfc_p50_ms"], 3)
    row("stream c=1       first chunk overhead ms", ttfc_over, None, "ttfc_overhead_ms")
    row("stream c=1       streams/s", st1["rps"], dst1["rps"], note=spread(st1))
    ans32, ast32 = p["ans32"], p["ast32"]
    row("anthropic non-stream c=32 req/s", ans32["rps"], None, note=spread(ans32))
    row("anthropic non-stream c=32 p50 ms", ans32["p50_ms"])
    row("anthropic non-stream c=32 p99 ms", ans32["p99_ms"])
    row("anthropic non-stream c=32 CPU ms/req", per_req("ans32"))
    row("anthropic non-stream CPU / chat's", _ratio(per_req("ans32"), per_req("ns32")), None,
        "ans32_cpu_ratio")  # fmt: skip
    row("anthropic stream c=32 streams/s", ast32["rps"], None, note=spread(ast32))
    row("anthropic stream c=32 chunks/s", ast32["chunks_per_s"])
    row("anthropic stream c=32 CPU ms/stream", per_req("ast32"))
    row("anthropic stream CPU / chat's", _ratio(per_req("ast32"), per_req("st32")), None,
        "ast32_cpu_ratio")  # fmt: skip
    rns32, rst32 = p["rns32"], p["rst32"]
    row("responses non-stream c=32 req/s", rns32["rps"], None, note=spread(rns32))
    row("responses non-stream c=32 p50 ms", rns32["p50_ms"])
    row("responses non-stream c=32 p99 ms", rns32["p99_ms"])
    row("responses non-stream c=32 CPU ms/req", per_req("rns32"))
    row("responses non-stream CPU / chat's", _ratio(per_req("rns32"), per_req("ns32")), None,
        "rns32_cpu_ratio")  # fmt: skip
    row("responses stream c=32 streams/s", rst32["rps"], None, note=spread(rst32))
    row("responses stream c=32 chunks/s", rst32["chunks_per_s"])
    row("responses stream c=32 CPU ms/stream", per_req("rst32"))
    row("responses stream CPU / chat's", _ratio(per_req("rst32"), per_req("st32")), None,
        "rst32_cpu_ratio")  # fmt: skip
    s = r["start"]
    row("start to ready s (process A)", s["ready_s_a"], None, "ready_s")
    row("start to ready s (process B)", s["ready_s_b"], None, "ready_s")
    row("idle RSS MB, tokenizer loaded (A)", s["idle_rss_mb_a"], None, "idle_rss_tokenizer_mb",
        note="the default: o200k_base loads right after start")  # fmt: skip
    row("idle RSS MB, USAGE_TOKENIZER=estimate (B)", s["idle_rss_mb_b"], None, "idle_rss_mb")
    row("1st non-stream request ms", s["first_nonstream_ms"], note="after a stream (process A)")
    row("start to ready s (process C)", s["ready_s_c"], None, "ready_s")
    c1, c2, c3 = s["first_requests_ms_c"]
    row("1st request right after ready ms (C)", c1, note="a fresh process; non-stream")
    row("2nd and 3rd request ms (C)", f"{c2:g} / {c3:g}")
    w = r["workers2"]["ns32"]
    row("WORKERS=2 non-stream c=32 req/s", w["rps"], None, note=spread(w))
    row("WORKERS=2 non-stream c=32 CPU ms/req", w["proxy_cpu_ms_per_req"], None,
        note=f"all processes; busy {w['proxy_cpu_util']:.0%} of one core")  # fmt: skip
    row("WORKERS=2 / one worker (req/s)", _ratio(w["rps"], ns32["rps"]), None,
        note="same run; load generator and fake upstream share the 2 cores")  # fmt: skip
    m = r["streams"]
    lost = m["requested"] - m["completed"]
    row(f"{m['requested']:,} slow streams completed", m["completed"], None, note=f"{lost} lost")
    row(f"{m['requested']:,} slow streams max open at once", m["max_open"],
        m["upstream_max_open"], note="direct = seen open at the upstream")  # fmt: skip
    row(f"{m['requested']:,} streams peak RSS MB (VmHWM)", m["hwm_mb"], None, "streams_hwm_mb",
        value=m["hwm_mb"] if lost == 0 and m["max_open"] == m["requested"] else 1e9,
        note="PASS needs none lost and all open at once")  # fmt: skip
    row(f"{m['requested']:,} streams RSS MB when all open", m["rss_all_open_mb"])
    row(f"{m['requested']:,} streams RSS MB after they ended", m["rss_after_mb"])
    row(f"{m['requested']:,} streams proxy CPU ms/stream", m["cpu_ms_per_stream"])
    return rows


def print_table(rows: list[dict], r: dict) -> None:
    head = ("metric", "proxy", "direct", "target", "")
    widths = (42, 10, 10, 8, 4)
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(head, widths, strict=False))
    )
    print(line)
    print("-" * len(line))
    for row in rows:
        cells = (row["metric"], fmt(row["proxy"]), fmt(row["direct"]), row["target"],
                 row["verdict"])  # fmt: skip
        text = "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )
        print(text + (f"   ({row['note']})" if row["note"] else ""))
    util = {f"{t}/{ph}": r[t][ph]["client_cpu_util"] for t in ("proxy", "direct")
            for ph in ("ns1", "ns32", "st32", "st1")}  # fmt: skip
    busy = [k for k, v in util.items() if v and v > 0.95]
    print(
        "\nload generator CPU use per phase: "
        + ", ".join(f"{k} {v:.0%}" for k, v in util.items())
        + (f"\n  saturated (numbers may be client-bound): {', '.join(busy)}" if busy else "")
    )
    errors = {f"{t}/{ph}": r[t][ph]["errors"] for t in ("proxy", "direct")
              for ph in ("ns1", "ns32", "st32", "st1") if r[t][ph]["errors"]}  # fmt: skip
    print(f"errors during phases: {errors or 'none'}")
    misses = [" ".join(row["metric"].split()) for row in rows if row["verdict"] == "MISS"]
    print(f"targets missed: {len(misses)}" + (": " + "; ".join(misses) if misses else ""))


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per phase run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (median kept)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each phase")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent slow streams")
    parser.add_argument("--slow-hold", type=float, default=5.0, help="slow bot holds, seconds")
    parser.add_argument("--json", metavar="FILE", help="write all results as JSON")
    parser.add_argument("--profile", metavar="DIR", help="also py-spy the proxy under load")
    parser.add_argument("--proxy-env", action="append", default=[], metavar="K=V",
                        help="extra environment for the proxy (repeatable)")  # fmt: skip
    args = parser.parse_args()
    raise_nofile()  # the proxy inherits it: 1,000 client + 1,000 upstream sockets
    extra_env = dict(item.split("=", 1) for item in args.proxy_env)
    procs = Procs()
    results: dict = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_model": _cpu_model(),
        },
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "proxy": {},
        "direct": {},
    }
    config_dir = tempfile.mkdtemp(prefix="poe2openai-bench-")
    try:
        upstream, up_port = start_upstream(procs, args.slow_hold)
        up_url = f"http://127.0.0.1:{up_port}"

        log("== process A: start, idle RSS, throughput")
        proxy, url, ready_a = start_proxy(procs, up_port, config_dir, extra_env)
        # The tokenizer loads in the background right after start (~0.5 s): idle is measured
        # once it has.
        time.sleep(3)
        idle_a = mem_mb(proxy.pid)["rss_mb"]
        first_ns = check_answers(url)
        pids = [proxy.pid, upstream.pid]
        phases = {
            "ns1": {"concurrency": 1},
            "ns32": {"concurrency": 32},
            "st32": {"concurrency": 32, "stream": True},
            "st1": {"concurrency": 1, "stream": True},
            # The Anthropic and Responses fronts on the same proxy ("direct" stays the Poe
            # upstream).
            "ans32": {"concurrency": 32, "front": "anthropic"},
            "ast32": {"concurrency": 32, "stream": True, "front": "anthropic"},
            "rns32": {"concurrency": 32, "front": "responses"},
            "rst32": {"concurrency": 32, "stream": True, "front": "responses"},
        }
        for name, kw in phases.items():
            kw = dict(kw)
            front = kw.pop("front", "proxy")
            runs: dict[str, list[dict]] = {"proxy": [], "direct": []}
            for i in range(args.repeat):
                for target, base in (("proxy", url), ("direct", up_url)):
                    if target == "direct" and front != "proxy":
                        continue  # the upstream called directly is the chat phases' direct
                    log(f"   {name} {target} run {i + 1}/{args.repeat}")
                    res = load(base, front if target == "proxy" else "upstream", pids=pids,
                               duration=args.duration, warmup=args.warmup, **kw)  # fmt: skip
                    res["cpu_proxy_s"] = res["cpu"].get(str(proxy.pid), 0.0)
                    res["cpu_upstream_s"] = res["cpu"].get(str(upstream.pid), 0.0)
                    runs[target].append(res)
            for target, found in runs.items():
                if found:
                    results[target][name] = pick_median(found)
        if args.profile:
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            log(f"   profiling with py-spy into {out}")
            results["profile"] = {
                "nonstream_c32": profile_phase(proxy.pid, url, out, "nonstream_c32",
                                               args.duration, concurrency=32),
                "stream_c32": profile_phase(proxy.pid, url, out, "stream_c32", args.duration,
                                            concurrency=32, stream=True),
            }  # fmt: skip
        procs.stop(proxy)

        log("== process W: WORKERS=2, non-stream c=32 (scaling over process A's one worker)")
        proxy, url, ready_w = start_proxy(procs, up_port, config_dir, {**extra_env, "WORKERS": "2"})
        time.sleep(3)  # each worker loads its tokenizer right after start
        for _ in range(4):
            request_ms(url)
        workers = [proxy.pid, *children(proxy.pid)]
        runs_w = []
        for i in range(args.repeat):
            log(f"   ns32 WORKERS=2 run {i + 1}/{args.repeat}")
            res = load(url, "proxy", pids=[*workers, upstream.pid], concurrency=32,
                       duration=args.duration, warmup=args.warmup)  # fmt: skip
            res["cpu_proxy_s"] = sum(res["cpu"].get(str(pid), 0.0) for pid in workers)
            runs_w.append(res)
        results["workers2"] = {"ready_s": round(ready_w, 3), "ns32": pick_median(runs_w)}
        procs.stop(proxy)

        log("== process C (fresh): the first requests right after ready")
        proxy, url, ready_c = start_proxy(procs, up_port, config_dir, extra_env)
        first_requests = [request_ms(url) for _ in range(3)]
        procs.stop(proxy)

        log(f"== process B (fresh, USAGE_TOKENIZER=estimate): {args.streams} slow streams")
        lean = {**extra_env, "USAGE_TOKENIZER": "estimate"}
        proxy, url, ready_b = start_proxy(procs, up_port, config_dir, lean)
        time.sleep(3)  # the database opens in the background after start (~0.5-1 s)
        idle_b = mem_mb(proxy.pid)["rss_mb"]
        res = load(url, "proxy", pids=[proxy.pid], model="slow", stream=True,
                   concurrency=args.streams, count=args.streams,
                   timeout=args.slow_hold + 60)  # fmt: skip
        time.sleep(0.3)
        after = mem_mb(proxy.pid)
        procs.stop(proxy)
        procs.stop(upstream)
        up_stats = json.loads(upstream.stderr.read()) if upstream.stderr else {}
        rss = res["rss"][str(proxy.pid)]
        results["streams"] = {
            "requested": args.streams,
            "completed": res["requests"],
            "errors": res["errors"],
            "error_samples": res["error_samples"],
            "max_open": res["max_open"],
            "upstream_max_open": up_stats.get("max_open_slow"),
            "hwm_mb": round(rss["hwm_kb"] / 1024, 1),
            "rss_all_open_mb": round((rss["at_all_open_kb"] or 0) / 1024, 1) or None,
            "rss_peak_sampled_mb": round(rss["peak_sampled_kb"] / 1024, 1),
            "rss_after_mb": after["rss_mb"],
            "cpu_ms_per_stream": round(res["cpu"][str(proxy.pid)] * 1000 / args.streams, 3),
            "elapsed_s": res["elapsed"],
            "ttfc_p50_ms": res["ttfc_p50_ms"],
            "ttfc_p99_ms": res["ttfc_p99_ms"],
        }
        results["start"] = {
            "ready_s_a": round(ready_a, 3),
            "ready_s_b": round(ready_b, 3),
            "idle_rss_mb_a": idle_a,
            "idle_rss_mb_b": idle_b,
            "first_nonstream_ms": round(first_ns * 1000, 1),
            "ready_s_c": round(ready_c, 3),
            "first_requests_ms_c": first_requests,
        }
    finally:
        procs.stop_all()
        shutil.rmtree(config_dir, ignore_errors=True)

    rows = build_rows(results)
    results["table"] = rows
    m = results["machine"]
    print(
        f"\npoe2openai benchmark  {results['date']}  {m['cpu_model']}, {m['affinity']} cores, "
        f"Python {m['python']}, one worker, 20-chunk answers, "
        f"phases {args.repeat} x {args.duration:g} s (median run shown)\n"
    )
    print_table(rows, results)
    if args.profile:
        for name, prof in results["profile"].items():
            summary = prof.get("profile", {})
            if "self_pct" not in summary:
                print(f"\nprofile {name}: {summary.get('error') or prof.get('error')}")
                continue
            print(f"\nprofile {name} ({summary['samples']} samples, {prof['file']}):")
            print("  by area (self): " + ", ".join(f"{k} {v}%" for k, v in summary["by_area_pct"]))
            print("  by layer: " + ", ".join(f"{k} {v}%" for k, v in summary["by_layer_pct"]))
            for frame, pct in summary["self_pct"][:12]:
                print(f"  self {pct:5.1f}%  {frame}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"\nresults written to {args.json}")


def _ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 3) if value and base else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
