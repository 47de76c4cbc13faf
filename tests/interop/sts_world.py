"""An MTA-STS (RFC 8461) world on loopback: DNS, policy hosts, MX hosts and a policy cache.

What `StsWorld.start()` builds, all from Debian's packages and all on 127.0.0.0/8, reusing
dane_world's building blocks (zone signing, nsd, drill, Postfix MX hosts on port 25):

* a test CA (otls_testca) trusted by otls for both the MX hosts (--cafile) and the policy
  hosts (--sts-cafile), plus a second CA that nobody trusts (an "untrusted" policy host);
* the zone example.test, signed with ldns-signzone (the trust anchor is its key; DNSSEC
  matters only to the DANE + MTA-STS precedence cases, which need secure TLSA records; the
  other MX hosts have no TLSA, a secure denial, so DANE does not apply to them), with per case
  domain D (DOMAINS below): MX records, the MX hosts' A records, `_mta-sts.D TXT "v=STSv1;
  id=..."`, `mta-sts.D A 127.0.5.N`, optionally `_smtp._tls.D TXT "v=TLSRPTv1; rua=..."`;
* nsd serving it on 127.0.0.1 at a high port; otls asks it directly (`--resolver
  127.0.0.1:PORT`) and validates DNSSEC itself. No unbound and no port 53: nothing here
  needs the system resolver, and the DANE world (127.0.53.53:53, 127.0.2.N:25) may run at
  the same time;
* one private nginx (harness.Nginx) with one TLS server block per policy host
  mta-sts.D on its own address 127.0.5.N port 443 (MTA-STS policies live on 443), each
  with its own certificate, document root and access log, and its own behaviour (POLICY_HOSTS:
  a policy as text/plain, 404, a 301 redirect, a body over 64 KiB, text/html, a policy
  without max_age, a certificate from an untrusted CA or for another name);
* one private Postfix (harness.Postfix) with one smtpd listener per MX host on its own
  address 127.0.4.N port 25, each with a certificate for its name (or, on purpose, for
  another name);
* the policy cache: otls's SQLite store (`--store FILE`), one file per test, prepared with
  Python's sqlite3 from a template that otls itself created (so its schema and meta rows
  are otls's own): `sts_policy(domain, id, policy, fetched_at, expires_at)`.

Every daemon is started and stopped by its recorded PID (harness.Daemon).
"""
from __future__ import annotations

import dataclasses
import http.client
import os
import secrets
import shutil
import socket
import sqlite3
import ssl
import time
from pathlib import Path
from typing import Optional

import dane_world
import harness

ZONE = "example.test"
POLICY_PORT = 443
SMTP_PORT = dane_world.SMTP_PORT
WELL_KNOWN = "/.well-known/mta-sts.txt"
CONTROL_PATH = "/otls-interop-control"  # the test's own marker request (a 404)

REQUIRED_TOOLS = {  # tool -> Debian package
    "nsd": "nsd", "nsd-checkconf": "nsd", "ldns-keygen": "ldnsutils", "ldns-signzone": "ldnsutils",
    "drill": "ldnsutils", "nginx": "nginx", "openssl": "openssl",
}

TLSRPT_ONE = "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
TLSRPT_TWO = "v=TLSRPTv1;rua=mailto:tls-reports@example.test,https://tlsrpt.example.test/v1/report"


