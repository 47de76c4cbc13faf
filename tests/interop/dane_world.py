"""A DNSSEC world on loopback for DANE (RFC 7672) interop tests.

What `DaneWorld.start()` builds, all from Debian's packages and all on 127.0.0.0/8:

* a test CA (otls_testca) and one leaf certificate per MX host;
* the zone example.test, with MX, A, CNAME and TLSA records computed here (hashlib, the
  leaf's DER and its SubjectPublicKeyInfo from `openssl pkey`), signed with ldns-signzone
  by one key with the SEP flag (that key is the trust anchor), then one TLSA RRset altered
  after signing (bogus);
* an unsigned child zone insecure.example.test delegated from it (NS, no DS: insecure);
* nsd serving both on 127.0.0.1 at a high port, and a second nsd serving the UNSIGNED
  text of example.test (a "resolver" that cannot validate: no RRSIG, no DNSKEY);
* unbound (`unbound -d -c CONF`) on 127.0.53.53 port 53, validating with that trust
  anchor and stub zones to nsd. Port 53 because /etc/resolv.conf cannot name a port, and
  Postfix's posttls-finger only talks to the system resolver. Only loopback is queried:
  outgoing-interface is 127.0.0.1 (the kernel cannot route that source anywhere else), and
  every name outside example.test is refused locally;
* one private Postfix (harness.Postfix) with one smtpd listener per MX host on its own
  address 127.0.2.N port 25 (TLSA records live at _25._tcp);
* the referee: `posttls-finger`, Postfix's own DANE client, run in a private mount
  namespace whose /etc/resolv.conf names 127.0.53.53 with `options edns0 trust-ad`
  (glibc passes the AD bit on only then; Postfix trusts it). `unshare --mount` keeps the
  host's network stack (unlike `ip netns`, whose separate loopback would not reach the
  127.0.2.N listeners), so only the file view changes, only for that one process.

Every daemon is started and stopped by its recorded PID (harness.Daemon).
"""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import unittest
from pathlib import Path
from typing import Optional

import harness

RESOLVER = "127.0.53.53"
DNS_PORT = 53
SMTP_PORT = 25
ZONE = "example.test"
CHILD = "insecure.example.test"

# The common verdict vocabulary of the expected column, otls and the referee.
DANE_VERIFIED = "dane-verified"      # TLS, server authenticated by a usable TLSA record
ENCRYPTED = "encrypted"              # TLS, not authenticated (no usable TLSA, or DANE does not apply)
PLAINTEXT = "plaintext"              # delivered without TLS (never expected here)
NO_STARTTLS = "starttls-not-supported"
VALIDATION_FAILURE = "validation-failure"
HOST_MISMATCH = "certificate-host-mismatch"
DNSSEC_INVALID = "dnssec-invalid"
CANNOT_VALIDATE = "resolver-cannot-validate"

REQUIRED_TOOLS = {  # tool -> Debian package
    "nsd": "nsd", "nsd-checkconf": "nsd", "ldns-keygen": "ldnsutils", "ldns-signzone": "ldnsutils",
    "drill": "ldnsutils", "unbound": "unbound", "unbound-checkconf": "unbound",
    "posttls-finger": "postfix", "unshare": "util-linux", "openssl": "openssl",
}


def which(tool: str) -> Optional[str]:
    return shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")


def stop_daemons(daemons: list) -> list:
    """Stops daemons in reverse start order, each by its PID; returns the processes that had to be
    killed (and failures to stop, as (-1, why)), stopping the rest regardless."""
    survivors = []
    for d in reversed(daemons):
        try:
            survivors += d.stop() or []
        except Exception as e:  # stop the rest regardless
            survivors.append((-1, f"stopping {getattr(d, 'name', d)} failed: {e}"))
    return survivors


def require_tools(tools: Optional[dict] = None) -> None:
    """unittest.SkipTest naming the Debian package when a tool this world needs is missing
    (`tools`: tool -> Debian package; default REQUIRED_TOOLS)."""
    tools = REQUIRED_TOOLS if tools is None else tools
    missing = [f"{t} (Debian package {p})" for t, p in tools.items() if not which(t)]
    if not harness.POSTFIX_MASTER.exists():
        missing.append(f"{harness.POSTFIX_MASTER} (Debian package postfix)")
    if missing:
        raise unittest.SkipTest("missing: " + ", ".join(missing) + "; run scripts/install-deps --test")


