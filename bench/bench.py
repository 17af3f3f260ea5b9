#!/usr/bin/env python3
"""Side-by-side benchmark of Pier against HAProxy, nginx and Varnish (started by bench/run).

Python 3 standard library only. One origin (nginx, two ports) and, per worker count, every proxy
under test are started as foreground children (each in its own session, stopped by PID); wrk drives
the load. For each measurement the proxy's CPU seconds (utime + stime of every process of its
session, from /proc) are read before and after, so results are requests per proxy CPU-second and
ratios paired with HAProxy within the same round. See bench/README.md.
"""

import argparse
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
import modes as M  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
NPROC = len(os.sched_getaffinity(0))
LABELS = {"pier": "Pier", "pier-base": "Pier (baseline)", "haproxy": "HAProxy", "nginx": "nginx",
          "varnish": "Varnish"}
BASE = "pier-base"  # --pier-base: a second Pier binary, run wherever Pier runs (a change's cost)


def runs(mode, proxy):
    """Whether `proxy` takes part in `mode` (the baseline Pier wherever Pier does)."""
    return proxy in mode.proxies or (proxy == BASE and "pier" in mode.proxies)
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


# --- processes ------------------------------------------------------------------------------------

RUNNING = []  # every Proc started and not yet stopped


def session_stats(sid, threads=None):
    """(pids, cpu seconds, RSS KiB) summed over every live process of session `sid`; the number
    of threads is added to threads[0] when a list is given."""
    pids, ticks, rss = [], 0, 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(b")") + 2:].split()
        if int(rest[3]) != sid:  # field 6: session id
            continue
        pids.append(int(d))
        ticks += int(rest[11]) + int(rest[12])  # fields 14, 15: utime, stime (all threads)
        rss += int(rest[21]) * PAGE_KIB  # field 24: resident pages
        if threads is not None:
            threads[0] += int(rest[17])  # field 20: number of threads
    return pids, ticks / CLK_TCK, rss


class Proc:
    """A foreground child in a session of its own (so its workers can be found and accounted)."""

    def __init__(self, name, argv, log_path, cpus=None, stdin=subprocess.DEVNULL,
                 stdout=None):
        self.name = name
        self.log_path = Path(log_path)
        self.logf = open(self.log_path, "ab")
        cmd = (["taskset", "-c", cpus] if cpus else []) + [str(a) for a in argv]
        self.cmd = cmd
        self.p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout or self.logf,
                                  stderr=self.logf, start_new_session=True)
        self.pid = self.p.pid  # taskset execs the command: same PID; session id == PID
        RUNNING.append(self)

    def alive(self):
        return self.p.poll() is None

    def stats(self):
        return session_stats(self.pid)

    def stop(self, grace=8.0):
        """SIGTERM to the leader, then SIGKILL to it and to any process left in its session,
        each by PID."""
        left = session_stats(self.pid)[0]
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            left = [p for p in session_stats(self.pid)[0] if p != self.pid]
            if not left:
                break
            time.sleep(0.1)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.logf.close()
        if self in RUNNING:
            RUNNING.remove(self)


def stop_all():
    for proc in reversed(list(RUNNING)):
        try:
            proc.stop(grace=5)
        except Exception as e:  # keep stopping the others
            print(f"bench: stopping {proc.name} (pid {proc.pid}): {e}", file=sys.stderr)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def http_get(port, path, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def wait_http(proc, port, path, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.p.returncode}; log "
                               f"{proc.log_path}:\n{tail(proc.log_path)}")
        try:
            status, _, _ = http_get(port, path, timeout=2)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not answering 200 on :{port}{path} ({last}); log "
                       f"{proc.log_path}:\n{tail(proc.log_path)}")


