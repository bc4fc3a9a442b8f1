#!/usr/bin/env python3
"""Load generator for scripts/bench: aiohttp on uvloop, in its own process, so the client's
cost never lands in the measured server. (An httpx client tops out near 400 req/s here and
would measure itself.)

Each of --concurrency workers sends requests back to back on its own keep-alive connection,
either for --duration seconds after --warmup seconds (fixed-duration), or --count requests in
total (fixed-count; warmup ignored). Prints one JSON object on stdout:

  requests, errors, elapsed, rps, p50_ms, p99_ms, mean_ms   (whole-response latency)
  ttfc_p50_ms, ttfc_p99_ms                                  (streams: time to first chunk)
  chunks, chunks_per_s                                      (streams: content chunks received)
  max_open                                                  (streams open at once)
  cpu: {pid: seconds}                                       (--watch-pid, over the window)
  client_cpu_util                                           (this process's CPU / wall time)
  rss: {pid: {peak_sampled_kb, hwm_kb, rss_kb}}             (--watch-pid)

--target proxy speaks OpenAI (`POST /v1/chat/completions`), --target anthropic the Anthropic
Messages API (`POST /v1/messages`), --target responses the OpenAI Responses API
(`POST /v1/responses`) to the same proxy, --target upstream speaks Poe
(`POST /bot/<model>`) so the same numbers can be had for the upstream called directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time

import aiohttp

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the whole line (1-based).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def mem_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return {"rss_kb": out.get("VmRSS", 0), "hwm_kb": out.get("VmHWM", 0)}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


class Spec:
    def __init__(self, args: argparse.Namespace) -> None:
        self.stream = args.stream
        base = args.url.rstrip("/")
        if args.target == "proxy":
            self.url = base + "/v1/chat/completions"
            body = {
                "model": args.model,
                "messages": [{"role": "user", "content": "hi"}],
                "stream": args.stream,
            }
            self.headers = {"authorization": "Bearer bench", "content-type": "application/json"}
            self.chunk_mark = b'"content":'  # one per content delta
            self.done_mark = b"data: [DONE]" if args.stream else None
        elif args.target == "anthropic":
            self.url = base + "/v1/messages"
            body = {
                "model": args.model,
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "hi"}],
                "stream": args.stream,
            }
            self.headers = {"x-api-key": "bench", "content-type": "application/json"}
            self.chunk_mark = b'"text_delta"'  # one per content delta
            self.done_mark = b"event: message_stop" if args.stream else None
        elif args.target == "responses":
            self.url = base + "/v1/responses"
            body = {"model": args.model, "input": "hi", "stream": args.stream}
            self.headers = {"authorization": "Bearer bench", "content-type": "application/json"}
            # In the data line only (the event line has no quotes): one per content delta.
            self.chunk_mark = b'"response.output_text.delta"'
            self.done_mark = b"event: response.completed" if args.stream else None
        else:
            self.url = f"{base}/bot/{args.model}"
            body = {
                "version": "1.2",
                "type": "query",
                "query": [{"role": "user", "content": "hi", "content_type": "text/markdown"}],
                "user_id": "",
                "conversation_id": "",
                "message_id": "",
            }
            self.headers = {
                "authorization": "Bearer bench",
                "content-type": "application/json",
                "accept": "text/event-stream",
            }
            self.chunk_mark = b"event: text"
            self.done_mark = b"event: done"
        self.body = json.dumps(body).encode()


class Run:
    def __init__(self) -> None:
        self.recording = False
        self.latencies: list[float] = []
        self.ttfcs: list[float] = []
        self.chunks = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.open = 0
        self.max_open = 0
        self.first_chunk_count = 0
        self.all_open_at: float | None = None

    def error(self, what: str) -> None:
        if self.recording:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(what)


async def one_request(session: aiohttp.ClientSession, spec: Spec, run: Run, expect: int) -> None:
    start = time.perf_counter()
    first: float | None = None
    chunks = 0
    done = False
    opened = False
    try:
        async with session.post(spec.url, data=spec.body, headers=spec.headers) as resp:
            if not spec.stream and spec.done_mark is None:
                body = await resp.read()
                if resp.status != 200:
                    run.error(f"HTTP {resp.status}: {body[:200]!r}")
                    return
                end = time.perf_counter()
                if run.recording:
                    run.latencies.append(end - start)
                return
            mark, done_mark = spec.chunk_mark, spec.done_mark
            keep = max(len(mark), len(done_mark)) - 1
            tail = b""
            async for data in resp.content.iter_any():
                window = tail + data
                found = window.count(mark)
                if found:
                    if first is None:
                        first = time.perf_counter()
                        run.open += 1
                        opened = True
                        run.max_open = max(run.max_open, run.open)
                        run.first_chunk_count += 1
                        if run.first_chunk_count == expect:
                            run.all_open_at = first
                    chunks += found
                if done_mark in window:
                    done = True
                tail = window[-keep:]
            end = time.perf_counter()
            if resp.status != 200:
                run.error(f"HTTP {resp.status}")
                return
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        run.error(f"{type(exc).__name__}: {exc}")
        return
    finally:
        if opened:
            run.open -= 1
    if not done or (spec.stream and first is None):
        run.error(f"incomplete stream: {chunks} chunks, done={done}")
        return
    if run.recording:
        run.latencies.append(end - start)
        run.ttfcs.append((first or end) - start)
        run.chunks += chunks


async def main_async(args: argparse.Namespace) -> dict:
    spec = Spec(args)
    run = Run()
    pids = args.watch_pid or []
    connector = aiohttp.TCPConnector(
        limit=args.concurrency, limit_per_host=args.concurrency, force_close=False
    )
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    rss_peak = dict.fromkeys(pids, 0)
    rss_at_all_open: dict[int, int] = {}
    sampling = True

    async def sample_rss() -> None:
        while sampling:
            for pid in pids:
                try:
                    rss_peak[pid] = max(rss_peak[pid], mem_kb(pid)["rss_kb"])
                except OSError:
                    pass
            if run.all_open_at is not None and not rss_at_all_open:
                for pid in pids:
                    rss_at_all_open[pid] = mem_kb(pid)["rss_kb"]
            await asyncio.sleep(0.02)

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("user-agent",)
    ) as session:
        sampler = asyncio.ensure_future(sample_rss())
        loop = asyncio.get_running_loop()
        if args.count:
            run.recording = True
            cpu0 = {pid: cpu_seconds(pid) for pid in pids}
            own0 = time.process_time()
            t0 = time.perf_counter()
            remaining = [args.count]

            async def worker_count() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    await one_request(session, spec, run, args.count)

            workers = [worker_count() for _ in range(min(args.concurrency, args.count))]
            await asyncio.gather(*workers)
            t1 = time.perf_counter()
            cpu1 = {pid: cpu_seconds(pid) for pid in pids}
            own1 = time.process_time()
        else:
            marks: dict[str, float | dict] = {}
            stop_at = loop.time() + args.warmup + args.duration

            def begin() -> None:
                run.recording = True
                marks["t0"] = time.perf_counter()
                marks["own0"] = time.process_time()
                marks["cpu0"] = {pid: cpu_seconds(pid) for pid in pids}

            def end() -> None:
                run.recording = False
                marks["t1"] = time.perf_counter()
                marks["own1"] = time.process_time()
                marks["cpu1"] = {pid: cpu_seconds(pid) for pid in pids}

            if args.warmup > 0:
                loop.call_later(args.warmup, begin)
            else:
                begin()
            loop.call_at(stop_at, end)

            async def worker_duration() -> None:
                while loop.time() < stop_at:
                    await one_request(session, spec, run, 0)

            await asyncio.gather(*(worker_duration() for _ in range(args.concurrency)))
            t0, t1 = marks["t0"], marks["t1"]
            own0, own1 = marks["own0"], marks["own1"]
            cpu0, cpu1 = marks["cpu0"], marks["cpu1"]
        sampling = False
        await sampler

    elapsed = t1 - t0
    n = len(run.latencies)

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 3)

    result = {
        "target": args.target,
        "model": args.model,
        "stream": args.stream,
        "concurrency": args.concurrency,
        "requests": n,
        "errors": run.errors,
        "error_samples": run.error_samples,
        "elapsed": round(elapsed, 3),
        "rps": round(n / elapsed, 1) if elapsed > 0 else None,
        "p50_ms": ms(percentile(run.latencies, 50)),
        "p99_ms": ms(percentile(run.latencies, 99)),
        "mean_ms": ms(sum(run.latencies) / n) if n else None,
        "client_cpu_util": round((own1 - own0) / elapsed, 3) if elapsed > 0 else None,
        "cpu": {str(pid): round(cpu1[pid] - cpu0[pid], 3) for pid in pids},
    }
    if args.stream or args.target == "upstream":
        result.update(
            ttfc_p50_ms=ms(percentile(run.ttfcs, 50)),
            ttfc_p99_ms=ms(percentile(run.ttfcs, 99)),
            chunks=run.chunks,
            chunks_per_s=round(run.chunks / elapsed, 1) if elapsed > 0 else None,
            max_open=run.max_open,
        )
    if pids:
        rss = {}
        for pid in pids:
            try:
                now = mem_kb(pid)
            except OSError:
                now = {"rss_kb": 0, "hwm_kb": 0}
            rss[str(pid)] = {
                "peak_sampled_kb": max(rss_peak[pid], now["rss_kb"]),
                "at_all_open_kb": rss_at_all_open.get(pid),
                **now,
            }
        result["rss"] = rss
    return result


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:<port>")
    parser.add_argument(
        "--target", choices=("proxy", "anthropic", "responses", "upstream"), default="proxy"
    )
    parser.add_argument("--model", default="bench")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--count", type=int, default=0, help="fixed-count run instead")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--watch-pid", type=int, action="append", help="CPU/RSS of this pid")
    args = parser.parse_args()
    host = args.url.split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        sys.exit("bench_load: refusing to load anything but 127.0.0.1")
    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
