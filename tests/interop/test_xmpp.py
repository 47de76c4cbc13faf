"""XMPP (RFC 6120 §5 STARTTLS, XEP-0368 direct TLS): `otls probe` against a real Prosody 0.12
(c2s with required STARTTLS, s2s, direct TLS, a wrong `to` domain, a STRIPTLS relay), and real
clients (openssl s_client -starttls xmpp, gnutls-cli --starttls-proto=xmpp) and otls's own
client against otls's XMPP server role.

Service location (RFC 6120 §3.2, XEP-0368): nsd serves the signed zone xmpp.test on a high port
of 127.0.0.1 with _xmpp-client, _xmpps-client and _xmpp-server SRV records pointing at Prosody;
otls asks it directly (--resolver, --trust-anchor). The certificate is still checked against
xmpp.test, never the SRV target. ALPN `xmpp-client` is offered on direct TLS: otls's server role
selects it, `openssl s_server` shows what was offered, and Prosody 0.12 answers none.
"""

import os
import select
import shutil
import subprocess
import time
import unittest

import dane_world
import harness as h
from xmpp_daemon import Prosody

DOMAIN = "xmpp.test"
LOCAL = "127.0.0.1"


class XmppInterop(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for tool in ("prosody", "openssl", "gnutls-cli"):
            if not shutil.which(tool):
                raise unittest.SkipTest(f"{tool} is not installed (Debian package)")
        h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(DOMAIN, "localhost", LOCAL, key="ecdsa")
        cls.prosody = cls.start_class_daemon(Prosody(cls.workdir / "prosody", cls.leaf, vhost=DOMAIN))
        cls._servers = {}
        cls._dns = None

    @classmethod
    def dns(cls):
        """nsd serving the signed xmpp.test with SRV records (started once): (port, anchor)."""
        if cls._dns is None:
            d = cls.workdir / "dns"
            d.mkdir()
            cls.dead_port = h.fresh_port()  # nothing listens here: the first SRV target fails
            p = cls.prosody
            zone = f"""$ORIGIN {DOMAIN}.
$TTL 300
@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 3600 600 86400 300
@ IN NS ns.{DOMAIN}.
ns IN A 127.0.0.1
host IN A 127.0.0.1
dead IN A 127.0.0.1
nosrv IN A 127.0.0.1
_xmpp-client._tcp IN SRV 5 0 {cls.dead_port} dead.{DOMAIN}.
_xmpp-client._tcp IN SRV 10 0 {p.c2s_port} host.{DOMAIN}.
_xmpps-client._tcp IN SRV 0 5 {p.direct_tls_port} host.{DOMAIN}.
_xmpp-server._tcp IN SRV 0 0 {p.s2s_port} host.{DOMAIN}.
_xmpps-client._tcp.none IN SRV 0 0 0 .
"""
            unsigned = d / f"{DOMAIN}.zone"
            unsigned.write_text(zone)
            signed, anchor = dane_world.sign_zone(d, DOMAIN, unsigned)
            nsd, port = dane_world.start_nsd(d, "nsd-xmpp", {DOMAIN: signed})
            cls.keep_daemon(nsd)
            cls.addClassCleanup(nsd.stop)
            cls._dns = (port, anchor)
        return cls._dns

    def probe_srv(self, url, *extra, expect_rc):
        port, anchor = self.dns()
        r = h.otls_probe(url, "--resolver", f"127.0.0.1:{port}", "--trust-anchor", str(anchor),
                         "--cafile", str(self.ca.pem), "--timeout", "10", *extra)
        self.assertIsNotNone(r.json, r.describe())
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r.json, r.describe()

    @classmethod
    def server(cls, protocol="xmpp", required=False, implicit=False):
        key = (protocol, required, implicit)
        if key not in cls._servers:
            s = h.OtlsTestServer(cls.workdir / f"srv-{protocol}-{required}-{implicit}", cls.leaf, hostname=DOMAIN,
                                 protocol=protocol, starttls_required=required, implicit_tls=implicit,
                                 name=f"otls_test_server-{protocol}-{required}-{implicit}")
            cls._servers[key] = cls.start_class_daemon(s)
        return cls._servers[key].port

    def probe(self, url, *extra, domain=DOMAIN, expect_rc=None):
        r = h.otls_probe(url, "--xmpp-domain", domain, "--cafile", str(self.ca.pem), "--servername", DOMAIN,
                         "--timeout", "10", *extra)
        self.assertIsNotNone(r.json, r.describe())
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, r.describe())
        return r.json, r.describe()

    # -- otls probe against Prosody

    def test_prosody_c2s_starttls_required(self):
        j, d = self.probe(f"xmpp://{LOCAL}:{self.prosody.c2s_port}")
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(j["starttls"], {"offered": True, "accepted": True}, d)
        self.assertIn("starttls (required)", j["capabilities"]["before_tls"], d)
        self.assertFalse(any(c.startswith("starttls") for c in j["capabilities"]["after_tls"]), d)
        self.assertTrue(any(c.startswith("mechanisms") for c in j["capabilities"]["after_tls"]), d)
        self.assertIs(j["certificate"]["trusted"], True, d)

    def test_prosody_s2s_starttls(self):
        j, d = self.probe(f"xmpp-server://{LOCAL}:{self.prosody.s2s_port}")
        self.assertEqual(j["outcome"], "ok", d)
        self.assertTrue(j["starttls"]["accepted"], d)
        self.assertTrue(any(c.startswith("starttls") for c in j["capabilities"]["before_tls"]), d)
        # Prosody offers dialback again on the new stream, and no STARTTLS there
        self.assertIn("dialback", j["capabilities"]["after_tls"], d)
        self.assertFalse(any(c.startswith("starttls") for c in j["capabilities"]["after_tls"]), d)

    def test_prosody_direct_tls(self):
        j, d = self.probe(f"xmpps://{LOCAL}:{self.prosody.direct_tls_port}")
        self.assertEqual(j["outcome"], "ok", d)
        self.assertFalse(j["capabilities"]["before_tls"], d)
        self.assertTrue(j["capabilities"]["after_tls"], d)
        # Prosody 0.12 answers no ALPN (RFC 7301 §3.2 lets a server ignore the extension)
        self.assertIsNone(j["tls"]["alpn"], d)

    def test_prosody_wrong_domain_is_host_unknown_by_name(self):
        # Reported by name when Prosody says it, not as a timeout (gnutls#1507): a client that
        # waited for features would end in "timeout", not "service-unavailable".
        j, d = self.probe(f"xmpp://{LOCAL}:{self.prosody.c2s_port}", domain="wrong.test")
        self.assertEqual(j["outcome"], "service-unavailable", d)
        self.assertTrue(any("host-unknown" in line for line in j["error"]["peer_text"]), d)

    def test_striptls_relay_is_starttls_not_supported(self):
        m = h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.prosody.c2s_port), "xmpp")
        self.start_daemon(m)
        j, d = self.probe(f"xmpp://{LOCAL}:{m.port}", "--level", "verify", expect_rc=3)
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)

    # -- clients against otls's XMPP server role

    def test_openssl_s_client_starttls_xmpp(self):
        port = self.server()
        cp = h.run(["openssl", "s_client", "-starttls", "xmpp", "-xmpphost", DOMAIN, "-connect", f"{LOCAL}:{port}",
                    "-CAfile", str(self.ca.pem), "-verify_return_error", "-verify_hostname", DOMAIN],
                   input="", timeout=60)
        d = h.describe(cp)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)

    def test_gnutls_cli_starttls_xmpp(self):
        port = self.server(required=True)
        cp = h.run(["gnutls-cli", "--starttls-proto=xmpp", "--x509cafile", str(self.ca.pem), "--port", str(port),
                    "--verify-hostname", DOMAIN, LOCAL], input="", timeout=60)
        d = h.describe(cp)
        self.assertIn("Status: The certificate is trusted.", cp.stdout, d)
        self.assertIn("Handshake was completed", cp.stdout, d)

    def test_otls_probe_against_otls_server(self):
        for protocol in ("xmpp", "xmpp-server"):
            for required in (False, True):
                with self.subTest(protocol=protocol, required=required):
                    j, d = self.probe(f"{protocol}://{LOCAL}:{self.server(protocol, required)}")
                    self.assertEqual(j["outcome"], "ok", d)
                    self.assertEqual(j["capabilities"]["before_tls"][0],
                                     "starttls (required)" if required else "starttls", d)
                    self.assertEqual(j["capabilities"]["after_tls"], ["mechanisms: PLAIN"], d)

    def test_otls_probe_against_otls_server_implicit(self):
        j, d = self.probe(f"xmpps://{LOCAL}:{self.server(implicit=True)}")
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(j["tls"]["alpn"], "xmpp-client", d)

    def test_direct_tls_offers_alpn_xmpp_client(self):
        # The referee: openssl s_server prints the ALPN list the client offered.
        port = h.fresh_port()
        argv = ["openssl", "s_server", "-accept", f"{LOCAL}:{port}", "-cert", self.leaf.cert, "-key",
                self.leaf.key, "-alpn", "xmpp-client", "-naccept", "1"]
        with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              bufsize=0) as server:
            try:
                # Ready when it says ACCEPT (a test connection would use up its one accept);
                # bounded in time, since s_server may say nothing at all.
                seen = b""
                deadline = time.monotonic() + 15
                while b"ACCEPT" not in seen and time.monotonic() < deadline:
                    ready, _, _ = select.select([server.stdout], [], [], max(0.0, deadline - time.monotonic()))
                    chunk = os.read(server.stdout.fileno(), 4096) if ready else b""
                    if not chunk:
                        break
                    seen += chunk
                self.assertIn(b"ACCEPT", seen, seen.decode("utf-8", "replace"))
                # s_server speaks no XMPP: the probe ends in a timeout after the handshake
                r = h.otls_probe(f"xmpps://{LOCAL}:{port}", "--xmpp-domain", DOMAIN, "--cafile",
                                 str(self.ca.pem), "--servername", DOMAIN, "--timeout", "2")
                j, d = r.json, r.describe()
                out = (seen + server.communicate(timeout=30)[0]).decode("utf-8", "replace")
            finally:
                if server.poll() is None:
                    server.kill()
        self.assertIn("ALPN protocols advertised by the client: xmpp-client", out, d + out)
        self.assertIsNotNone(j, d)
        self.assertEqual(j["tls"]["alpn"], "xmpp-client", d)

    # -- SRV service location (RFC 6120 §3.2.1, XEP-0368)

    def test_srv_locates_c2s_and_fails_over_in_priority_order(self):
        j, d = self.probe_srv(f"xmpp://{DOMAIN}", expect_rc=0)
        self.assertEqual(j["outcome"], "ok", d)
        srv = j["srv"]
        self.assertEqual(srv["name"], f"_xmpp-client._tcp.{DOMAIN}.", d)
        self.assertEqual(srv["route"], "srv", d)
        self.assertEqual(srv["dnssec"], "secure", d)
        self.assertEqual([(t["host"], t["port"]) for t in srv["targets"]],
                         [(f"dead.{DOMAIN}.", self.dead_port), (f"host.{DOMAIN}.", self.prosody.c2s_port)], d)
        # the priority-5 target refused, the priority-10 one served
        self.assertEqual([a["address"] for a in j["attempts"]],
                         [f"{LOCAL}:{self.dead_port}", f"{LOCAL}:{self.prosody.c2s_port}"], d)
        self.assertIsNotNone(j["attempts"][0]["error"], d)
        # the certificate is checked against the domain, not the SRV target
        self.assertEqual(j["certificate"]["reference_name"], DOMAIN, d)
        self.assertIs(j["certificate"]["hostname_match"], True, d)

    def test_srv_locates_direct_tls_and_s2s(self):
        j, d = self.probe_srv(f"xmpps://{DOMAIN}", expect_rc=0)
        self.assertEqual(j["srv"]["name"], f"_xmpps-client._tcp.{DOMAIN}.", d)
        self.assertEqual(j["address"], f"{LOCAL}:{self.prosody.direct_tls_port}", d)
        self.assertEqual(j["mode"], "implicit", d)
        j, d = self.probe_srv(f"xmpp-server://{DOMAIN}", expect_rc=0)
        self.assertEqual(j["srv"]["name"], f"_xmpp-server._tcp.{DOMAIN}.", d)
        self.assertEqual(j["address"], f"{LOCAL}:{self.prosody.s2s_port}", d)
        self.assertTrue(j["starttls"]["accepted"], d)

    def test_srv_dot_target_means_no_service(self):
        j, d = self.probe_srv(f"xmpps://none.{DOMAIN}", "--xmpp-domain", DOMAIN, expect_rc=2)
        self.assertEqual(j["outcome"], "connect-failure", d)
        self.assertEqual(j["srv"]["route"], "no-service", d)
        self.assertEqual(j["attempts"], [], "a connection was made for a service that is not offered" + d)

    def test_srv_absent_falls_back_to_the_domain_on_the_default_port(self):
        # Only the attempt is checked: whether something answers on 127.0.0.1:5223 is not ours.
        j, d = self.probe_srv(f"xmpps://nosrv.{DOMAIN}", expect_rc=None)
        self.assertEqual(j["srv"]["route"], "fallback", d)
        self.assertEqual([a["address"] for a in j["attempts"]], [f"{LOCAL}:5223"], d)

    def test_explicit_port_or_no_srv_skips_the_lookup(self):
        j, d = self.probe_srv(f"xmpp://{LOCAL}:{self.prosody.c2s_port}", "--xmpp-domain", DOMAIN,
                              "--servername", DOMAIN, expect_rc=0)
        self.assertIsNone(j["srv"], d)
        j, d = self.probe_srv(f"xmpps://{DOMAIN}", "--no-srv", expect_rc=2)
        self.assertIsNone(j["srv"], d)


if __name__ == "__main__":
    unittest.main()