def tail(path, n=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def sh(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({e})"


# --- configs --------------------------------------------------------------------------------------

SLOTS = {"NGINX_HTTP", "NGINX_LOCATIONS", "HAPROXY_SECTIONS", "HAPROXY_FRONTEND",
         "HAPROXY_BACKENDS", "VCL_RECV", "PIER_TOP", "PIER_ROUTES"}


def render(template, values, fragments):
    text = (BENCH / template).read_text()
    # A slot is a line of its own holding {{SLOT}}: it receives the fragments, or nothing.
    text = re.sub(r"^\{\{(\w+)\}\}$",
                  lambda m: "\n".join(fragments.get(m.group(1), [])) if m.group(1) in SLOTS
                  else m.group(0), text, flags=re.M)
    for key, value in values.items():
        text = text.replace("{{%s}}" % key, str(value))
    left = re.findall(r"\{\{\w+\}\}", text)
    if left:
        raise RuntimeError(f"{template}: unfilled placeholders {sorted(set(left))}")
    return text


def fragments_for(proxy, modes):
    """The {slot: [text, ...]} of `proxy` over the selected modes, identical texts once."""
    out = {}
    for mode in modes:
        for slot, text in mode.fragments.get("pier" if proxy == BASE else proxy, {}).items():
            if text not in out.setdefault(slot, []):
                out[slot].append(text)
    return out


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = Path(a.tmp)
        self.pin = NPROC >= 2
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile[1], nofile[1]))
        except (ValueError, OSError):
            pass
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.values = {
            "TMP": self.tmp, "DOCROOT": self.tmp / "docroot", "NOFILE": self.nofile,
            "WORKER_CONNECTIONS": max(1024, min(16384, self.nofile - 200)),
            "MAXCONN": max(1024, min(10000, (self.nofile - 500) // 2)),
            "BODY100": "p" * 100,
        }
        self.modes = [M.BY_NAME[n] for n in a.modes if n in M.BY_NAME]
        self.memory = M.MEMORY_MODE in a.modes
        self.proxies = [p for p in M.ALL_PROXIES if p in a.proxies]
        if a.pier_base:
            self.proxies.insert(self.proxies.index("pier") + 1 if "pier" in self.proxies else 0, BASE)
        self.records, self.memory_records, self.problems = [], [], []
        self.logs = {}
        self.origin = None

    # where things run
    def load_cpus(self):
        return "0" if self.pin else None

    def proxy_cpus(self, workers):
        if not self.pin:
            return None
        return "1" if workers == 1 else f"0-{NPROC - 1}"

    # the origin
    def start_origin(self):
        docroot = self.tmp / "docroot"
        docroot.mkdir(parents=True, exist_ok=True)
        (docroot / "16k.bin").write_bytes(os.urandom(16384))
        (docroot / "1m.bin").write_bytes(os.urandom(1048576))
        for d in (self.tmp, docroot):
            os.chmod(d, 0o755)
        for f in docroot.iterdir():
            os.chmod(f, 0o644)
        o1, o2, st = free_ports(3)
        self.values.update(ORIGIN1=o1, ORIGIN2=o2, ORIGIN_STATUS=st)
        conf = self.tmp / "origin.conf"
        conf.write_text(render("nginx-origin.conf", self.values, {}))
        self.origin = Proc("origin", ["nginx", "-e", "stderr", "-p", f"{self.tmp}/", "-c", conf],
                           self.tmp / "origin.log", cpus=self.load_cpus())
        for port in (o1, o2):
            wait_http(self.origin, port, "/100b")
        log(f"origin nginx on :{o1} and :{o2} (pid {self.origin.pid})")
        self.start_redis()

    # Redis for Pier's tiered cache (the cache modes' fragments name it); on the load CPU, as a
    # fleet's shared Redis runs beside the proxies, not inside them.
    def start_redis(self):
        port = free_ports(1)[0]
        self.values.update(REDIS_PORT=port)
        self.redis = Proc("redis", ["redis-server", "--port", port, "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--maxmemory", "256mb",
                                    "--maxmemory-policy", "allkeys-lru", "--dir", self.tmp],
                          self.tmp / "redis.log", cpus=self.load_cpus())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                  text=True)
            if ping.stdout.strip() == "PONG":
                log(f"redis-server on :{port} (pid {self.redis.pid})")
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start; see redis.log")

    def origin_requests(self):
        _, _, body = http_get(self.values["ORIGIN_STATUS"], "/status")
        return int(body.decode().splitlines()[2].split()[2])

    # the proxies
    def start_proxy(self, proxy, workers):
        port = free_ports(1)[0]
        values = dict(self.values, PORT=port, WORKERS=workers)
        frags = fragments_for(proxy, self.modes)
        tag = f"{proxy}-w{workers}-{port}"
        cpus = self.proxy_cpus(workers)
        logf = self.tmp / f"{tag}.log"
        if proxy in ("pier", BASE):
            binary = self.a.pier if proxy == "pier" else self.a.pier_base
            conf = self.tmp / f"{tag}.yaml"
            conf.write_text(render("pier.yaml", values, frags))
            check = subprocess.run([binary, "--check", conf], capture_output=True, text=True)
            if check.returncode != 0:
                raise RuntimeError(f"pier --check {conf}:\n{check.stdout}{check.stderr}")
            argv = [binary, "--config", conf, "--log-level", "warn"]
        elif proxy == "haproxy":
            conf = self.tmp / f"{tag}.cfg"
            conf.write_text(render("haproxy.cfg", values, frags))
            argv = ["haproxy", "-db", "-f", conf]
        elif proxy == "nginx":
            conf = self.tmp / f"{tag}.conf"
            conf.write_text(render("nginx-proxy.conf", values, frags))
            argv = ["nginx", "-e", "stderr", "-p", f"{self.tmp}/", "-c", conf]
        elif proxy == "varnish":
            conf = self.tmp / f"{tag}.vcl"
            conf.write_text(render("varnish.vcl", values, frags))
            argv = ["varnishd", "-F", "-j", "none", "-n", self.tmp / f"{tag}-varnish",
                    "-a", f"127.0.0.1:{port}", "-f", conf, "-T", "none", "-s", "malloc,512m",
                    "-p", f"thread_pools={workers}", "-p", "timeout_idle=60"]
        else:
            raise ValueError(proxy)
        proc = Proc(tag, argv, logf, cpus=cpus)
        probe = M.MEMORY_PATHS["pier" if proxy == BASE else proxy]
        wait_http(proc, port, probe, timeout=60)
        proc.port, proc.proxy, proc.workers, proc.conf = port, proxy, workers, conf
        log(f"{LABELS[proxy]} with {workers} worker(s) on :{port} (pid {proc.pid}, "
            f"cpus {cpus or 'any'})")
        return proc

    def stop_proxy(self, proc):
        if not proc.alive() and proc.p.returncode not in (0, None):
            self.problems.append(f"{LABELS[proc.proxy]}, {proc.workers} worker(s): had exited "
                                 f"with status {proc.p.returncode} before the harness stopped it")
        proc.stop()
        lines = Path(proc.log_path).read_text(errors="replace").splitlines()
        self.logs.setdefault(proc.proxy, []).extend(
            f"[{proc.workers} worker(s)] {line}" for line in lines if line.strip())

    def check_path(self, proc, mode):
        """The proxy answers the mode's path with 200 and the expected body (twice, so a cache
        has it). Returns None or a problem."""
        for _ in range(2):
            try:
                status, _, body = http_get(proc.port, mode.path)
            except OSError as e:
                return f"{e}"
            if status != 200 or len(body) != mode.body:
                return f"status {status}, {len(body)} body bytes (expected 200, {mode.body})"
        return None

    # measurements
    def wrk(self, port, mode, seconds):
        cmd = (["taskset", "-c", self.load_cpus()] if self.pin else []) + [
            "wrk", "-t", "1", "-d", f"{seconds}s", "-s", str(BENCH / "wrk-report.lua"),
            *mode.wrk, f"http://127.0.0.1:{port}{mode.path}"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        for line in p.stdout.splitlines():
            if line.startswith("BENCH-JSON "):
                return json.loads(line[len("BENCH-JSON "):])
        raise RuntimeError(f"wrk gave no summary (exit {p.returncode}): {p.stdout}{p.stderr}")

    def measure(self, proc, mode, rnd):
        where = f"{LABELS[proc.proxy]}, {mode.name}, {proc.workers} worker(s), round {rnd}"
        if not proc.alive():
            return None
        o0 = self.origin_requests()
        _, c0, _ = proc.stats()
        t0 = time.monotonic()
        try:
            w = self.wrk(proc.port, mode, self.a.duration)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self.problems.append(f"{where}: {e}")
            w = None
        if not proc.alive():
            self.problems.append(f"{where}: {LABELS[proc.proxy]} exited with status "
                                 f"{proc.p.returncode} during the measurement; its log ends:\n"
                                 f"```\n{tail(proc.log_path)}\n```")
            return None
        if w is None:
            return None
        t1 = time.monotonic()
        _, c1, _ = proc.stats()
        o1 = self.origin_requests()
        reqs = w["requests"]
        secs = w["duration_us"] / 1e6
        cpu = c1 - c0
        rec = {
            "workers": proc.workers, "round": rnd, "mode": mode.name, "proxy": proc.proxy,
            "requests": reqs, "seconds": round(secs, 3), "rps": reqs / secs if secs else 0,
            "cpu_s": round(cpu, 3), "req_per_cpu_s": reqs / cpu if cpu > 0 else None,
            "cpu_us_per_req": cpu * 1e6 / reqs if reqs else None,
            "proxy_cpu_util": cpu / (t1 - t0),
            "p50_ms": w["p50_us"] / 1000, "p90_ms": w["p90_us"] / 1000,
            "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
            "bytes_per_resp": w["bytes"] / reqs if reqs else None,
            "origin_req_per_req": (o1 - o0 - 1) / reqs if reqs else None,
            "errors": {k[4:]: w[k] for k in w if k.startswith("err_")},
        }
        self.records.append(rec)
        for problem in check_record(rec):
            log(f"PROBLEM {problem}")
        return rec

    def memory_one(self, proxy, workers):
        proc = self.start_proxy(proxy, workers)
        try:
            path = M.MEMORY_PATHS["pier" if proxy == BASE else proxy]
            warm = M.Mode("memory-warmup", "", path, 0, wrk=("-c", "16"))
            self.wrk(proc.port, warm, 1)
            time.sleep(1.0)
            th0 = [0]
            _, _, rss0 = session_stats(proc.pid, th0)
            holder = Proc(f"idle-conns-{proxy}", [sys.executable, BENCH / "idle_conns.py",
                                                  "--port", proc.port, "--path", path,
                                                  "--count", M.MEMORY_CONNECTIONS],
                          self.tmp / "idle_conns.log", cpus=self.load_cpus(),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            try:
                ready = holder.p.stdout.readline().decode().split()
                if not ready or ready[0] != "ready":
                    raise RuntimeError(f"idle_conns.py: {ready} {tail(holder.log_path)}")
                opened, ok, errors = map(int, ready[1:])
                time.sleep(self.a.settle)
                th1 = [0]
                _, _, rss1 = session_stats(proc.pid, th1)
                holder.p.stdin.write(b"check\n")
                holder.p.stdin.flush()
                still_open = int(holder.p.stdout.readline().decode().split()[1])
                holder.p.stdin.write(b"close\n")
                holder.p.stdin.flush()
                holder.p.wait(timeout=30)
            finally:
                holder.stop()
            per = (rss1 - rss0) / still_open if still_open else None
            rec = {"proxy": proxy, "workers": workers, "connections": opened, "ok": ok,
                   "errors": errors, "still_open": still_open, "rss_before_kib": rss0,
                   "rss_after_kib": rss1, "kib_per_conn": per,
                   "threads_before": th0[0], "threads_after": th1[0]}
            self.memory_records.append(rec)
            log(f"memory {LABELS[proxy]} w{workers}: {rss0} -> {rss1} KiB over {still_open} "
                f"idle connections = {per if per is None else round(per, 2)} KiB each")
            if errors or still_open != M.MEMORY_CONNECTIONS:
                self.problems.append(f"{LABELS[proxy]}, memory, {workers} worker(s): {ok} of "
                                     f"{M.MEMORY_CONNECTIONS} requests answered 2xx, {errors} "
                                     f"failed, {still_open} connections still open after "
                                     f"{self.a.settle:g} s")
        finally:
            self.stop_proxy(proc)

    # the run
    def run(self):
        self.start_origin()
        for workers in self.a.workers:
            todo = [(m, p) for m in self.modes for p in self.proxies if runs(m, p)]
            needed = [p for p in self.proxies if any(p == q for _, q in todo)]
            procs = {}
            try:
                for p in needed:
                    try:
                        procs[p] = self.start_proxy(p, workers)
                    except RuntimeError as e:
                        self.problems.append(f"{LABELS[p]}, {workers} worker(s): did not start: "
                                             f"{e}")
                        log(f"START FAILED {p}: {e}")
                ok = []
                for mode, p in todo:
                    if p not in procs:
                        continue
                    problem = self.check_path(procs[p], mode)
                    if problem:
                        self.problems.append(f"{LABELS[p]}, {mode.name}, {workers} worker(s): "
                                             f"check of {mode.path} failed: {problem}; not measured")
                        log(f"CHECK FAILED {p} {mode.name}: {problem}")
                    else:
                        ok.append((mode, p))
                log(f"warm-up ({self.a.warmup} s each) with {workers} worker(s)")
                for mode, p in ok:
                    try:
                        self.wrk(procs[p].port, mode, self.a.warmup)
                    except (RuntimeError, subprocess.TimeoutExpired) as e:
                        log(f"warm-up of {p} {mode.name}: {e}")
                for rnd in range(1, self.a.rounds + 1):
                    for mode in self.modes:
                        line = []
                        for m2, p in ok:
                            if m2 is mode:
                                r = self.measure(procs[p], mode, rnd)
                                line.append(f"{p} failed" if r is None else
                                            f"{p} {r['rps']:.0f} req/s "
                                            f"{r['req_per_cpu_s'] or 0:.0f}/cpu-s")
                        log(f"w{workers} round {rnd} {mode.name}: " + "; ".join(line))
            finally:
                for proc in procs.values():
                    self.stop_proxy(proc)
            # --quick measures memory with the first worker count only
            if self.memory and not (self.a.quick and workers != self.a.workers[0]):
                for p in self.proxies:
                    try:
                        self.memory_one(p, workers)
                    except (RuntimeError, OSError, ValueError, IndexError,
                            subprocess.TimeoutExpired) as e:
                        self.problems.append(f"{LABELS[p]}, memory, {workers} worker(s): {e}")
                        log(f"MEMORY FAILED {p}: {e}")


# --- report ---------------------------------------------------------------------------------------

def check_record(rec):
    """What looks wrong in one measurement: socket errors, non-2xx, a response size that does not
    fit the body, an origin request count that does not fit the mode."""
    mode = M.BY_NAME.get(rec["mode"])
    if mode is None:
        return []
    out = []
    where = (f"{LABELS[rec['proxy']]}, {rec['mode']}, {rec['workers']} worker(s), "
             f"round {rec['round']}")
    reqs = rec["requests"]
    if reqs == 0:
        return [f"{where}: no request completed"]
    errs = {k: v for k, v in rec["errors"].items() if v}
    if errs:
        what = ", ".join(f"{v} {'non-2xx/3xx' if k == 'status' else k + ' error(s)'}"
                         for k, v in errs.items())
        out.append(f"{where}: {what} out of {reqs} requests")
    # wrk's byte count includes the partial responses in flight when it stops
    conns = int(mode.wrk[mode.wrk.index("-c") + 1]) if "-c" in mode.wrk else 10
    in_flight = conns / reqs
    b = rec["bytes_per_resp"]
    if b is not None and not (mode.body < b < (mode.body + 2048) * (1 + in_flight)):
        out.append(f"{where}: {b:.0f} bytes per response read by wrk (body is {mode.body})")
    # so do requests in flight: they reached the origin but wrk did not count them
    share = rec["origin_req_per_req"]
    if share is not None:
        cached = mode.name.startswith("cache")
        if (cached and share > 0.05) or (not cached and not 0.98 <= share <= 1.02 + in_flight):
            out.append(f"{where}: {share:.3f} origin requests per request")
    return out


def med_span(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}..{fmt(max(values))})"


def paired_ratios(records, mode, workers, proxy, ref, key="req_per_cpu_s"):
    by_round = {}
    for r in records:
        if r["mode"] == mode and r["workers"] == workers and r["proxy"] in (proxy, ref):
            by_round.setdefault(r["round"], {})[r["proxy"]] = r[key]
    out = []
    for pair in by_round.values():
        a, b = pair.get(proxy), pair.get(ref)
        if a is not None and b:
            out.append(a / b)
    return out


def median_of(records, mode, workers, proxy, key):
    vals = [r[key] for r in records if r["mode"] == mode and r["workers"] == workers
            and r["proxy"] == proxy and r[key] is not None]
    return statistics.median(vals) if vals else None


def n0(v):
    return f"{v:,.0f}"


def r2(v):
    return f"{v:.2f}×"


def ms(v):
    return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"


def report(data):
    meta, st = data["meta"], data["settings"]
    recs, mems = data["measurements"], data["memory"]
    modes = [M.BY_NAME[n] for n in st["modes"] if n in M.BY_NAME]
    proxies = st["proxies"]
    out = []
    w = out.append
    title = "Pier benchmark: side by side with HAProxy, nginx and Varnish"
    w(f"# {title}\n")
    if st["quick"]:
        w(f"> **Quick run** (`bench/run --quick`: {st['rounds']} round(s) of {st['duration']} s per "
          "measurement, a smoke test of the harness). Its figures are indicative only; run "
          "`bench/run` for the real comparison.\n")
    w(f"Generated {meta['date']} by `bench/run {' '.join(meta['argv'])}` in "
      f"{meta['elapsed_s'] / 60:.1f} min. Rerun: `bench/run` (full: about "
      f"{estimate(parse_args(FULL)) / 60:.0f} min) or `bench/run --quick` (about "
      f"{estimate(parse_args(FULL + ['--quick'])) / 60:.0f} min); see "
      "[bench/README.md](../README.md).\n")
    w("## Machine\n")
    w("| | |\n|---|---|")
    for k, v in meta["machine"].items():
        w(f"| {k} | {v} |")
    for k, v in meta["versions"].items():
        w(f"| {k} | {v} |")
    w("")
    w("## Method\n")
    pin = meta["pinning"]
    w(f"- One origin (nginx, 1 worker: `return 200` for 100 B, static 16 KiB and 1 MiB files, "
      "keep-alive) on two ports; every proxy balances round robin over both, keeps client "
      "connections alive and pools keep-alive connections upstream, with logging off. Configs: "
      "`bench/*.conf`, `bench/haproxy.cfg`, `bench/varnish.vcl`, `bench/pier.yaml` (fragments per "
      "mode in `bench/modes.py`).")
    w(f"- Pinning: {pin}")
    w(f"- wrk (1 thread) drives each measurement for {st['duration']} s after a {st['warmup']} s "
      f"warm-up per proxy and mode; the proxies run A B C, A B C, ... within each mode for "
      f"{st['rounds']} round(s). Figures are medians over rounds with (min..max).")
    w("- **req per CPU-s** = requests completed / the proxy's CPU seconds (utime + stime of all its "
      "processes and threads, from `/proc/PID/stat`) over the measurement: requests per second "
      "per proxy core. **vs HAProxy** is that figure divided by HAProxy's in the same round "
      "(paired, so machine noise mostly cancels); the machine is shared and noisy, so read "
      "ratios, not absolute rates. **CPU** is the proxy's CPU use during the measurement "
      "(100% = one core busy): below 100% with 1 worker, the load side (wrk and the origin "
      "sharing CPU 0) is the bottleneck, so the proxies are compared below saturation. "
      "**to origin** counts origin requests per request (origin "
      "stub_status): 1 for pass-through, ~0 for a cache hit.")
    w("- 2 workers: the machine cannot give two whole cores to the proxy without sharing them "
      "with wrk and the origin, so 2-worker runs are judged by CPU cost per request, not req/s.")
    w(f"- Memory: each proxy is started afresh, warmed up for 1 s, then "
      f"{M.MEMORY_CONNECTIONS:,} connections each send one request, read the response and stay "
      f"idle; after {st['settle']:g} s the proxy's RSS (summed over its processes) is read again. "
      "KiB per connection = RSS growth / connections still open.")
    w(f"- {M.VARNISH_NOTE} Its worker count is `thread_pools`.")
    w("")

    # targets
    w("## Targets (1 worker unless noted; paired ratios from this run)\n")
    w("| target | figure | result |\n|---|---|---|")

    def target(text, figure, met):
        w(f"| {text} | {figure} | {'met' if met else '**missed**'} |" if met is not None
          else f"| {text} | {figure} | – |")

    have = lambda p: p in proxies  # noqa: E731
    for name, goal in (("pass-100", 1.25), ("pass-16k", 1.25), ("pass-1m", 1.25)):
        if name not in st["modes"] or not (have("pier") and have("haproxy")):
            continue
        rs = paired_ratios(recs, name, 1, "pier", "haproxy")
        if 1 not in st["workers"] or not rs:
            target(f"{name}: req per CPU-s ≥ {goal}× HAProxy", "not measured", None)
            continue
        m = statistics.median(rs)
        target(f"{name}: req per CPU-s ≥ {goal}× HAProxy", med_span(rs, r2), m >= goal)
        if name == "pass-100":
            ps = paired_ratios(recs, name, 1, "pier", "haproxy", key="p99_ms")
            if ps:
                pp = median_of(recs, name, 1, "pier", "p99_ms")
                ph = median_of(recs, name, 1, "haproxy", "p99_ms")
                target("pass-100: p99 latency ≤ HAProxy's (same 64 clients)",
                       f"{ms(pp)} vs {ms(ph)}: {med_span(ps, r2)}", statistics.median(ps) <= 1.0)
    for name in ("cache-100", "cache-16k", "cache-100-tiered"):
        if name not in st["modes"] or 1 not in st["workers"] or not have("pier"):
            continue
        for ref, goal in (("haproxy", 1.0), ("varnish", 2.0)):
            if not have(ref):
                continue
            rs = paired_ratios(recs, name, 1, "pier", ref)
            what = "HAProxy's cache" if ref == "haproxy" else "Varnish"
            if not rs:
                target(f"{name}: req per CPU-s ≥ {goal:g}× {what}", "not measured", None)
                continue
            target(f"{name}: req per CPU-s ≥ {goal:g}× {what}", med_span(rs, r2),
                   statistics.median(rs) >= goal)
    # The limiter's cost: Pier's paired ratio to HAProxy with a never-refusing limit, against
    # the same ratio without one (pass-100).
    base = paired_ratios(recs, "pass-100", 1, "pier", "haproxy") if have("haproxy") else []
    for name, goal in (("rate-local", 0.03), ("rate-redis", None), ("pass-100-logged", 0.05)):
        if name not in st["modes"] or not have("pier") or 1 not in st["workers"]:
            continue
        rs = paired_ratios(recs, name, 1, "pier", "haproxy") if have("haproxy") else []
        what = "the access log" if name == "pass-100-logged" else "the limiter"
        text = f"{name}: req per CPU-s lost to {what} vs pass-100" + \
            (f" < {goal:.0%}" if goal else " (reported)")
        if not rs or not base:
            target(text, "not measured (needs pass-100 and HAProxy in the run)", None)
            continue
        cost = 1 - statistics.median(rs) / statistics.median(base)
        figure = f"{cost:+.1%} ({statistics.median(rs):.2f}× vs {statistics.median(base):.2f}× HAProxy)"
        target(text, figure, cost < goal if goal else None)
    for mem in mems:
        if mem["proxy"] == "pier" and mem["kib_per_conn"] is not None:
            target(f"≤ 1 KiB RSS per idle keep-alive connection ({mem['workers']} worker(s))",
                   f"{mem['kib_per_conn']:.2f} KiB", mem["kib_per_conn"] <= 1.0)
    if 1 in st["workers"] and 2 in st["workers"] and have("pier"):
        for name in ("pass-100", "new-conn"):
            if name not in st["modes"]:
                continue
            c1 = median_of(recs, name, 1, "pier", "cpu_us_per_req")
            c2 = median_of(recs, name, 2, "pier", "cpu_us_per_req")
            if c1 and c2:
                others = []
                for p in ("haproxy", "nginx"):
                    o1, o2 = median_of(recs, name, 1, p, "cpu_us_per_req"), \
                        median_of(recs, name, 2, p, "cpu_us_per_req")
                    if o1 and o2:
                        others.append(f"{LABELS[p]} {o2 / o1 - 1:+.0%}")
                ref = f"; for reference {', '.join(others)}" if others else ""
                target(f"{name}: CPU-s per request with 2 workers within 10% of 1 worker's",
                       f"{c2:.1f} vs {c1:.1f} µs/req ({c2 / c1 - 1:+.1%}){ref}", c2 / c1 <= 1.10)
    if BASE in proxies and "pier" in proxies:
        w("")
        w("## Pier against its baseline (req per CPU-s, paired per round)\n")
        w("| mode | workers | Pier ÷ baseline |\n|---|---|---|")
        for mode in modes:
            for workers in st["workers"]:
                rs = paired_ratios(recs, mode.name, workers, "pier", BASE)
                if rs:
                    w(f"| {mode.name} | {workers} | {med_span(rs, r2)} |")
        for mem in mems:
            if mem["proxy"] == BASE:
                new = [m for m in mems if m["proxy"] == "pier" and m["workers"] == mem["workers"]]
                if new and new[0]["kib_per_conn"] is not None and mem["kib_per_conn"] is not None:
                    w(f"| memory | {mem['workers']} | {new[0]['kib_per_conn']:.2f} vs "
                      f"{mem['kib_per_conn']:.2f} KiB per idle connection |")
    w("")

    # per mode
    w("## Results\n")
    for mode in modes:
        w(f"### {mode.name}: {mode.title}\n")
        w(f"`wrk -t 1 {shlex.join(mode.wrk)} http://127.0.0.1:PORT{mode.path}`\n")
        refs = [r for r in mode.ratio_to if r in proxies] + \
            ([BASE] if BASE in proxies and runs(mode, BASE) else [])
        head = ["proxy", "workers", "req/s", "req per CPU-s"] + \
            [f"vs {LABELS[r]}" for r in refs] + ["p50", "p99", "CPU", "to origin", "errors"]
        w("| " + " | ".join(head) + " |")
        w("|" + "---|" * len(head))
        for workers in st["workers"]:
            for p in proxies:
                if p in mode.pending:
                    w(f"| {LABELS[p]} | {workers} | n/a | n/a: {mode.pending[p]} |" +
                      " |" * (len(head) - 4))
                    continue
                if not runs(mode, p):
                    continue
                rs = [r for r in recs if r["mode"] == mode.name and r["workers"] == workers
                      and r["proxy"] == p]
                if not rs:
                    w(f"| {LABELS[p]} | {workers} | not measured (see problems) |" +
                      " |" * (len(head) - 3))
                    continue
                cells = [LABELS[p], str(workers), n0(statistics.median(r["rps"] for r in rs)),
                         med_span([r["req_per_cpu_s"] for r in rs], n0)]
                for ref in refs:
                    cells.append("1.00×" if ref == p else
                                 med_span(paired_ratios(recs, mode.name, workers, p, ref), r2))
                errs = sum(sum(r["errors"].values()) for r in rs)
                total = sum(r["requests"] for r in rs)
                cells += [ms(statistics.median(r["p50_ms"] for r in rs)),
                          ms(statistics.median(r["p99_ms"] for r in rs)),
                          f"{statistics.median(r['proxy_cpu_util'] for r in rs):.0%}",
                          f"{statistics.median(r['origin_req_per_req'] for r in rs):.2f}",
                          "0" if not errs else f"**{errs}** of {total:,}"]
                w("| " + " | ".join(cells) + " |")
        w("")
    pending = [f"- **{n}**: pending. {why}" for n, why in M.PENDING_MODES.items()]
    if pending:
        w("### Pending modes\n")
        out.extend(pending)
        w("")

    if mems:
        w("## Memory: RSS per idle keep-alive connection\n")
        w("| proxy | workers | connections held | still open | RSS before | RSS after | "
          "threads before → after | KiB per connection |\n|---|---|---|---|---|---|---|---|")
        for m in mems:
            per = "–" if m["kib_per_conn"] is None else f"{m['kib_per_conn']:.2f}"
            th = f"{m.get('threads_before', '?')} → {m.get('threads_after', '?')}"
            w(f"| {LABELS[m['proxy']]} | {m['workers']} | {m['connections']:,} | "
              f"{m['still_open']:,} | {m['rss_before_kib']:,} KiB | {m['rss_after_kib']:,} KiB | "
              f"{th} | **{per}** |")
        w("")
        w("RSS is summed over the proxy's processes (nginx: master and workers; Varnish: manager "
          "and child) and includes what they allocate at start (HAProxy: its 256 MB cache; "
          "Varnish: its storage and thread pools); only the growth is divided. Worker threads a "
          "proxy starts for the burst of 2,000 requests count as growth (the threads column).\n")

    w("## Problems seen\n")
    problems = list(data["problems"])
    for rec in recs:
        problems += check_record(rec)
    if problems:
        for p in problems:
            w(f"- {p}")
    else:
        w("- None: no socket errors, no non-2xx responses, every response of the expected size, "
          "every request reached the origin exactly once in pass-through modes.")
    for proxy, lines in data["logs"].items():
        if proxy == "pier":
            if lines:
                w(f"- Pier logged {len(lines)} line(s) at warn level or above, e.g.:")
                for line in lines[:5]:
                    w(f"  - `{line[:300]}`")
            else:
                w("- Pier logged nothing at warn level or above.")
        else:
            bad = [line for line in lines
                   if re.search(r"\b(alert|crit|emerg|error|\[ALERT\])", line, re.I)
                   and "Manager got SIGTERM" not in line]  # varnishd's normal stop
            if bad:
                w(f"- {LABELS[proxy]} logged {len(bad)} error line(s), e.g. `{bad[0][:300]}`")
    w("")
    w("Raw per-round data: [latest.json](latest.json).")
    return "\n".join(out) + "\n"


# --- main -----------------------------------------------------------------------------------------

def machine():
    cpu = "?"
    flags = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name") and cpu == "?":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    osname = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return {
        "CPU": cpu + (" (virtual machine)" if " hypervisor" in flags else ""),
        "CPUs (nproc)": NPROC,
        "memory": mem,
        "OS": osname,
        "kernel": platform.release(),
        "load average at start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def versions(pier):
    v = {"Pier": sh([pier, "--version"])}
    def first(cmd, pattern):
        text = sh(cmd) if shutil.which(cmd[0]) else ""
        m = re.search(pattern, text)
        return m.group(1) if m else (text.splitlines() or ["-"])[0]
    v["HAProxy"] = first(["haproxy", "-v"], r"HAProxy version (\S+)")
    v["nginx"] = first(["nginx", "-v"], r"nginx/(\S+)")
    v["Varnish"] = first(["varnishd", "-V"], r"varnish-(\S+)")
    v["wrk"] = first(["wrk", "-v"], r"wrk (\S+)")
    rev = sh(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    h = hashlib.sha256(Path(pier).read_bytes()).hexdigest()[:12]
    v["Pier binary"] = (f"commit {rev}{' + uncommitted changes' if dirty else ''}; "
                        f"binary sha256 {h}")
    return v


FULL = ["--pier", "pier", "--tmp", "/tmp"]  # parse_args(FULL): the default settings


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 round of 3 s per measurement, 1 s warm-up")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--duration", type=int, help="seconds per measurement")
    ap.add_argument("--warmup", type=int, help="seconds of warm-up per proxy and mode")
    ap.add_argument("--settle", type=float, help="seconds idle connections are held before RSS")
    ap.add_argument("--modes", default=",".join([m.name for m in M.MODES] + [M.MEMORY_MODE]))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--proxies", default=",".join(M.ALL_PROXIES))
    ap.add_argument("--pier", help="the Pier binary (bench/run copies it)")
    ap.add_argument("--pier-base", help="a second Pier binary run wherever Pier runs, reported "
                    "as Pier (baseline): what a change costs, paired round by round")
    ap.add_argument("--tmp", help="the run's temp dir (bench/run makes it)")
    ap.add_argument("--results", default=str(BENCH / "results"))
    ap.add_argument("--argv", default="", help="the command line, for the report")
    ap.add_argument("--report-only", metavar="JSON", help="render the Markdown from a JSON file")
    a = ap.parse_args(argv)
    if not a.report_only and not (a.pier and a.tmp):
        ap.error("--pier and --tmp are required (bench/run passes them)")
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.duration = a.duration or (3 if a.quick else 5)
    a.warmup = a.warmup or (1 if a.quick else 2)
    a.settle = a.settle or (1.0 if a.quick else 2.0)
    a.modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    a.workers = [int(x) for x in a.workers.split(",") if x.strip()]
    a.proxies = [p.strip() for p in a.proxies.split(",") if p.strip()]
    known = set(M.BY_NAME) | {M.MEMORY_MODE} | set(M.PENDING_MODES)
    for m in a.modes:
        if m not in known:
            ap.error(f"unknown mode {m!r} (known: {', '.join(sorted(known))})")
        if m in M.PENDING_MODES:
            print(f"bench: mode {m} is {M.PENDING_MODES[m]}", file=sys.stderr)
    for p in a.proxies:
        if p not in M.ALL_PROXIES:
            ap.error(f"unknown proxy {p!r} (known: {', '.join(M.ALL_PROXIES)})")
    if not a.workers or any(not 1 <= x <= 64 for x in a.workers):
        ap.error("--workers: a list of worker counts from 1 to 64")
    return a


def estimate(a):
    n = 0
    for m in a.modes:
        if m in M.BY_NAME:
            n += len([p for p in M.BY_NAME[m].proxies if p in a.proxies]) + \
                (1 if a.pier_base and "pier" in M.BY_NAME[m].proxies else 0)
    per_block = n * (a.rounds * (a.duration + 0.15) + a.warmup + 0.5) + 3
    mem = ((len(a.proxies) + bool(a.pier_base)) * (3 + a.settle)) if M.MEMORY_MODE in a.modes else 0
    return len(a.workers) * per_block + (1 if a.quick else len(a.workers)) * mem + 5


def main(argv):
    a = parse_args(argv)
    if a.report_only:
        data = json.loads(Path(a.report_only).read_text())
        sys.stdout.write(report(data))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log(f"plan: modes {','.join(a.modes)}; workers {a.workers}; proxies {','.join(a.proxies)}; "
        f"{a.rounds} round(s) of {a.duration} s; estimated {estimate(a) / 60:.1f} min")
    b = Bench(a)
    started = datetime.datetime.now(datetime.timezone.utc)
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "argv": a.argv.split(),
            "machine": machine(), "versions": versions(a.pier)}
    if a.pier_base:
        h = hashlib.sha256(Path(a.pier_base).read_bytes()).hexdigest()[:12]
        meta["versions"]["Pier (baseline)"] = f"{sh([a.pier_base, '--version'])}; binary sha256 {h}"
    if b.pin:
        meta["pinning"] = ("wrk and the origin on CPU 0; the proxy on CPU 1 with 1 worker, on "
                           f"CPUs 0-{NPROC - 1} (shared with the load) with 2 or more workers "
                           "(`taskset`).")
    else:
        meta["pinning"] = "none (the machine has one CPU): proxy, origin and wrk share it."
    try:
        b.run()
    finally:
        stop_all()
    meta["elapsed_s"] = time.monotonic() - T0
    meta["machine"]["load average at end"] = " ".join(
        Path("/proc/loadavg").read_text().split()[:3])
    settings = {k: getattr(a, k) for k in ("quick", "rounds", "duration", "warmup", "settle",
                                           "modes", "workers", "proxies")}
    settings["proxies"] = b.proxies
    data = {"meta": meta, "settings": settings, "measurements": b.records,
            "memory": b.memory_records, "problems": b.problems, "logs": b.logs}
    res = Path(a.results)
    res.mkdir(parents=True, exist_ok=True)
    (res / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
    (res / "latest.md").write_text(report(data))
    log(f"wrote {res / 'latest.md'} and {res / 'latest.json'} "
        f"({meta['elapsed_s'] / 60:.1f} min)")
    n = len(b.problems) + sum(len(check_record(r)) for r in b.records)
    if n:
        log(f"{n} problem(s) seen: see 'Problems seen' in latest.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