@dataclasses.dataclass
class Case:
    """One mail domain of the world, its MX host and what every party should conclude."""
    key: str                       # short name, also the Postfix listener name
    domain: str                    # the mail domain (otls probe --mx, otls policy, posttls-finger)
    mx: str                        # the MX exchange as published
    host: str                      # the name holding the A record (differs from mx for a CNAME)
    address: Optional[str]         # 127.0.2.N (None: no listener of its own)
    verdict: str                   # expected, in the common vocabulary above
    outcome: str                   # expected top-level otls outcome
    dane_applies: bool             # expected dane.applies
    mx_dnssec: str                 # expected mx_lookup.dnssec: secure | insecure
    tlsa_name: str                 # where the TLSA RRset is looked up
    depth: Optional[int] = None    # expected dane.matched.depth
    dane_outcome: Optional[str] = None   # expected MX-level dane.outcome (tlsa-invalid, dnssec-invalid)
    policy_verdict: Optional[str] = None  # expected dane.verdict of `otls policy`
    referee: bool = True           # posttls-finger can judge it (not: a non-validating resolver)
    tls_level: str = "may"         # the listener's smtpd_tls_security_level


def _case_table() -> list[Case]:
    z, c = ZONE, CHILD
    return [
        Case("ee", f"ee.{z}", f"mx-ee.{z}", f"mx-ee.{z}", "127.0.2.1", DANE_VERIFIED, "ok", True, "secure",
             f"_25._tcp.mx-ee.{z}", depth=0, policy_verdict="dane"),
        Case("ta", f"ta.{z}", f"mx-ta.{z}", f"mx-ta.{z}", "127.0.2.2", DANE_VERIFIED, "ok", True, "secure",
             f"_25._tcp.mx-ta.{z}", depth=1, policy_verdict="dane"),
        Case("tawrong", f"tawrong.{z}", f"mx-tawrong.{z}", f"mx-tawrong.{z}", "127.0.2.3", HOST_MISMATCH,
             HOST_MISMATCH, True, "secure", f"_25._tcp.mx-tawrong.{z}", policy_verdict="dane"),
        Case("nomatch", f"nomatch.{z}", f"mx-nomatch.{z}", f"mx-nomatch.{z}", "127.0.2.4", VALIDATION_FAILURE,
             VALIDATION_FAILURE, True, "secure", f"_25._tcp.mx-nomatch.{z}", policy_verdict="dane"),
        Case("pkix", f"pkix.{z}", f"mx-pkix.{z}", f"mx-pkix.{z}", "127.0.2.5", ENCRYPTED, "ok", True, "secure",
             f"_25._tcp.mx-pkix.{z}", dane_outcome="tlsa-invalid", policy_verdict="encrypt"),
        # dane.applies false: with a bogus TLSA RRset DANE's applicability is unknown, so the host is
        # not tried at all (verdict tempfail, RFC 7672 §2.1.1)
        Case("bogus", f"bogus.{z}", f"mx-bogus.{z}", f"mx-bogus.{z}", "127.0.2.6", DNSSEC_INVALID,
             DNSSEC_INVALID, False, "secure", f"_25._tcp.mx-bogus.{z}", dane_outcome="dnssec-invalid",
             policy_verdict="tempfail"),
        Case("insecure", c, f"mx.{c}", f"mx.{c}", "127.0.2.7", ENCRYPTED, "ok", False, "insecure",
             f"_25._tcp.mx.{c}", policy_verdict="not-applicable"),
        Case("cname", f"cname.{z}", f"mx-alias.{z}", f"host-cname.{z}", "127.0.2.8", DANE_VERIFIED, "ok", True,
             "secure", f"_25._tcp.host-cname.{z}", depth=0, policy_verdict="dane"),
        Case("mxin", f"mxin.{c}", f"mx-ee.{z}", f"mx-ee.{z}", None, DANE_VERIFIED, "ok", True, "insecure",
             f"_25._tcp.mx-ee.{z}", depth=0, policy_verdict="dane"),
        Case("plain", f"plain.{z}", f"mx-plain.{z}", f"mx-plain.{z}", "127.0.2.10", NO_STARTTLS, NO_STARTTLS,
             True, "secure", f"_25._tcp.mx-plain.{z}", policy_verdict="dane", tls_level="none"),
    ]