def policy_text(mode: str, mx: list[str], max_age: Optional[int] = 86400, *, crlf: bool = False,
                extra: str = "") -> str:
    """An RFC 8461 §3.2 policy body (max_age None: left out, which makes it invalid)."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx)]
    if max_age is not None:
        lines.append(f"max_age: {max_age}")
    nl = "\r\n" if crlf else "\n"
    return nl.join(lines) + nl + extra


@dataclasses.dataclass(frozen=True)
class MxHost:
    """One MX host: a Postfix listener on its own 127.0.4.N:25."""
    key: str                       # listener name
    name: str                      # the host name (A record, MX exchange)
    address: str                   # 127.0.4.N
    cert_names: tuple[str, ...]    # the names in its certificate (the test CA's)
    tlsa: Optional[str] = None     # "ee": 3 1 1 of its own SPKI; "random": 3 1 1 of nothing


MX_HOSTS = {h.key: h for h in (
    MxHost("good", f"mx-good.{ZONE}", "127.0.4.1", (f"mx-good.{ZONE}",)),
    MxHost("wild", f"mx1.wild.{ZONE}", "127.0.4.2", (f"mx1.wild.{ZONE}",)),
    MxHost("nip", f"mx-nip.{ZONE}", "127.0.4.3", (f"mx-nip.{ZONE}",)),
    # trusted by the CA, but for another name: fails MTA-STS's PKIX name check
    MxHost("wrongcert", f"mx-wrongcert.{ZONE}", "127.0.4.4", (f"other.{ZONE}",)),
    # DANE-EE(3) matches it, so DANE passes though the name is wrong (names are not checked)
    MxHost("daneee", f"mx-daneee.{ZONE}", "127.0.4.5", (f"other.{ZONE}",), tlsa="ee"),
    # PKIX-valid for its name, but its TLSA record matches nothing: DANE fails
    MxHost("danefail", f"mx-danefail.{ZONE}", "127.0.4.6", (f"mx-danefail.{ZONE}",), tlsa="random"),
)}


@dataclasses.dataclass(frozen=True)
class Domain:
    """One mail domain of the world and what its policy host does.

    host: the behaviour of https://mta-sts.D/.well-known/mta-sts.txt:
      ok (policy as text/plain), 404, 301 (a redirect to another host's valid policy), big
      (a valid policy padded beyond 64 KiB), html (a valid policy as text/html), untrusted
      (served with a certificate from a CA otls does not trust), wrongname (the trusted CA,
      but a certificate for another name), None (no policy host, no A record)."""
    key: str
    mx: tuple[str, ...]                  # MX_HOSTS keys, preference 10, 20, ...
    sts_ids: tuple[str, ...] = ()        # one TXT record per id at _mta-sts.D (two: ambiguous)
    policy: Optional[str] = None         # the body served
    host: Optional[str] = None
    address: Optional[str] = None        # 127.0.5.N of mta-sts.D
    tlsrpt: Optional[str] = None         # the _smtp._tls.D TXT record

    @property
    def name(self) -> str:
        return f"{self.key}.{ZONE}"

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.name}"

    @property
    def sts_id(self) -> Optional[str]:
        return self.sts_ids[0] if len(self.sts_ids) == 1 else None

    def mx_names(self) -> list[str]:
        return [MX_HOSTS[k].name for k in self.mx]


def _domains() -> list[Domain]:
    z = ZONE
    wrong = f"mx-wrongcert.{z}"
    enforce_wrong = policy_text("enforce", [wrong])
    n = iter(range(1, 200))
    addr = lambda: f"127.0.5.{next(n)}"
    return [
        # 1. enforce, the MX matches exactly, resp. by a "*." pattern; certificates valid
        Domain("enforce", ("good",), ("enf1",), policy_text("enforce", [f"mx-good.{z}"]), "ok", addr(),
               tlsrpt=TLSRPT_ONE),
        Domain("wild", ("wild",), ("wild1",), policy_text("enforce", [f"*.wild.{z}", f"mx-good.{z}"], crlf=True),
               "ok", addr(), tlsrpt=TLSRPT_TWO),
        # 2. enforce, the MX matches no pattern ("*.test" covers exactly one more label, RFC 8461 §4.1)
        Domain("notinpolicy", ("nip",), ("nip1",), policy_text("enforce", [f"mx-good.{z}", "*.test"]), "ok",
               addr()),
        # 3. enforce, the MX certificate is for another name
        Domain("badcert", ("wrongcert",), ("bad1",), enforce_wrong, "ok", addr()),
        # 4. testing: the same failure is only reported
        Domain("testing", ("wrongcert",), ("tst1",), policy_text("testing", [wrong]), "ok", addr()),
        # 4b. testing, and the MX is not listed: reported, the host is still used
        Domain("testingnip", ("nip",), ("tnp1",), policy_text("testing", [f"mx-good.{z}"]), "ok", addr()),
        # 5. mode none: no policy in effect (so the wrong name does not matter)
        Domain("none", ("wrongcert",), ("none1",), policy_text("none", []), "ok", addr()),
        # 6. the policy host is not trusted (another CA), or trusted but for another name
        Domain("untrusted", ("wrongcert",), ("unt1",), enforce_wrong, "untrusted", addr()),
        Domain("wrongname", ("wrongcert",), ("wrn1",), enforce_wrong, "wrongname", addr()),
        # 7. fetch problems; each policy would fail delivery if it were (wrongly) applied
        Domain("notfound", ("wrongcert",), ("nf1",), enforce_wrong, "404", addr()),
        Domain("redirect", ("wrongcert",), ("rd1",), enforce_wrong, "301", addr()),
        Domain("big", ("wrongcert",), ("big1",), enforce_wrong, "big", addr()),
        Domain("html", ("wrongcert",), ("html1",), enforce_wrong, "html", addr()),
        Domain("malformed", ("wrongcert",), ("mal1",), policy_text("enforce", [wrong], max_age=None), "ok", addr()),
        # 8. a changed id: the store holds another id and policy (set up by the test)
        Domain("changed", ("good",), ("new2",), policy_text("enforce", [f"mx-good.{z}"], max_age=604800), "ok",
               addr()),
        # 9a. a cached policy survives a failed fetch (the test stores id old3, enforce for the MX)
        Domain("cachefail", ("wrongcert",), ("new3",), enforce_wrong, "404", addr()),
        # 9b. a cached policy survives a missing TXT record (and a DNS outage: `otls policy`)
        Domain("notxt", ("good",)),
        # 10. an expired cache entry is refetched
        Domain("expired", ("good",), ("exp1",), policy_text("enforce", [f"mx-good.{z}"], max_age=3600), "ok",
               addr()),
        # 11. DANE first (RFC 8461 §2): (a) DANE passes where STS's name check fails,
        # (b) DANE fails where the certificate is PKIX-valid for an enforced MX
        Domain("daneee", ("daneee",), ("dee1",), policy_text("enforce", [f"mx-daneee.{z}"]), "ok", addr()),
        Domain("danefail", ("danefail",), ("dfl1",), policy_text("enforce", [f"mx-danefail.{z}"]), "ok",
               addr()),
        # (c) DANE passes for an MX the enforced policy does not list: DANE decides, reported only
        Domain("danenip", ("daneee",), ("dnp1",), policy_text("enforce", [f"mx-good.{z}"]), "ok", addr()),
        # no MTA-STS at all (also what the template store is made with)
        Domain("plain", ("good",), tlsrpt=TLSRPT_ONE),
        # two STSv1 records: ambiguous, no policy (RFC 8461 §3.1)
        Domain("twotxt", ("wrongcert",), ("two1", "two2"), enforce_wrong, "ok", addr()),
    ]


DOMAINS = {d.key: d for d in _domains()}
REDIRECT_TARGET = "badcert"  # where mta-sts.redirect... points its 301 (a valid, trusted policy)


def require_tools() -> None:
    dane_world.require_tools(REQUIRED_TOOLS)


# ---------------------------------------------------------------------------
# the policy cache (otls's SQLite store), read and written with Python's sqlite3


@dataclasses.dataclass
class StoreEntry:
    domain: str
    id: str
    policy: str
    fetched_at: int
    expires_at: int


def store_entries(path: Path) -> dict[str, StoreEntry]:
    """Every row of sts_policy, by domain ({} when the file does not exist)."""
    if not Path(path).exists():
        return {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT domain, id, policy, fetched_at, expires_at FROM sts_policy").fetchall()
    finally:
        con.close()
    return {r[0]: StoreEntry(*r) for r in rows}


def store_put(path: Path, entry: StoreEntry) -> None:
    con = sqlite3.connect(str(path), timeout=10)
    try:
        with con:
            con.execute("INSERT OR REPLACE INTO sts_policy(domain, id, policy, fetched_at, expires_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (entry.domain, entry.id, entry.policy, entry.fetched_at, entry.expires_at))
    finally:
        con.close()


# ---------------------------------------------------------------------------
# the world


class StsWorld:
    """Zone + nsd, nginx policy hosts, Postfix MX hosts; see the module docstring."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.domains = DOMAINS
        self.mx_hosts = MX_HOSTS
        self.daemons: list = []
        self.nsd: Optional[harness.Daemon] = None
        self.nsd_port = 0
        self.nginx: Optional[harness.Nginx] = None
        self.postfix: Optional[harness.Postfix] = None
        self.anchor: Optional[Path] = None
        self.tlsa: dict[str, str] = {}
        self.template_store: Optional[Path] = None

    # -- lifecycle

    def start(self) -> "StsWorld":
        require_tools()
        if os.geteuid() != 0:
            raise harness.HarnessError("the MTA-STS world binds 127.0.4.N:25 and 127.0.5.N:443: run as root")
        dane_world.require_free_smtp(h.address for h in MX_HOSTS.values())
        for d in DOMAINS.values():
            if d.address and harness.port_is_taken(d.address, POLICY_PORT):
                raise harness.HarnessError(f"{d.address} port {POLICY_PORT} is taken by another process, so the "
                                           f"policy host {d.policy_host} cannot run: "
                                           f"{dane_world.who_holds(POLICY_PORT)}")
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._make_certificates()
            self._make_zone()
            self.nsd, self.nsd_port = dane_world.start_nsd(self.dir / "dns", "nsd",
                                                           {ZONE: self.zone_files["signed"]})
            self.daemons.append(self.nsd)
            self._start_nginx()
            self._start_postfix()
            self.check_dns()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list:
        survivors = dane_world.stop_daemons(self.daemons)
        self.daemons = []
        return survivors

    def running(self) -> list:
        out = []
        for d in self.daemons:
            out += d.running_daemons() if isinstance(d, harness._Instance) else [d]
        return out

    def tail_text(self, since: Optional[dict] = None) -> str:
        return "".join(d.tail_text(60, since) for d in self.running())

    @property
    def resolver(self) -> str:
        return f"127.0.0.1:{self.nsd_port}"

    # -- certificates

    def _make_certificates(self) -> None:
        self.ca = harness.TestCA(self.dir / "ca")
        self.rogue_ca = harness.TestCA(self.dir / "rogue-ca")  # trusted by nobody
        self.mx_leafs = {h.key: self.ca.leaf(*h.cert_names, prefix=f"mx-{h.key}") for h in MX_HOSTS.values()}
        self.policy_leafs: dict[str, harness.Leaf] = {}
        for d in DOMAINS.values():
            if not d.address:
                continue
            if d.host == "untrusted":
                leaf = self.rogue_ca.leaf(d.policy_host, prefix=f"sts-{d.key}")
            elif d.host == "wrongname":
                leaf = self.ca.leaf(f"mta-sts.elsewhere.{ZONE}", prefix=f"sts-{d.key}")
            else:
                leaf = self.ca.leaf(d.policy_host, prefix=f"sts-{d.key}")
            self.policy_leafs[d.key] = leaf
        for h in MX_HOSTS.values():
            if h.tlsa == "ee":
                self.tlsa[h.key] = f"3 1 1 {dane_world.spki_sha256(dane_world.first_pem(self.mx_leafs[h.key].cert))}"
            elif h.tlsa == "random":
                self.tlsa[h.key] = f"3 1 1 {secrets.token_hex(32)}"

    # -- the zone

    def zone_text(self) -> str:
        rel = lambda name: name[: -len(ZONE) - 1]
        lines = [f"$ORIGIN {ZONE}.", "$TTL 300", "@ IN SOA ns hostmaster 1 3600 600 86400 300",
                 "@ IN NS ns", "ns IN A 127.0.0.1"]
        for h in MX_HOSTS.values():
            lines.append(f"{rel(h.name)} IN A {h.address}")
            if h.key in self.tlsa:
                lines.append(f"_25._tcp.{rel(h.name)} IN TLSA {self.tlsa[h.key]}")
        for d in DOMAINS.values():
            r = rel(d.name)
            for i, k in enumerate(d.mx):
                lines.append(f"{r} IN MX {10 * (i + 1)} {rel(MX_HOSTS[k].name)}")
            for sid in d.sts_ids:
                lines.append(f'_mta-sts.{r} IN TXT "v=STSv1; id={sid}"')
            if d.sts_ids:
                lines.append(f'_mta-sts.{r} IN TXT "v=spf1 -all"')  # not an STS record: ignored
            if d.address:
                lines.append(f"mta-sts.{r} IN A {d.address}")
            if d.tlsrpt:
                lines.append(f'_smtp._tls.{r} IN TXT "{d.tlsrpt}"')
        return "\n".join(lines) + "\n"

    def _make_zone(self) -> None:
        d = self.dir / "dns"
        d.mkdir(exist_ok=True)
        unsigned = d / f"{ZONE}.zone"
        unsigned.write_text(self.zone_text())
        signed, self.anchor = dane_world.sign_zone(d, ZONE, unsigned)
        self.zone_files = {"signed": signed, "unsigned": unsigned}

    def ask(self, name: str, rtype: str) -> dane_world.DnsAnswer:
        return dane_world.ask(name, rtype, "127.0.0.1", self.nsd_port)

    def check_dns(self) -> None:
        """The zone is what the cases assume (fail loudly, naming the query, if not)."""
        problems = []
        expect = [(f"enforce.{ZONE}", "MX", f"mx-good.{ZONE}."), (f"_mta-sts.enforce.{ZONE}", "TXT", "id=enf1"),
                  (f"mta-sts.enforce.{ZONE}", "A", DOMAINS["enforce"].address),
                  (f"_smtp._tls.enforce.{ZONE}", "TXT", "v=TLSRPTv1"),
                  (f"_25._tcp.mx-daneee.{ZONE}", "TLSA", self.tlsa["daneee"].split()[-1])]
        for name, rtype, needle in expect:
            a = self.ask(name, rtype)
            text = " ".join(a.answer)
            if a.rcode != "NOERROR" or needle.lower() not in text.lower() or "RRSIG" not in a.text:
                problems.append(f"{name} {rtype}: rcode {a.rcode}, expected {needle!r} and an RRSIG\n{a.text}")
        a = self.ask(f"_mta-sts.notxt.{ZONE}", "TXT")
        if a.rcode != "NXDOMAIN":
            problems.append(f"_mta-sts.notxt.{ZONE} TXT: rcode {a.rcode}, expected NXDOMAIN\n{a.text}")
        if problems:
            raise harness.HarnessError("the test DNS world is not as built:\n" + "\n".join(problems)
                                       + self.tail_text())

    # -- nginx: the policy hosts

    def _server_block(self, d: Domain) -> str:
        loc = f"location = {WELL_KNOWN}"
        if d.host == "404":
            return f"    {loc} {{ return 404; }}"
        if d.host == "301":
            target = f"https://{DOMAINS[REDIRECT_TARGET].policy_host}{WELL_KNOWN}"
            return f"    {loc} {{ return 301 {target}; }}"
        if d.host == "html":
            return f"    {loc} {{ types {{ }} default_type text/html; }}"
        return f"    {loc} {{ }}"  # a static file: .txt is text/plain

    def _start_nginx(self) -> None:
        servers = [harness.NginxServer(name=d.key, address=d.address, port=POLICY_PORT, leaf=self.policy_leafs[d.key],
                                       server_name=d.policy_host, directives=self._server_block(d))
                   for d in DOMAINS.values() if d.address]
        self.nginx = harness.Nginx(self.dir / "nginx", servers)
        for d in DOMAINS.values():
            if not d.address or d.host in ("404", "301") or d.policy is None:
                continue
            body = d.policy
            if d.host == "big":
                # still a valid policy if the size limit were ignored: unknown keys are ignored
                body += "".join(f"x-padding-{i:05d}: {'p' * 60}\n" for i in range(1100))
                assert len(body.encode()) > 64 * 1024
            f = self.nginx.root(d.key) / WELL_KNOWN.lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(body)
        self.daemons.append(self.nginx)
        try:
            self.nginx.start(attempts=1)
        except harness.HarnessError as e:
            if "Address already in use" in str(e) or "Address already in use" in self.nginx.tail_text():
                raise harness.HarnessError(f"nginx could not bind port {POLICY_PORT}: "
                                           f"{dane_world.who_holds(POLICY_PORT)}\n{e}") from e
            raise

    def fetch_policy(self, key: str, *, cafile: Optional[Path] = None, timeout: float = 10.0
                     ) -> tuple[int, dict, bytes]:
        """GET https://mta-sts.D/.well-known/mta-sts.txt with Python's http.client (SNI and name
        check against mta-sts.D, trust: `cafile`, default the world's CA), connecting to the policy
        host's address. Returns (status, lower-cased headers, body); ssl.SSLError on a bad
        certificate."""
        d = DOMAINS[key]
        ctx = ssl.create_default_context(cafile=str(cafile or self.ca.pem))
        raw = socket.create_connection((d.address, POLICY_PORT), timeout=timeout)
        try:
            tls = ctx.wrap_socket(raw, server_hostname=d.policy_host)
        except BaseException:
            raw.close()
            raise
        conn = http.client.HTTPConnection(d.policy_host, POLICY_PORT, timeout=timeout)
        conn.sock = tls
        try:
            conn.request("GET", WELL_KNOWN, headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read(1024 * 1024)
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def policy_host_requests(self, key: str, since: int, timeout: float = 10.0) -> list[dict]:
        """What mta-sts.D's nginx logged after offset `since`, once it has logged everything it
        received before now: a control request of our own (unverified TLS, CONTROL_PATH) is sent
        and awaited (bounded), and the requests logged before it are returned. (nginx writes an
        access log line when a request ends, which for a client that hung up may be just after
        that client has exited; its one worker handles connections in order.)"""
        d = DOMAINS[key]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection((d.address, POLICY_PORT), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=d.policy_host) as tls:
                tls.sendall(f"GET {CONTROL_PATH} HTTP/1.1\r\nHost: {d.policy_host}\r\nConnection: close\r\n\r\n"
                            .encode())
                for _ in range(64):  # bounded: a short 404 page
                    if not tls.recv(4096):
                        break
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 2):
            reqs = self.nginx.requests(key, since)
            for i, q in enumerate(reqs):
                if q["request"].startswith(f"GET {CONTROL_PATH} "):
                    return reqs[:i]
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise AssertionError(f"nginx did not log the control request to {d.policy_host} within {timeout}s: "
                             f"{self.nginx.requests(key, since)}")

    # -- Postfix: the MX hosts

    def _start_postfix(self) -> None:
        listeners = [harness.Listener(name=h.key, leafs=[self.mx_leafs[h.key]], level="may", hostname=h.name,
                                      address=h.address, fixed_port=SMTP_PORT) for h in MX_HOSTS.values()]
        self.postfix = dane_world.start_mx_postfix(self.dir / "pf", listeners, hostname=f"mx.{ZONE}")
        self.daemons.append(self.postfix)

    # -- otls

    def base_args(self, store: Optional[Path], *, resolver: Optional[str] = None) -> list:
        args = ["--resolver", resolver or self.resolver, "--trust-anchor", self.anchor,
                "--sts-cafile", self.ca.pem]
        args += ["--store", store] if store is not None else ["--no-store"]
        return args

    def probe_argv(self, domain: str, store: Optional[Path], *extra, timeout: int = 10) -> list:
        return ["probe", "--mx", domain, *self.base_args(store), "--cafile", self.ca.pem,
                "--timeout", str(timeout), *extra, "--json"]

    def policy_argv(self, domain: str, store: Optional[Path], *extra, resolver: Optional[str] = None,
                    timeout: int = 10) -> list:
        return ["policy", domain, *self.base_args(store, resolver=resolver), "--timeout", str(timeout),
                *extra, "--json"]

    def make_template_store(self, path: Path) -> Path:
        """An empty store created by otls itself (`otls policy plain...`: no MTA-STS there, so
        nothing is cached); copied for each test that prepares cache states."""
        r = harness.otls_json(self.policy_argv(DOMAINS["plain"].name, path), timeout=60)
        if not path.exists():
            raise harness.HarnessError("otls did not create its store" + r.describe())
        con = sqlite3.connect(str(path), timeout=10)
        try:
            with con:
                con.execute("DELETE FROM sts_policy")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        self.template_store = path
        return path

    def new_store(self, directory: Path, entries: list[StoreEntry] = ()) -> Path:
        """A fresh copy of the template store holding `entries`."""
        if self.template_store is None:
            raise harness.HarnessError("make_template_store() first")
        path = Path(directory) / f"store-{secrets.token_hex(4)}.sqlite"
        shutil.copyfile(self.template_store, path)
        for e in entries:
            store_put(path, e)
        return path


def now() -> int:
    return int(time.time())
