"""LDAP StartTLS (RFC 4511 §4.14, RFC 4513 §3) and ldaps against OpenLDAP slapd (Debian's
`slapd`), and real LDAP/TLS clients against otls's LDAP server role.

slapd runs in the foreground (-d 0) from its own slapd.conf in the test's temp dir, with no
database (the root DSE is served by its frontend), on 127.0.0.1 high ports, stopped by PID.
A second slapd has no TLS at all: its root DSE lists no StartTLS and it answers the operation
with protocolError. Clients against `otls_test_server --protocol ldap`: ldapsearch -ZZ (OpenLDAP's
libldap), openssl s_client -starttls ldap, gnutls-cli --starttls-proto=ldap, plus a raw socket
checking that plaintext pipelined behind the StartTLS request is never answered inside TLS.
"""

import os
import shutil
import socket
import ssl
import unittest

import harness as h

SERVERNAME = "ldap.test"
STARTTLS_OID = "1.3.6.1.4.1.1466.20037"


class Slapd(h.Daemon):
    """A private slapd: ldap:// (and ldaps:// when given a leaf) on 127.0.0.1 high ports."""

    def __init__(self, workdir, leaf, ca_pem, *, name):
        workdir.mkdir(parents=True, exist_ok=True)
        self.ldap_port = h.fresh_port()
        self.ldaps_port = h.fresh_port() if leaf else None
        conf = [f"pidfile {workdir}/slapd.pid", f"argsfile {workdir}/slapd.args"]
        if leaf:
            conf += [f"TLSCertificateFile {leaf.cert}", f"TLSCertificateKeyFile {leaf.key}",
                     f"TLSCACertificateFile {ca_pem}"]
        (workdir / "slapd.conf").write_text("\n".join(conf) + "\n")
        urls = f"ldap://{h.LOOPBACK}:{self.ldap_port}/"
        if leaf:
            urls += f" ldaps://{h.LOOPBACK}:{self.ldaps_port}/"
        super().__init__(["/usr/sbin/slapd", "-d", "0", "-h", urls, "-f", workdir / "slapd.conf"],
                         name=name, logdir=workdir, ready_check=self._all_ports_accept)

    def _all_ports_accept(self) -> bool:
        return all(h.port_accepts(h.LOOPBACK, p) for p in (self.ldap_port, self.ldaps_port) if p)

    def url(self, scheme="ldap"):
        return f"{scheme}://{h.LOOPBACK}:{self.ldaps_port if scheme == 'ldaps' else self.ldap_port}"


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + ber_len(len(content)) + content


def ldap_message(msg_id, op):
    return tlv(0x30, tlv(0x02, bytes([msg_id])) + op)


def starttls_request(msg_id):
    return ldap_message(msg_id, tlv(0x77, tlv(0x80, STARTTLS_OID.encode())))


def root_dse_search(msg_id):
    op = (tlv(0x04, b"") + tlv(0x0A, b"\0") + tlv(0x0A, b"\0") + tlv(0x02, b"\0") + tlv(0x02, b"\0")
          + tlv(0x01, b"\0") + tlv(0x87, b"objectClass") + tlv(0x30, tlv(0x04, b"supportedLDAPVersion")))
    return ldap_message(msg_id, tlv(0x63, op))


def read_message(f):
    """One LDAPMessage (definite lengths only): (messageID, op tag, raw bytes)."""
    head = f.read(2)
    if len(head) < 2:
        raise h.ProtocolError(f"short read: {head!r}")
    n = head[1]
    extra = b""
    if n & 0x80:
        extra = f.read(n & 0x7F)
        n = int.from_bytes(extra, "big")
    body = f.read(n)
    assert body[0] == 0x02, body
    id_len = body[1]
    msg_id = int.from_bytes(body[2:2 + id_len], "big")
    return msg_id, body[2 + id_len], head + extra + body