CASES = _case_table()
# Case 11: otls pointed straight at the nsd that serves the unsigned text of the zone.
NONVALIDATING = Case("novalid", f"ee.{ZONE}", f"mx-ee.{ZONE}", f"mx-ee.{ZONE}", None, CANNOT_VALIDATE,
                     CANNOT_VALIDATE, False, "indeterminate", f"_25._tcp.mx-ee.{ZONE}",
                     dane_outcome=CANNOT_VALIDATE, referee=False)


def spki_sha256(pem: str) -> str:
    """SHA-256 of a certificate's DER SubjectPublicKeyInfo, hex (TLSA selector 1, matching type 1)."""
    pub = harness.run(["openssl", "x509", "-noout", "-pubkey"], input=pem, timeout=30)
    if pub.returncode != 0:
        raise harness.HarnessError("openssl x509 -pubkey failed" + harness.describe(pub))
    der = harness.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub.stdout.encode(),
                      timeout=30, text=False)
    if der.returncode != 0 or not der.stdout:
        raise harness.HarnessError("openssl pkey -pubin failed" + harness.describe(der))
    return hashlib.sha256(der.stdout).hexdigest()


def cert_sha256(pem: str) -> str:
    """SHA-256 of a certificate's DER (TLSA selector 0, matching type 1)."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def first_pem(path: Path) -> str:
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", path.read_text(), re.S)
    if not m:
        raise harness.HarnessError(f"no certificate in {path}")
    return m.group(0)


def who_holds(port: int) -> str:
    """ss's lines for listeners on `port` (any address), for skip and failure messages."""
    cp = harness.run(["ss", "-H", "-lntup", f"( sport = :{port} )"], timeout=10) if which("ss") else None
    return cp.stdout.strip() if cp is not None and cp.stdout.strip() else "(ss shows nothing; see the daemon's log)"


def udp_port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


@dataclasses.dataclass
class DnsAnswer:
    rcode: str
    flags: set
    answer: list
    text: str


# ---------------------------------------------------------------------------
# building blocks shared with other DNS worlds (sts_world.py): signing, nsd, drill, Postfix MX hosts


def sign_zone(d: Path, zone: str, unsigned: Path) -> tuple[Path, Path]:
    """Sign the zone file `unsigned` (origin `zone`) with one fresh ECDSA P-256 key with the SEP
    flag (ldns-keygen -k, files in `d`); returns (signed zone file, that key's .key file: the
    trust anchor)."""
    cp = harness.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], timeout=30, cwd=str(d))
    if cp.returncode != 0:
        raise harness.HarnessError("ldns-keygen failed" + harness.describe(cp))
    base = cp.stdout.strip().splitlines()[-1]
    signed = Path(f"{unsigned}.signed")
    cp = harness.run(["ldns-signzone", "-f", signed, unsigned, d / base], timeout=30)
    if cp.returncode != 0:
        raise harness.HarnessError("ldns-signzone failed" + harness.describe(cp))
    return signed, d / f"{base}.key"


def nsd_conf(d: Path, name: str, port: int, zones: dict[str, Path], address: str = "127.0.0.1") -> Path:
    """Write and check (nsd-checkconf) d/NAME.conf: nsd on ADDRESS:PORT, every file in `d`."""
    text = f"""server:
  ip-address: {address}
  port: {port}
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  zonelistfile: "{d}/{name}.zone.list"
  xfrdfile: "{d}/{name}.xfrd.state"
  xfrdir: "{d}"
  pidfile: "{d}/{name}.pid"
  logfile: "{d}/{name}.log"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
"""
    for zone, path in zones.items():
        text += f"zone:\n  name: {zone}\n  zonefile: \"{path}\"\n"
    conf = d / f"{name}.conf"
    conf.write_text(text)
    cp = harness.run(["nsd-checkconf", conf], timeout=30)
    if cp.returncode != 0:
        raise harness.HarnessError("nsd-checkconf rejects " + str(conf) + harness.describe(cp))
    return conf


