"""`python -m benchmarks`: the gateway, the naive gateway and a hello world, measured in one run.

Starts the simulators, the gateway and the references as real processes on
127.0.0.1, runs the reference queries Q1-Q6 cold and warm, measures
throughput, pages through the large work area, prints the tables and writes
results.json, results.md and results.png. Every process started is stopped
at the end, whatever happens.

`python -m benchmarks workday` runs the workday scenario instead
(benchmarks.workday): readers under Sequence's rate limit.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import processes, queries, report, targets
from benchmarks.measure import (
    GraphQL,
    Paging,
    SampleSet,
    UpstreamStats,
    direct_pages,
    page_through,
    sample_cold,
    sample_warm,
    throughput,
)
from benchmarks.queries import SPECS, public

NOW = "2026-11-23T12:00:00Z"
GATEWAY_MODULE = "gateway"
NAIVE_MODULE = "benchmarks.baselines.naive"
HELLO_MODULE = "benchmarks.baselines.hello"
# Per-query order on the long-lived gateway; Q2 gets a fresh process per cold sample.
SHARED_PROCESS_QUERIES = ("Q1", "Q3", "Q4", "Q6")


@dataclass
class Plan:
    """How much to sample: the full run, or the smoke test's `--quick` one."""

    quick: bool
    cold: dict[str, int]
    warm: dict[str, int]
    naive_cold: dict[str, int]
    naive_warm: dict[str, int]
    concurrencies: tuple[int, ...] = (1, 16, 64)
    throughput_seconds: float = 3.0
    throughput_warm_round: bool = True
    naive_throughput: tuple[str, ...] = ("Q1",)
    naive_q5_pages: int = 5
    large: bool = True
    q5_pages: int | None = None
    large_result: dict[str, int] = field(default_factory=lambda: {"jobs": 10_000, "fields": 10, "repeats": 5})


def plan_for(args: argparse.Namespace) -> Plan:
    if args.quick:
        plan = Plan(
            quick=True,
            cold={"Q1": 2, "Q2": 1, "Q3": 2, "Q4": 2, "Q6": 2},
            warm={"Q1": 5, "Q2": 3, "Q3": 5, "Q4": 5, "Q6": 5},
            naive_cold={"Q1": 1, "Q2": 1, "Q3": 1, "Q4": 1, "Q6": 1},
            naive_warm={"Q1": 2, "Q2": 1, "Q3": 2, "Q4": 2, "Q6": 2},
            throughput_seconds=0.5,
            throughput_warm_round=False,
            naive_q5_pages=1,
            large=False,
            q5_pages=3,
            large_result={"jobs": 2_000, "fields": 10, "repeats": 1},
        )
    else:
        plan = Plan(
            quick=False,
            cold={"Q1": 20, "Q2": 5, "Q3": 10, "Q4": 8, "Q6": 10},
            warm={"Q1": 100, "Q2": 30, "Q3": 100, "Q4": 100, "Q6": 100},
            naive_cold={"Q1": 5, "Q2": 1, "Q3": 5, "Q4": 5, "Q6": 5},
            naive_warm={"Q1": 10, "Q2": 2, "Q3": 10, "Q4": 10, "Q6": 10},
        )
    if args.q5_pages is not None:
        plan.q5_pages = args.q5_pages
    if args.throughput_seconds is not None:
        plan.throughput_seconds = args.throughput_seconds
    if args.no_large:
        plan.large = False
    return plan