class LdapInterop(h.InteropTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.path.exists("/usr/sbin/slapd"):
            raise unittest.SkipTest("Debian package slapd is not installed")
        cls.otls = h.require_env("OTLS_BIN")
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", h.LOOPBACK, key="ecdsa")
        cls.slapd = cls.start_class_daemon(Slapd(cls.workdir / "slapd", cls.leaf, cls.ca.pem, name="slapd-tls"))
        cls.plain = cls.start_class_daemon(Slapd(cls.workdir / "plain", None, None, name="slapd-plain"))
        cls.server = cls.start_class_daemon(h.OtlsTestServer(cls.workdir / "srv", cls.leaf, hostname=SERVERNAME,
                                                 protocol="ldap", name="otls_test_server-ldap"))

    def probe(self, url, *args, expect_rc):
        r = h.otls_probe(url, "--timeout", "20", *args, timeout=90)
        self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        self.assertIsNotNone(r.json, r.describe())
        return r.json, r

    def verified(self, url, expect_rc=0):
        return self.probe(url, "--cafile", self.ca.pem, "--servername", SERVERNAME, "--level", "verify",
                          expect_rc=expect_rc)

    # -- otls's client role against slapd

    def test_slapd_starttls_verified(self):
        j, r = self.verified(self.slapd.url("ldap"))
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(j["protocol"], "ldap", d)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertIs(j["starttls"]["offered"], True, d)
        self.assertIs(j["starttls"]["accepted"], True, d)
        self.assertIs(j["certificate"]["trusted"], True, d)
        self.assertIs(j["certificate"]["hostname_match"], True, d)
        before, after = j["capabilities"]["before_tls"], j["capabilities"]["after_tls"]
        self.assertIn(f"supportedExtension: {STARTTLS_OID}", before, d)
        self.assertIn("supportedLDAPVersion: 3", before, d)
        # slapd's root DSE is the same inside TLS, so this shows the post-TLS list was filled;
        # that it was asked again (not copied) is ldap_client_test's transcripts' to show.
        self.assertIn("supportedLDAPVersion: 3", after, "no root DSE after TLS" + d)

    def test_slapd_ldaps_verified(self):
        j, r = self.verified(self.slapd.url("ldaps"))
        d = r.describe()
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(j["mode"], "implicit", d)
        self.assertFalse(j["capabilities"]["before_tls"], d)
        self.assertIn("supportedLDAPVersion: 3", j["capabilities"]["after_tls"], d)

    def test_slapd_without_tls(self):
        # slapd without TLS leaves StartTLS out of supportedExtension (and would answer the
        # request with protocolError, "unsupported extended operation")
        j, r = self.verified(self.plain.url("ldap"), expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        self.assertTrue(j["capabilities"]["before_tls"], d)

    def test_slapd_without_tls_really_answers_protocol_error(self):
        # ground truth for the mapping protocolError -> starttls-not-supported, from slapd itself
        with socket.create_connection((h.LOOPBACK, self.plain.ldap_port), timeout=10) as s:
            s.sendall(starttls_request(1))
            msg_id, op, raw = read_message(s.makefile("rb"))
        self.assertEqual((msg_id, op), (1, 0x78))
        self.assertIn(b"\x0a\x01\x02", raw)  # resultCode ENUMERATED protocolError (2)

    def test_striptls_meddler_in_front_of_slapd(self):
        m = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (h.LOOPBACK, self.slapd.ldap_port), "ldap"))
        j, r = self.verified(m.url(), expect_rc=3)
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertIs(j["starttls"]["offered"], False, d)
        self.assertIsNone(j["tls"], d)
        self.assertNotIn(f"supportedExtension: {STARTTLS_OID}", j["capabilities"]["before_tls"], d)

    def test_otls_client_against_otls_server(self):
        j, r = self.verified(f"ldap://{h.LOOPBACK}:{self.server.port}")
        self.assertEqual(j["outcome"], "ok", r.describe())

    # -- real clients against otls's server role

    def ldapsearch(self, ca, *extra):
        if not shutil.which("ldapsearch"):
            self.skipTest("Debian package ldap-utils is not installed")
        # TLS_REQCERT demand: the chain must verify against `ca` and the name must match. The URL
        # names 127.0.0.1 (an IP SAN of the leaf), not "localhost": libldap checks a "localhost"
        # URL against the machine's own host name instead (ldap_pvt_tls_check_hostname).
        conf = self.workdir / "ldap.conf"
        conf.write_text("")
        env = dict(os.environ, LDAPTLS_CACERT=str(ca), LDAPTLS_REQCERT="demand", LDAPCONF=str(conf),
                   HOME=str(self.workdir))
        return h.run(["ldapsearch", "-ZZ", "-H", f"ldap://{h.LOOPBACK}:{self.server.port}", "-x", "-b", "", "-s",
                      "base", "-o", "nettimeout=10", *extra], env=env, timeout=30)

    def test_ldapsearch_starttls_against_otls_server(self):
        cp = self.ldapsearch(self.ca.pem, "supportedLDAPVersion")
        d = h.describe(cp)
        self.assertNotIn("ldap_start_tls", cp.stderr, "StartTLS or the handshake failed" + d)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("supportedLDAPVersion: 3", cp.stdout, d)

    def test_ldapsearch_refuses_a_chain_it_cannot_verify(self):
        # The same StartTLS with another CA as the trust anchor: libldap must refuse (the
        # positive case above is therefore a real verification).
        # -d 1 makes libldap name the reason: the chain, not StartTLS or the connection.
        cp = self.ldapsearch(self.other_ca.pem, "-d", "1", "supportedLDAPVersion")
        d = h.describe(cp)
        self.assertNotEqual(cp.returncode, 0, d)
        self.assertIn("TLS: peer cert untrusted", cp.stdout + cp.stderr, d)
        self.assertNotIn("supportedLDAPVersion: 3", cp.stdout, d)

    def test_openssl_s_client_starttls_ldap(self):
        cp = h.run(["openssl", "s_client", "-starttls", "ldap", "-connect", f"{h.LOOPBACK}:{self.server.port}",
                    "-CAfile", self.ca.pem, "-verify_return_error", "-verify_hostname", SERVERNAME,
                    "-servername", SERVERNAME], input="", timeout=30)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertRegex(cp.stdout, r"Verify return code: 0 \(ok\)", d)

    def test_gnutls_cli_starttls_ldap(self):
        if not shutil.which("gnutls-cli"):
            self.skipTest("Debian package gnutls-bin is not installed")
        cp = h.run(["gnutls-cli", "--starttls-proto=ldap", "--x509cafile", self.ca.pem, "-p", str(self.server.port),
                    "localhost"], input="", timeout=30)
        d = h.describe(cp)
        self.assertEqual(cp.returncode, 0, d)
        self.assertIn("Handshake was completed", cp.stdout + cp.stderr, d)

    def test_pipelined_plaintext_is_not_answered_inside_tls(self):
        ctx = ssl.create_default_context(cafile=str(self.ca.pem))
        with socket.create_connection((h.LOOPBACK, self.server.port), timeout=10) as raw:
            # StartTLS and a smuggled search in one segment (DESIGN.md rule 1, server side)
            raw.sendall(starttls_request(1) + root_dse_search(2))
            f = raw.makefile("rb", buffering=0)
            msg_id, op, reply = read_message(f)
            self.assertEqual((msg_id, op), (1, 0x78), reply)
            self.assertIn(b"\x0a\x01\x00", reply)  # success
            with ctx.wrap_socket(raw, server_hostname=SERVERNAME) as tls:
                tls.sendall(root_dse_search(3))
                msg_id, op, reply = read_message(tls.makefile("rb"))
                self.assertEqual(msg_id, 3, "the search pipelined before TLS was answered inside TLS")


if __name__ == "__main__":
    unittest.main()