def start_nsd(d: Path, name: str, zones: dict[str, Path], address: str = "127.0.0.1",
              attempts: int = 3) -> tuple[harness.Daemon, int]:
    """`nsd -d` serving `zones` on a free high port of `address`, started (the caller stops it)."""
    last = None
    for _ in range(attempts):  # a free port may be taken between choosing and binding
        port = harness.free_port(address)
        conf = nsd_conf(d, name, port, zones, address)
        daemon = harness.Daemon(["nsd", "-d", "-c", conf], name=name, logdir=d,
                                ready_port=(address, port), extra_logs=[d / f"{name}.log"])
        try:
            daemon.start()
        except harness.HarnessError as e:
            last = e
            if harness.port_is_taken(address, port):
                continue
            raise
        return daemon, port
    raise harness.HarnessError(f"{name} did not start: {last}")


def ask(name: str, rtype: str, server: str, port: int) -> DnsAnswer:
    """One query with drill (DO bit set), parsed: rcode, header flags, answer lines."""
    cp = harness.run(["drill", "-D", "-4", "-p", port, f"@{server}", name, rtype],
                     timeout=30)
    m = re.search(r"rcode: (\w+)", cp.stdout)
    f = re.search(r";; flags: ([a-z ]*);", cp.stdout)
    if cp.returncode != 0 or not m or not f:
        raise harness.HarnessError(f"drill {name} {rtype} failed" + harness.describe(cp))
    section = cp.stdout.split(";; ANSWER SECTION:", 1)[-1].split(";; AUTHORITY SECTION:", 1)[0]
    answer = [l for l in section.splitlines() if l.strip() and not l.startswith(";")]
    return DnsAnswer(m.group(1), set(f.group(1).split()), answer, cp.stdout)


def require_free_smtp(addresses) -> None:
    """HarnessError (a failure, not a skip) when any ADDRESS:25 is held by another process."""
    for address in addresses:
        if harness.port_is_taken(address, SMTP_PORT):
            raise harness.HarnessError(f"{address} port {SMTP_PORT} is taken by another process (a system MTA "
                                       f"on 0.0.0.0:25?), so the MX hosts cannot run: "
                                       f"{who_holds(SMTP_PORT)}")


def start_mx_postfix(workdir: Path, listeners: list, hostname: str) -> harness.Postfix:
    """One private Postfix whose listeners bind their own ADDRESS:25 (fixed ports: one attempt);
    returned started, or HarnessError naming who holds port 25. The caller stops it."""
    postfix = harness.Postfix(workdir, listeners, hostname=hostname)
    try:
        postfix.start(attempts=1)
    except harness.HarnessError as e:
        postfix.stop()
        if "Address already in use" in str(e) or "Address already in use" in postfix.tail_text():
            raise harness.HarnessError(f"Postfix could not bind port {SMTP_PORT}: "
                                       f"{who_holds(SMTP_PORT)}\n{e}") from e
        raise
    return postfix