class Run:
    def __init__(self, args: argparse.Namespace, plan: Plan) -> None:
        self.args = args
        self.plan = plan
        self.fleet = processes.Fleet()
        self.latency_ms: float = args.latency_ms
        self.results: dict[str, Any] = {
            "meta": {
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "quick": plan.quick,
                "latency_ms": args.latency_ms,
                "jitter_ms": args.jitter_ms,
                "seed": args.seed,
                "now": args.now,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "concurrencies": list(plan.concurrencies),
                "throughput_seconds": plan.throughput_seconds,
                "plan": {"cold": plan.cold, "warm": plan.warm, "naive_cold": plan.naive_cold},
            },
            "queries": {
                name: {"title": spec.title, "text": spec.text, "formula": spec.formula, "ours": {}, "naive": {}}
                for name, spec in SPECS.items()
                if name != "Q5"
            },
            "throughput": {"ours": {}, "naive": {}, "hello": {}},
            "q5": {"formula": SPECS["Q5"].formula, "ours": {}, "naive": {}},
            "digest_challenges": {"ours": [], "naive": []},
            "notes": [],
        }

    def log(self, message: str) -> None:
        print(f"[bench {time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    # processes --------------------------------------------------------------
    def gateway_env(self) -> dict[str, str]:
        return self.sims.env | {
            "GATEWAY_HOST": processes.LOOPBACK,
            "GATEWAY_PORT": "0",
            # The simulators' limit is off; the gateway's own budget must not stand in for it.
            "SEQUENCE_RATE_LIMIT": "1000000",
        }

    async def start_graphql(self, server: str, module: str, args: list[str]) -> tuple[processes.Server, GraphQL, int]:
        """Start a gateway-like server, then prime it: its digest challenge and first connections.

        Returns the server, a client and the digest challenges it met while starting.
        """
        await self.stats.reset()
        process, url = processes.start_graphql_server(self.fleet, server, module, args, self.gateway_env())
        client = GraphQL(url)
        await client.run(queries.Q1, self.workload.prime)
        challenges = (await self.stats.read()).challenges
        self.results["digest_challenges"][server].append(challenges)
        return process, client, challenges

    async def stop_graphql(self, process: processes.Server, client: GraphQL) -> None:
        await client.aclose()
        self.fleet.stop(process)

    # phases -----------------------------------------------------------------
    def finish_samples(self, samples: SampleSet, variables: dict[str, Any]) -> dict[str, Any]:
        spec = SPECS[samples.query]
        if samples.phase == "cold":
            samples.min_calls = spec.min_calls(variables)
            samples.round_trips = spec.round_trips(variables)
            samples.critical_path_ms = samples.round_trips * self.latency_ms
        return samples.summary()

    async def queries_on(self, server: str, client: GraphQL, pid: int, names: tuple[str, ...], naive: bool) -> None:
        cold_counts = self.plan.naive_cold if naive else self.plan.cold
        warm_counts = self.plan.naive_warm if naive else self.plan.warm
        for name in names:
            spec = SPECS[name]
            variables = self.workload.cold[name][: cold_counts[name]]
            self.log(f"{server} {name}: {len(variables)} cold, {warm_counts[name]} warm")
            cold = await sample_cold(server, client, self.stats, pid, name, spec.text, variables)
            self.record(server, cold, variables[-1])
            warm = await sample_warm(server, client, self.stats, pid, name, spec.text, variables[-1], warm_counts[name])
            self.record(server, warm, variables[-1])
            if name == "Q1" and not naive:
                await self.throughput_series("ours", "Q1", client, pid, spec.text, variables[-1])
            if name in self.plan.naive_throughput and naive:
                await self.throughput_series("naive", name, client, pid, spec.text, variables[-1])

    def record(self, server: str, samples: SampleSet, variables: dict[str, Any]) -> None:
        summary = self.finish_samples(samples, variables)
        if samples.errors:
            self.results["notes"].append(
                f"{server} {samples.query} {samples.phase}: {len(samples.errors)} responses with errors,"
                f" e.g. {samples.errors[0]}"
            )
        self.results["queries"][samples.query][server][samples.phase] = summary

    async def throughput_series(
        self, server: str, name: str, client: GraphQL, pid: int, text: str, variables: dict[str, Any]
    ) -> None:
        payload = json.dumps({"query": text, "variables": public(variables) or None}).encode()
        series = []
        for concurrency in self.plan.concurrencies:
            await self.stats.reset()
            cpu = processes.cpu_seconds(pid)
            with processes.pinned(pid):
                point = await throughput(
                    client.url, payload, concurrency, self.plan.throughput_seconds, self.plan.throughput_warm_round
                )
            requests = point["requests"] + point["failed"]
            point["cpu_ms_per_request"] = (processes.cpu_seconds(pid) - cpu) * 1000 / requests if requests else None
            point["upstream_calls"] = (await self.stats.read()).calls
            self.log(f"{server} {name} c={concurrency}: {point['rps']:.0f} req/s")
            series.append(point)
        self.results["throughput"][server][name] = series

    async def q5_on(self, server: str, client: GraphQL, pid: int, naive: bool) -> None:
        q5 = self.workload.q5
        pages = q5["_pages"]
        if naive:
            asked = min(pages, self.plan.naive_q5_pages)
            self.log(f"naive Q5: {asked} of {pages} pages, extrapolated")
            paging = await page_through(server, client, self.stats, pid, "cold", q5["wa"], asked)
            self.results["q5"]["naive"]["cold"] = extrapolate(paging, pages).summary()
            return
        self.log(f"ours Q5: {pages} pages of work area {q5['wa']}, cold then warm")
        for phase in ("cold", "warm"):
            paging = await page_through(server, client, self.stats, pid, phase, q5["wa"], pages)
            if paging.errors:
                self.results["notes"].append(f"ours Q5 {phase}: {len(paging.errors)} errors, e.g. {paging.errors[0]}")
            self.log(f"ours Q5 {phase}: {paging.seconds:.2f} s, {paging.calls} calls")
            self.results["q5"]["ours"][phase] = paging.summary()

    async def q2_fresh_processes(self) -> None:
        """Each cold Q2 sample on a fresh gateway; warm samples and throughput on the last one."""
        merged = SampleSet("ours", "Q2", "cold")
        cpu, peaks = [], []
        count = self.plan.cold["Q2"]
        variables = self.workload.cold["Q2"]
        for index in range(count):
            self.log(f"ours Q2 cold {index + 1}/{count} on a fresh gateway")
            process, client, _ = await self.start_graphql("ours", GATEWAY_MODULE, ["serve"])
            try:
                samples = await sample_cold(
                    "ours", client, self.stats, process.pid, "Q2", queries.Q2, [variables[index]]
                )
                merged.latencies_ms += samples.latencies_ms
                merged.calls += samples.calls
                merged.challenges += samples.challenges
                merged.events_calls += samples.events_calls
                merged.errors += samples.errors
                cpu.append(samples.cpu_ms_per_request)
                peaks.append(samples.peak_rss_mb)
                if index == count - 1:
                    self.log(f"ours Q2 warm: {self.plan.warm['Q2']} samples, then throughput")
                    warm = await sample_warm(
                        "ours", client, self.stats, process.pid, "Q2", queries.Q2, variables[-1], self.plan.warm["Q2"]
                    )
                    self.record("ours", warm, variables[-1])
                    await self.throughput_series("ours", "Q2", client, process.pid, queries.Q2, variables[-1])
            finally:
                await self.stop_graphql(process, client)
        merged.cpu_ms_per_request = sum(cpu) / len(cpu)
        merged.peak_rss_mb = max(peaks)
        merged.note = "one fresh gateway process per cold sample"
        self.record("ours", merged, variables[0])

    async def ours(self) -> None:
        process, client, _ = await self.start_graphql("ours", GATEWAY_MODULE, ["serve"])
        try:
            await self.queries_on("ours", client, process.pid, SHARED_PROCESS_QUERIES, naive=False)
            await self.q5_on("ours", client, process.pid, naive=False)
        finally:
            await self.stop_graphql(process, client)
        await self.q2_fresh_processes()

    async def naive(self) -> None:
        try:
            process, client, _ = await self.start_graphql("naive", NAIVE_MODULE, [])
        except processes.ProcessError as exc:
            self.results["notes"].append(f"naive gateway not measured: {str(exc).splitlines()[0]}")
            self.log(f"naive gateway not measured: {exc}")
            return
        try:
            await self.queries_on("naive", client, process.pid, ("Q1", "Q2", "Q3", "Q4", "Q6"), naive=True)
            await self.q5_on("naive", client, process.pid, naive=True)
        finally:
            await self.stop_graphql(process, client)

    async def hello(self) -> None:
        try:
            process, url = processes.start_graphql_server(self.fleet, "hello", HELLO_MODULE, [], self.gateway_env())
        except processes.ProcessError as exc:
            self.results["notes"].append(f"hello world not measured: {str(exc).splitlines()[0]}")
            self.log(f"hello world not measured: {exc}")
            return
        client = GraphQL(url)
        try:
            _, body = await client.run(queries.HELLO)
            if body.get("errors") or "hello" not in (body.get("data") or {}):
                self.results["notes"].append(f"hello world answered {body!r}")
            await self.throughput_series("hello", "hello", client, process.pid, queries.HELLO, {})
        finally:
            await self.stop_graphql(process, client)

    async def large_result(self) -> None:
        """benchmarks.large_result.measure in a process of its own (its memory figures are its own)."""
        options = self.plan.large_result
        self.log(f"large result: {options['jobs']:,} jobs x {options['fields']} fields, {options['repeats']} repeats")
        code = (
            "import json, sys; from benchmarks.large_result import measure; "
            f"json.dump(measure(jobs={options['jobs']}, fields={options['fields']}, repeats={options['repeats']}),"
            " sys.stdout); print()"
        )
        server = self.fleet.start("large_result", [sys.executable, "-c", code], processes.clean_environment())
        try:
            returncode = await asyncio.to_thread(server.process.wait, 300)
        except subprocess.TimeoutExpired:
            self.results["large_result"] = {"error": "timed out after 300 s"}
            return
        finally:
            self.fleet.stop(server)
        stdout, stderr = server.lines("stdout"), server.lines("stderr")
        if returncode != 0:
            self.results["large_result"] = {"error": f"exit {returncode}: {(stderr or ['no output'])[-1]}"}
            return
        try:
            self.results["large_result"] = json.loads(stdout[-1])
        except (ValueError, IndexError):
            self.results["large_result"] = {"error": f"unreadable output {stdout[-3:]!r}"}

    async def main(self) -> None:
        self.started = time.monotonic()
        self.log(f"simulators: latency {self.args.latency_ms:g} +- {self.args.jitter_ms:g} ms, large={self.plan.large}")
        self.sims = processes.start_simulators(
            self.fleet,
            seed=self.args.seed,
            now=self.args.now,
            latency_ms=self.args.latency_ms,
            jitter_ms=self.args.jitter_ms,
            large=self.plan.large,
        )
        self.stats = UpstreamStats(self.sims.sequence_base, self.sims.gofilex_base)
        try:
            # Pick the data with no injected latency, then set it for the measurements.
            await self.stats.set_faults(latency_ms=0, jitter_ms=0)
            cold_needed = {name: max(self.plan.cold.get(name, 0), self.plan.naive_cold.get(name, 0)) for name in SPECS}
            self.workload = await asyncio.to_thread(
                queries.pick_workload,
                self.sims.env,
                seed=self.args.seed,
                now=self.args.now,
                cold=cold_needed,
                large=self.plan.large,
                q5_pages=self.plan.q5_pages,
            )
            await self.stats.set_faults(latency_ms=self.args.latency_ms, jitter_ms=self.args.jitter_ms)
            q5 = self.workload.q5
            self.results["q5"].update(
                work_area=q5["wa"],
                total_jobs=q5["_total"],
                pages=q5["_pages"],
                min_calls=SPECS["Q5"].min_calls(q5),
                critical_path_s=SPECS["Q5"].round_trips(q5) * self.latency_ms / 1000,
            )
            if self.plan.q5_pages is not None:
                self.results["notes"].append(f"Q5 limited to {q5['_pages']} pages (--q5-pages / --quick)")
            direct = await asyncio.to_thread(direct_pages, self.sims.env, q5["wa"], min(q5["_pages"], 10))
            direct["seconds_extrapolated"] = direct["p50_page_ms"] * q5["_pages"] / 1000
            self.results["q5"]["upstream_direct"] = direct
            await self.stats.reset()
            await self.ours()
            await self.naive()
            await self.hello()
            await self.large_result()
        finally:
            await self.stats.aclose()
            self.fleet.stop_all()
        self.results["meta"]["wall_seconds"] = time.monotonic() - self.started


def extrapolate(paging: Paging, pages: int) -> Paging:
    """`paging` scaled from the pages asked to `pages`, for the naive gateway's slow Q5."""
    asked = paging.pages
    if asked == 0 or asked >= pages:
        return paging
    factor = pages / asked
    paging.extrapolated_from = asked
    paging.seconds *= factor
    paging.calls = round(paging.calls * factor)
    paging.jobs = round(paging.jobs * factor)
    paging.pages = pages
    return paging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the gateway against a naive gateway and a hello world, all on 127.0.0.1."
        " `python -m benchmarks workday --help`: the workday scenario under Sequence's rate limit.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: few samples, small data, short windows")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="upstream latency per request (default 50)")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="uniform jitter around it (default 5)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="where results go")
    parser.add_argument("--seed", type=int, default=42, help="simulator data seed (default 42)")
    parser.add_argument("--now", default=NOW, help=f"the simulators' pinned clock (default {NOW})")
    parser.add_argument("--q5-pages", type=int, help="page Q5 only this far (default: to the end; 3 with --quick)")
    parser.add_argument("--throughput-seconds", type=float, help="length of each throughput window (default 3)")
    parser.add_argument("--no-large", action="store_true", help="no large work area: Q5 over the main one")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails (default: report only)")
    args = parser.parse_args(argv)
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be > 0: the targets are ratios to it")
    if args.q5_pages is not None and args.q5_pages < 1:
        parser.error("--q5-pages must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["workday"]:
        from benchmarks import workday

        return workday.main(argv[1:])
    args = parse_args(argv)
    plan = plan_for(args)
    processes.unwind_on_sigterm()
    run = Run(args, plan)
    try:
        asyncio.run(run.main())
    except KeyboardInterrupt:
        print("interrupted; every server started was stopped", file=sys.stderr)
        return 130
    finally:
        run.fleet.stop_all()
    evaluated = targets.evaluate(run.results)
    paths = report.write(run.results, evaluated, args.out)
    print(report.render_text(run.results, evaluated))
    print("wrote " + ", ".join(str(path) for path in paths.values()))
    failed = [target for target in evaluated if target.passed is False]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
