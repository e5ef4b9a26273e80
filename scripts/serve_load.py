#!/usr/bin/env python3
"""Load benchmark of `acctc serve` (docs/performance.md, "Serve under load").

In a network namespace of its own (removed at the end): applies a policy of N counters, starts
`acctc serve` there, and for DURATION seconds runs SCRAPERS clients that scrape /metrics back to
back while STALLED clients send a request and never read the answer (one reconnects when the
server drops it). Prints latency percentiles of the scrapes, their status counts and the
server's peak RSS, as a table or JSON. Run as root: sudo scripts/serve_load.py --acctc build/cli/acctc
"""
import argparse
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time


def policy_text(counters):
    # Protocol and port alternate as in `acctc bench`'s protoport kind; +1 for otherwise.
    lines = ["policy serveload", "classify svc local out {"]
    for i in range(counters - 1):
        lines.append(f"    c{i}: {'udp' if i % 2 else 'tcp'} dport {1000 + i // 2}")
    lines.append("    otherwise: rest")
    lines.append("}")
    return "\n".join(lines) + "\n"


def request(gzip):
    encoding = "Accept-Encoding: gzip\r\n" if gzip else ""
    return f"GET /metrics HTTP/1.1\r\nHost: bench\r\n{encoding}\r\n".encode()


def scrape(port, gzip):
    """Connect, request, read to the end: (seconds, status, bytes)."""
    begin = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(request(gzip))
        chunks = []
        while True:
            data = s.recv(1 << 20)
            if not data:
                break
            chunks.append(data)
    body = b"".join(chunks)
    status = int(body[9:12]) if body.startswith(b"HTTP/1.") else 0
    return time.monotonic() - begin, status, len(body)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def clients(args):
    """Runs inside the namespace: the serve process, the scrapers and the stalled clients."""
    serve = subprocess.Popen(
        [args.acctc, "serve", "--listen", "127.0.0.1:0"] + args.serve_args,
        stderr=subprocess.PIPE, text=True)
    port = None
    started = time.monotonic()
    for line in serve.stderr:
        if "listening on http://" in line:
            port = int(line.rsplit(":", 1)[1].split("/")[0])
            break
    if port is None:
        sys.exit("acctc serve did not start")
    startup = time.monotonic() - started
    threading.Thread(target=lambda: [None for _ in serve.stderr], daemon=True).start()

    stop = time.monotonic() + args.duration
    results = []
    lock = threading.Lock()

    def scraper():
        while time.monotonic() < stop:
            try:
                outcome = scrape(port, args.gzip)
            except OSError:
                outcome = (float("nan"), 0, 0)
            with lock:
                results.append(outcome)

    stalled = []
    reconnects = 0

    def open_stalled():
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, never read
        s.sendall(request(args.stalled_gzip))
        return s

    for _ in range(args.stalled):
        stalled.append(open_stalled())
    threads = [threading.Thread(target=scraper) for _ in range(args.scrapers)]
    for thread in threads:
        thread.start()
    poller = select.poll()
    for s in stalled:
        poller.register(s, select.POLLERR | select.POLLHUP | select.POLLRDHUP)
    while time.monotonic() < stop:
        for fd, _ in poller.poll(100):
            poller.unregister(fd)
            index = next(i for i, s in enumerate(stalled) if s.fileno() == fd)
            stalled[index].close()
            stalled[index] = open_stalled()
            poller.register(stalled[index], select.POLLERR | select.POLLHUP | select.POLLRDHUP)
            reconnects += 1
    for thread in threads:
        thread.join()
    peak = peak_rss_mib(serve.pid)
    serve.terminate()
    stopping = time.monotonic()
    try:
        serve.wait(10)
    except subprocess.TimeoutExpired:  # busy with the clients: SIGTERM ignored for 10 s
        serve.kill()
        serve.wait()
    stop_s = time.monotonic() - stopping
    for s in stalled:
        s.close()
    latencies = [r[0] for r in results if r[1] == 200]
    statuses = {}
    for r in results:
        statuses[str(r[1])] = statuses.get(str(r[1]), 0) + 1
    return {
        "counters": args.counters, "scrapers": args.scrapers, "stalled": args.stalled,
        "gzip": args.gzip, "duration_s": args.duration, "serve_args": args.serve_args,
        "startup_s": round(startup, 3), "scrapes": len(results), "statuses": statuses,
        "p50_s": round(percentile(latencies, 0.50), 3),
        "p99_s": round(percentile(latencies, 0.99), 3),
        "max_s": round(max(latencies, default=float("nan")), 3),
        "response_bytes": max((r[2] for r in results), default=0),
        "peak_rss_mib": round(peak, 1), "stalled_reconnects": reconnects,
        "sigterm_to_exit_s": round(stop_s, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acctc", default="build/cli/acctc")
    parser.add_argument("--counters", type=int, default=100000)
    parser.add_argument("--scrapers", type=int, default=8)
    parser.add_argument("--stalled", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--no-gzip", dest="gzip", action="store_false",
                        help="scrapers ask for plain text (Prometheus asks for gzip)")
    parser.add_argument("--stalled-gzip", action="store_true",
                        help="stalled clients ask for gzip too (default: plain, the worst case)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clients", metavar="NETNS", help=argparse.SUPPRESS)
    parser.add_argument("serve_args", nargs="*", help="more `acctc serve` options, after --")
    args = parser.parse_args()
    args.acctc = os.path.realpath(args.acctc)
    if args.clients:
        print(json.dumps(clients(args)))
        return
    netns = f"acctc-serveload-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "serveload.acct")
            with open(path, "w") as policy:
                policy.write(policy_text(args.counters))
            begin = time.monotonic()
            subprocess.run([args.acctc, "apply", "--netns", netns, path], check=True,
                           stdout=subprocess.DEVNULL)
            apply_s = time.monotonic() - begin
        forwarded = [a for a in sys.argv[1:] if a != "--json"]
        run = subprocess.run(["ip", "netns", "exec", netns, sys.executable, __file__,
                              "--clients", netns] + forwarded, stdout=subprocess.PIPE, text=True)
        if run.returncode != 0:
            sys.exit(f"the clients failed (exit {run.returncode})")
        report = json.loads(run.stdout)
        report["apply_s"] = round(apply_s, 2)
    finally:
        subprocess.run(["ip", "netns", "delete", netns], check=False)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:20} {value}")


if __name__ == "__main__":
    main()
