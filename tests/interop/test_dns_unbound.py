"""dns::unbound_resolver against a real authoritative server (RFC 4033-4035 validation).

nsd serves example.test, signed here with ldns-signzone, and an unsigned delegated child
insecure.example.test, on 127.0.0.1 at a high port; otls_dns_query asks through libunbound
with `resolver` pointing at nsd and `trust_anchor` set to the zone's DNSKEY. nsd is
started and stopped by its recorded PID (harness.Daemon).
"""
from __future__ import annotations

import shutil
import socket
import tempfile
import unittest
from pathlib import Path

import harness

TLSA_HEX = "ab" * 32

PARENT = """$ORIGIN example.test.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 300
@ IN NS ns
ns IN A 127.0.0.1
@ IN MX 10 mx
mx IN A 192.0.2.25
_25._tcp.mx IN TLSA 3 1 1 {tlsa}
www IN A 192.0.2.10
alias IN CNAME www
bad IN A 192.0.2.66
txt IN TXT "v=STSv1;" "id=1"
insecure IN NS ns.insecure
ns.insecure IN A 127.0.0.1
""".format(tlsa=TLSA_HEX)

CHILD = """$ORIGIN insecure.example.test.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 300
@ IN NS ns
ns IN A 127.0.0.1
www IN A 192.0.2.30
_25._tcp.www IN TLSA 3 1 1 {tlsa}
""".format(tlsa=TLSA_HEX)


class UnboundResolverAgainstNsd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("nsd", "ldns-keygen", "ldns-signzone"):
            if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
                raise unittest.SkipTest(f"{tool} missing (Debian packages nsd, ldnsutils)")
        cls.query_bin = harness.require_env("OTLS_DNS_QUERY")
        cls.tmp = Path(tempfile.mkdtemp(prefix="otls-dns-"))
        d = cls.tmp
        (d / "example.test.zone").write_text(PARENT)
        (d / "insecure.example.test.zone").write_text(CHILD)
        # One key with the SEP flag (-k) signs everything: the zone's only trust anchor.
        cp = harness.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "example.test"],
                         timeout=30, cwd=str(d))
        assert cp.returncode == 0, harness.describe(cp)
        base = cp.stdout.strip().splitlines()[-1]
        cp = harness.run(["ldns-signzone", "-f", str(d / "example.test.zone.signed"),
                          str(d / "example.test.zone"), str(d / base)], timeout=30)
        assert cp.returncode == 0, harness.describe(cp)
        signed = (d / "example.test.zone.signed").read_text()
        # Change bad's address after signing: its RRSIG no longer verifies (bogus).
        broken = signed.replace("\t192.0.2.66", "\t192.0.2.67")
        assert broken != signed, "bad.example.test not found in the signed zone"
        (d / "example.test.zone.signed").write_text(broken)
        cls.anchor = d / f"{base}.key"

        cls.port = harness.free_port()
        (d / "nsd.conf").write_text(f"""server:
  ip-address: 127.0.0.1
  port: {cls.port}
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  xfrdir: "{d}"
  pidfile: "{d}/nsd.pid"
  logfile: "{d}/nsd.log"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: "{d}/example.test.zone.signed"
zone:
  name: insecure.example.test
  zonefile: "{d}/insecure.example.test.zone"
""")
        cp = harness.run(["nsd-checkconf", str(d / "nsd.conf")], timeout=30)
        assert cp.returncode == 0, harness.describe(cp)
        cls.nsd = harness.Daemon(["nsd", "-d", "-c", str(d / "nsd.conf")], name="nsd",
                                 logdir=d, ready_port=("127.0.0.1", cls.port),
                                 extra_logs=[d / "nsd.log"])
        cls.nsd.start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "nsd", None):
            cls.nsd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ask(self, name: str, rtype: str) -> dict[str, str]:
        cp = harness.run([self.query_bin, f"127.0.0.1:{self.port}", str(self.anchor), name, rtype],
                         timeout=30)
        self.assertEqual(cp.returncode, 0, harness.describe(cp))
        line = cp.stdout.strip()
        rcode, dnssec, rest = line.split(" ", 2)
        fields = {"rcode": rcode, "dnssec": dnssec}
        for part in rest.split(" ", 3):
            k, _, v = part.partition("=")
            fields[k] = v
        return fields

    def test_signed_name_is_secure(self):
        a = self.ask("www.example.test", "A")
        self.assertEqual((a["rcode"], a["dnssec"], a["n"]), ("NOERROR", "secure", "1"), a)

    def test_signed_mx_tlsa_txt_are_secure(self):
        for name, rtype in (("example.test", "MX"), ("_25._tcp.mx.example.test", "TLSA"),
                            ("txt.example.test", "TXT")):
            a = self.ask(name, rtype)
            self.assertEqual((a["rcode"], a["dnssec"], a["n"]), ("NOERROR", "secure", "1"),
                             (name, rtype, a))

    def test_broken_signature_is_bogus(self):
        a = self.ask("bad.example.test", "A")
        self.assertEqual((a["rcode"], a["dnssec"]), ("SERVFAIL", "bogus"), a)
        self.assertTrue(a["why"], a)

    def test_unsigned_delegation_is_insecure(self):
        a = self.ask("www.insecure.example.test", "A")
        self.assertEqual((a["rcode"], a["dnssec"], a["n"]), ("NOERROR", "insecure", "1"), a)
        t = self.ask("_25._tcp.www.insecure.example.test", "TLSA")
        self.assertEqual((t["rcode"], t["dnssec"]), ("NOERROR", "insecure"), t)

    def test_nxdomain_and_nodata_are_distinct_and_secure(self):
        nx = self.ask("nothere.example.test", "A")
        self.assertEqual((nx["rcode"], nx["dnssec"], nx["n"]), ("NXDOMAIN", "secure", "0"), nx)
        nodata = self.ask("www.example.test", "MX")
        self.assertEqual((nodata["rcode"], nodata["dnssec"], nodata["n"]),
                         ("NODATA", "secure", "0"), nodata)

    def test_cname_chain_is_reported(self):
        a = self.ask("alias.example.test", "A")
        self.assertEqual((a["rcode"], a["dnssec"], a["n"]), ("NOERROR", "secure", "1"), a)
        self.assertEqual(a["canon"], "www.example.test.")
        self.assertEqual(a["chain"], "alias.example.test.,www.example.test.")

    def test_silent_server_times_out(self):
        # A bound UDP socket that never answers: only our per-query timer can end this.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind(("127.0.0.1", 0))
            port = silent.getsockname()[1]
            cp = harness.run([self.query_bin, f"127.0.0.1:{port}", str(self.anchor),
                              "www.example.test", "A", "300"], timeout=30)
        self.assertEqual(cp.returncode, 1, harness.describe(cp))
        self.assertIn("timed out", cp.stdout, harness.describe(cp))


if __name__ == "__main__":
    unittest.main()
