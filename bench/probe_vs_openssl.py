#!/usr/bin/python3
"""Side-by-side: `otls probe` vs `openssl s_client -starttls smtp` against a real Postfix.

Not a test: it measures. Starts a private Postfix (STARTTLS, certificate from the otls
test CA) on a 127.0.0.1 high port through tests/interop/harness.py, then runs COUNT
sequential probes with each tool, alternating (otls, openssl, otls, ...), checks that
every run succeeded (exit 0; otls outcome "ok"; s_client "Verify return code: 0 (ok)"),
and prints total seconds, per-probe milliseconds and the ratio openssl/otls from the
same run; then one run of each under /usr/bin/time -f %M for the maximum RSS.

Both tools do: TCP connect, read the greeting, EHLO, STARTTLS, TLS handshake, chain and
host-name verification against the test CA. otls additionally sends EHLO again after
TLS and QUITs; s_client closes after the handshake (stdin is /dev/null).

Needs root (Postfix) and Debian's postfix, openssl and time packages.
See bench/README.md.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "interop"))

import harness as h  # noqa: E402

SERVERNAME = "mx.test"
MAX_COUNT = 10000


def find_binary(env: str, candidates):
    value = os.environ.get(env)
    if value:
        return value
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def step_timeout(self, cap: float = 30.0) -> float:
        left = self.remaining()
        if left <= 0:
            raise SystemExit(f"error: overall timeout of {self.seconds:.0f}s exceeded")
        return min(cap, left)


def run_checked(kind, argv, deadline, stdin_devnull=True):
    """Run once; return elapsed seconds; exit with a message if the run did not succeed."""
    t0 = time.perf_counter()
    cp = h.run(argv, timeout=deadline.step_timeout(), input="" if stdin_devnull else None)
    elapsed = time.perf_counter() - t0
    ok, why = check(kind, cp)
    if not ok:
        raise SystemExit(f"error: a {kind} run failed ({why}):{h.describe(cp, 3000)}")
    return elapsed


def check(kind, cp):
    if cp.returncode != 0:
        return False, f"exit status {cp.returncode}"
    if kind == "otls":
        try:
            j = json.loads(cp.stdout)
        except ValueError as e:
            return False, f"stdout is not JSON: {e}"
        if j.get("outcome") != "ok":
            return False, f"outcome {j.get('outcome')!r}"
        if (j.get("tls") or {}).get("version") is None:
            return False, "no TLS version reported"
        return True, ""
    if "Verify return code: 0 (ok)" not in cp.stdout:
        return False, "no 'Verify return code: 0 (ok)'"
    return True, ""


def max_rss_kib(argv, deadline, workdir: Path, name: str):
    out = workdir / f"{name}.time"
    argv = ["/usr/bin/time", "-f", "%M", "-o", str(out), *argv]
    cp = h.run(argv, timeout=deadline.step_timeout(), input="")
    if cp.returncode != 0:
        raise SystemExit(f"error: {name} under /usr/bin/time failed:{h.describe(cp, 3000)}")
    return int(out.read_text().strip().splitlines()[-1])


def summarize(samples):
    ms = sorted(s * 1000.0 for s in samples)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    return {"total_s": sum(samples), "mean_ms": statistics.fmean(ms), "median_ms": statistics.median(ms),
            "p90_ms": p90, "min_ms": ms[0], "max_ms": ms[-1]}


def version_of(argv, deadline):
    try:
        cp = h.run(argv, timeout=deadline.step_timeout(10))
    except Exception:
        return None
    text = (cp.stdout or cp.stderr or "").strip().splitlines()
    return text[0] if cp.returncode == 0 and text else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--otls", help="otls binary (default: $OTLS_BIN or build/otls)")
    ap.add_argument("--testca", help="otls_testca binary (default: $OTLS_TESTCA or build/tests/support/otls_testca)")
    ap.add_argument("--count", type=int, default=50, help=f"probes per tool, 1..{MAX_COUNT} (default 50)")
    ap.add_argument("--key", choices=("ecdsa", "rsa"), default="ecdsa", help="server key type (default ecdsa)")
    ap.add_argument("--timeout", type=float, default=900.0, help="overall limit in seconds (default 900)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args()
    if not 1 <= args.count <= MAX_COUNT:
        ap.error(f"--count must be between 1 and {MAX_COUNT}")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    deadline = Deadline(args.timeout)

    build = REPO / "build"
    otls = args.otls or find_binary("OTLS_BIN", [build / "otls", build / "apps" / "otls" / "otls"])
    testca = args.testca or find_binary("OTLS_TESTCA", [build / "tests" / "support" / "otls_testca",
                                                        build / "otls_testca"])
    for name, path in (("otls", otls), ("otls_testca", testca)):
        if not path or not os.access(path, os.X_OK):
            ap.error(f"{name} not found: build first (cmake --build build), set OTLS_BIN/OTLS_TESTCA, "
                     "or pass --otls/--testca")
    for tool in ("/usr/bin/openssl", "/usr/bin/time"):
        if not os.access(tool, os.X_OK):
            ap.error(f"{tool} missing (Debian packages openssl, time)")

    workdir = h.make_workdir("bench")
    pf = None
    try:
        ca = h.TestCA(workdir / "ca", key=args.key, tool=testca)
        leaf = ca.leaf(SERVERNAME, "localhost", "127.0.0.1", key=args.key)
        pf = h.Postfix(workdir / "pf", [h.Listener("bench", [leaf])], hostname=SERVERNAME)
        pf.start()
        port = pf.port("bench")
        otls_argv = [otls, "probe", f"smtp://127.0.0.1:{port}", "--cafile", str(ca.pem),
                     "--servername", SERVERNAME, "--json"]
        openssl_argv = ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}",
                        "-CAfile", str(ca.pem), "-verify_return_error", "-servername", SERVERNAME,
                        "-verify_hostname", SERVERNAME]

        # one untimed warm-up each (page cache, Postfix spawning its smtpd)
        run_checked("otls", otls_argv, deadline)
        run_checked("openssl", openssl_argv, deadline)

        samples = {"otls": [], "openssl": []}
        wall0 = time.perf_counter()
        for i in range(args.count):
            order = (("otls", otls_argv), ("openssl", openssl_argv))
            if i % 2:
                order = order[::-1]
            for kind, argv in order:
                samples[kind].append(run_checked(kind, argv, deadline))
        wall = time.perf_counter() - wall0

        rss = {"otls": max_rss_kib(otls_argv, deadline, workdir, "otls"),
               "openssl": max_rss_kib(openssl_argv, deadline, workdir, "openssl")}
        result = {
            "benchmark": "probe_vs_openssl",
            "what": "SMTP STARTTLS + TLS handshake + verification against a private Postfix on 127.0.0.1",
            "count": args.count,
            "key": args.key,
            "wall_s": wall,
            "otls": {**summarize(samples["otls"]), "max_rss_kib": rss["otls"],
                     "version": version_of([otls, "--version"], deadline)},
            "openssl": {**summarize(samples["openssl"]), "max_rss_kib": rss["openssl"],
                        "version": version_of(["openssl", "version"], deadline)},
        }
        result["ratio"] = {
            "time_openssl_over_otls": result["openssl"]["total_s"] / result["otls"]["total_s"],
            "rss_openssl_over_otls": rss["openssl"] / rss["otls"] if rss["otls"] else None,
        }
        result["postfix"] = h.run(["postconf", "-d", "-h", "mail_version"], timeout=10).stdout.strip()
    finally:
        if pf is not None:
            left = pf.stop()
            if left:
                print(f"warning: Postfix processes had to be killed: {left}", file=sys.stderr)
        h.remove_workdir(workdir)

    if args.json:
        print(json.dumps(result, indent=2))
        return
    o, s = result["otls"], result["openssl"]
    print(f"otls probe vs openssl s_client -starttls smtp: {args.count} sequential runs each, "
          f"{args.key} certificate, Postfix {result['postfix']} on 127.0.0.1")
    print(f"{'tool':<18}{'total s':>10}{'mean ms':>10}{'median ms':>11}{'p90 ms':>9}{'max RSS KiB':>13}")
    for name, r in (("otls probe", o), ("openssl s_client", s)):
        print(f"{name:<18}{r['total_s']:>10.2f}{r['mean_ms']:>10.1f}{r['median_ms']:>11.1f}{r['p90_ms']:>9.1f}"
              f"{r['max_rss_kib']:>13}")
    rr = result["ratio"]
    rss_ratio = f"{rr['rss_openssl_over_otls']:.2f}x" if rr["rss_openssl_over_otls"] else "n/a"
    print(f"ratio openssl/otls: time {rr['time_openssl_over_otls']:.2f}x (above 1: otls is faster), "
          f"max RSS {rss_ratio} (above 1: otls uses less)")


if __name__ == "__main__":
    main()