class DaneWorld:
    """The zones, nsd x2, unbound, Postfix and the referee; see the module docstring."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.cases = {c.key: c for c in CASES}
        self.daemons: list = []
        self.postfix: Optional[harness.Postfix] = None
        self.nsd: Optional[harness.Daemon] = None
        self.nsd_unsigned: Optional[harness.Daemon] = None
        self.unbound: Optional[harness.Daemon] = None
        self.tlsa: dict[str, list[str]] = {}
        self.anchor: Optional[Path] = None
        self.nsd_port = 0
        # posttls-finger's flags before -l; no -c: the SMTP chat is how a missing STARTTLS shows
        # (with -c, posttls-finger prints nothing at all for a server that does not offer it)
        self.referee_flags: list[str] = []
        self.unsigned_port = 0

    # -- lifecycle

    def start(self) -> "DaneWorld":
        require_tools()
        if os.geteuid() != 0:
            raise harness.HarnessError("the DANE world binds 127.0.53.53:53 and 127.0.2.N:25: run as root")
        for proto, taken in (("tcp", harness.port_is_taken), ("udp", udp_port_taken)):
            if taken(RESOLVER, DNS_PORT):
                # A failure, not a skip: a silently skipped DANE test would prove nothing.
                raise harness.HarnessError(f"{RESOLVER} port {DNS_PORT}/{proto} is taken by another process, so the "
                                        f"test resolver cannot run: {who_holds(DNS_PORT)}")
        require_free_smtp(c.address for c in CASES if c.address)
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._make_certificates()
            self._make_zones()
            self._start_nsd()
            self._start_unbound()
            self._start_postfix()
            self._write_referee_config()
            self.check_dns()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list:
        survivors = stop_daemons(self.daemons)
        self.daemons = []
        return survivors

    def tail_text(self, since: Optional[dict] = None) -> str:
        return "".join(d.tail_text(60, since) for d in self.running())

    def running(self) -> list:
        out = []
        for d in self.daemons:
            out += d.running_daemons() if isinstance(d, harness.Postfix) else [d]
        return out

    def address_of(self, case: Case) -> str:
        """The MX host's address: its own listener's, or that of the case whose host it shares."""
        if case.address:
            return case.address
        return next(c.address for c in CASES if c.host == case.host and c.address)

    def tlsa_of(self, case: Case) -> list[str]:
        """The TLSA records (as written into the zone) of the case's MX host."""
        owner = case if case.key in self.tlsa else next(c for c in CASES if c.host == case.host and c.key in self.tlsa)
        return self.tlsa[owner.key]

    @property
    def unsigned_resolver(self) -> str:
        return f"127.0.0.1:{self.unsigned_port}"

    # -- certificates and TLSA data

    def _make_certificates(self) -> None:
        self.ca = harness.TestCA(self.dir / "ca")
        ca_pem = first_pem(self.ca.pem)
        z, c = ZONE, CHILD
        names = {"ee": [f"mx-ee.{z}"], "ta": [f"mx-ta.{z}"], "tawrong": [f"other.{z}"],
                 "nomatch": [f"mx-nomatch.{z}"], "pkix": [f"mx-pkix.{z}"], "bogus": [f"mx-bogus.{z}"],
                 "insecure": [f"mx.{c}"], "cname": [f"host-cname.{z}", f"mx-alias.{z}"],
                 "plain": [f"mx-plain.{z}"]}
        self.leafs: dict[str, harness.Leaf] = {}
        for key, ns in names.items():
            leaf = self.ca.leaf(*ns, prefix=f"leaf-{key}")
            if key in ("ta", "tawrong"):
                # DANE-TA(2): the server must send the trust anchor's certificate after its own
                chain = leaf.cert.with_name(f"leaf-{key}-chain.crt")
                chain.write_text(first_pem(leaf.cert) + ca_pem)
                leaf = dataclasses.replace(leaf, cert=chain)
            self.leafs[key] = leaf
        spki = {k: spki_sha256(first_pem(l.cert)) for k, l in self.leafs.items()}
        ca_spki = spki_sha256(ca_pem)
        self.bogus_data = secrets.token_hex(32)
        self.tlsa = {
            "ee": [f"3 1 1 {spki['ee']}"],
            "ta": [f"2 1 1 {ca_spki}"],
            "tawrong": [f"2 1 1 {ca_spki}"],
            "nomatch": [f"3 1 1 {secrets.token_hex(32)}"],
            # PKIX-TA(0) and PKIX-EE(1) only: unusable for SMTP (RFC 7672 §3.1.3), TLS still mandatory
            "pkix": [f"0 0 1 {cert_sha256(ca_pem)}", f"1 1 1 {spki['pkix']}"],
            "bogus": [f"3 1 1 {spki['bogus']}"],    # its data is altered after signing
            # in the unsigned child: must be ignored, so it does not match on purpose
            "insecure": [f"3 1 1 {secrets.token_hex(32)}"],
            "cname": [f"3 1 1 {spki['cname']}"],     # at the CNAME-expanded name
            "plain": [f"3 1 1 {spki['plain']}"],
        }

    # -- zones

    def _parent_zone(self) -> str:
        lines = [f"$ORIGIN {ZONE}.", "$TTL 300", "@ IN SOA ns hostmaster 1 3600 600 86400 300",
                 "@ IN NS ns", "ns IN A 127.0.0.1",
                 "insecure IN NS ns.insecure", "ns.insecure IN A 127.0.0.1"]
        for c in CASES:
            if not c.domain.endswith(f".{ZONE}") or c.domain.endswith(f".{CHILD}"):
                continue
            rel = c.domain[: -len(ZONE) - 1]
            mx = c.mx[: -len(ZONE) - 1]
            host = c.host[: -len(ZONE) - 1]
            lines.append(f"{rel} IN MX 10 {mx}")
            if host != mx:
                lines.append(f"{mx} IN CNAME {host}")  # RFC 7672 §2.2.2: TLSA at the expanded name
            lines.append(f"{host} IN A {c.address}")
            for rdata in self.tlsa[c.key]:
                lines.append(f"_25._tcp.{host} IN TLSA {rdata}")
        return "\n".join(lines) + "\n"

    def _child_zone(self) -> str:
        ins = self.cases["insecure"]
        lines = [f"$ORIGIN {CHILD}.", "$TTL 300", "@ IN SOA ns hostmaster 1 3600 600 86400 300",
                 "@ IN NS ns", "ns IN A 127.0.0.1",
                 "@ IN MX 10 mx", f"mx IN A {ins.address}"]
        lines += [f"_25._tcp.mx IN TLSA {rdata}" for rdata in self.tlsa["insecure"]]
        # an insecure MX RRset naming a secure MX host (RFC 7672 §2.2.1): DANE still applies
        lines.append(f"mxin IN MX 10 {self.cases['mxin'].mx}.")
        return "\n".join(lines) + "\n"

    def _make_zones(self) -> None:
        d = self.dir / "dns"
        d.mkdir(exist_ok=True)
        parent = d / f"{ZONE}.zone"
        parent.write_text(self._parent_zone())
        (d / f"{CHILD}.zone").write_text(self._child_zone())
        signed, self.anchor = sign_zone(d, ZONE, parent)
        text = signed.read_text()
        # bogus: the TLSA RRset of mx-bogus changes after signing, its RRSIG no longer verifies
        good = self.tlsa["bogus"][0].split()[-1]
        pattern = re.compile(rf"^(_25\._tcp\.mx-bogus\.{re.escape(ZONE)}\.\s+\d+\s+IN\s+TLSA\s+3 1 1 )({good})$",
                             re.M | re.I)
        broken, n = pattern.subn(lambda m: m.group(1) + self.bogus_data, text)
        if n != 1:
            raise harness.HarnessError(f"the TLSA record of mx-bogus not found once in {signed}:\n{text}")
        signed.write_text(broken)
        self.zone_files = {"signed": signed, "unsigned": parent, "child": d / f"{CHILD}.zone"}

    # -- daemons

    def _start_one_nsd(self, name: str, zones: dict[str, Path]) -> tuple[harness.Daemon, int]:
        d, port = start_nsd(self.dir / "dns", name, zones)
        self.daemons.append(d)
        return d, port

    def _start_nsd(self) -> None:
        self.nsd, self.nsd_port = self._start_one_nsd(
            "nsd", {ZONE: self.zone_files["signed"], CHILD: self.zone_files["child"]})
        self.nsd_unsigned, self.unsigned_port = self._start_one_nsd(
            "nsd-unsigned", {ZONE: self.zone_files["unsigned"], CHILD: self.zone_files["child"]})

    def _start_unbound(self) -> None:
        d = self.dir / "dns"
        conf = d / "unbound.conf"
        conf.write_text(f"""# private validating resolver written by tests/interop/dane_world.py
server:
  interface: {RESOLVER}
  port: {DNS_PORT}
  outgoing-interface: 127.0.0.1
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  logfile: "{d}/unbound.log"
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  log-servfail: yes
  num-threads: 1
  so-reuseport: no
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "{self.anchor}"
  # .test is a locally served, empty zone by default (RFC 6761); resolve example.test and
  # nothing else, so that no query ever leaves loopback
  local-zone: "test." nodefault
  local-zone: "." refuse
  local-zone: "{ZONE}." transparent
remote-control:
  control-enable: no
stub-zone:
  name: "{ZONE}"
  stub-addr: 127.0.0.1@{self.nsd_port}
stub-zone:
  name: "{CHILD}"
  stub-addr: 127.0.0.1@{self.nsd_port}
""")
        cp = harness.run(["unbound-checkconf", conf], timeout=30)
        if cp.returncode != 0:
            raise harness.HarnessError("unbound-checkconf rejects " + str(conf) + harness.describe(cp))
        self.unbound = harness.Daemon(["unbound", "-d", "-c", conf], name="unbound", logdir=d,
                                      ready_port=(RESOLVER, DNS_PORT), extra_logs=[d / "unbound.log"])
        self.unbound.start()
        self.daemons.append(self.unbound)

    def _start_postfix(self) -> None:
        listeners = []
        for c in CASES:
            if not c.address:
                continue
            leaf = self.leafs[c.key]
            listeners.append(harness.Listener(
                name=c.key, leafs=[leaf] if c.tls_level != "none" else [], level=c.tls_level,
                hostname=c.host, address=c.address, fixed_port=SMTP_PORT))
        self.postfix = start_mx_postfix(self.dir / "pf", listeners, hostname=f"mx.{ZONE}")
        self.daemons.append(self.postfix)

    # -- DNS checks (drill, through unbound)

    def ask(self, name: str, rtype: str, server: str = RESOLVER, port: int = DNS_PORT) -> DnsAnswer:
        return ask(name, rtype, server, port)

    def check_dns(self) -> None:
        """The world is what the cases assume (fail loudly, naming the query, if not)."""
        expect = [
            (f"ee.{ZONE}", "MX", "NOERROR", True),
            (f"_25._tcp.mx-ee.{ZONE}", "TLSA", "NOERROR", True),
            (f"_25._tcp.host-cname.{ZONE}", "TLSA", "NOERROR", True),
            (f"mx-alias.{ZONE}", "A", "NOERROR", True),
            (f"_25._tcp.mx-bogus.{ZONE}", "TLSA", "SERVFAIL", False),
            (f"mx.{CHILD}", "A", "NOERROR", False),
            (f"_25._tcp.mx.{CHILD}", "TLSA", "NOERROR", False),
            (f"mxin.{CHILD}", "MX", "NOERROR", False),
        ]
        problems = []
        for name, rtype, rcode, ad in expect:
            a = self.ask(name, rtype)
            if a.rcode != rcode or ("ad" in a.flags) != ad:
                problems.append(f"{name} {rtype}: rcode {a.rcode}, flags {sorted(a.flags)}; expected {rcode}"
                                f"{' with' if ad else ' without'} AD\n{a.text}")
        if problems:
            raise harness.HarnessError("the test DNS world is not as built:\n" + "\n".join(problems)
                                       + self.tail_text())

    # -- the referee: posttls-finger

    def _write_referee_config(self) -> None:
        d = self.dir / "referee"
        d.mkdir(exist_ok=True)
        # its own resolv.conf: the validating unbound, and keep the AD bit (glibc >= 2.31 clears it
        # unless trust-ad is set)
        self.resolv_conf = d / "resolv.conf"
        self.resolv_conf.write_text(f"nameserver {RESOLVER}\noptions edns0 trust-ad\n")
        # its own main.cf (MAIL_CONFIG), so that /etc/postfix/main.cf, present or not, does not matter
        self.referee_conf = d / "conf"
        self.referee_conf.mkdir(exist_ok=True)
        (self.referee_conf / "main.cf").write_text(
            "# posttls-finger's private configuration, written by tests/interop/dane_world.py\n"
            "compatibility_level = 3.7\n"
            "inet_protocols = ipv4\n"
            "smtp_dns_support_level = dnssec\n"
            "smtp_host_lookup = dns\n"
            "smtp_address_preference = ipv4\n"
            # Postfix checks that the resolver validates by asking for the root's NS with DO set;
            # this world refuses the root (nothing leaves loopback), so probe our signed zone
            "dnssec_probe = ns:example.test\n"
            "myhostname = referee.example.test\n")

    def referee(self, domain: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """posttls-finger -l dane DOMAIN in a private mount namespace whose /etc/resolv.conf
        names the validating unbound; raw result."""
        inner = ('mount --bind "$1" /etc/resolv.conf && shift && exec "$@"')
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh", str(self.resolv_conf),
                "posttls-finger", *self.referee_flags, "-l", "dane", "-L", "routine,certmatch", "-t", "10", "-T", "10", domain]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "TZ": "UTC",
               "MAIL_CONFIG": str(self.referee_conf)}
        return harness.run(argv, timeout=timeout, env=env)
