"""HTTP Upgrade to TLS (RFC 2817 §3): `otls probe http://` against otls's own server role
(otls_test_server --protocol http, optional and mandatory upgrade), against a plain Apache 2.4
vhost and a plain nginx that know nothing of the upgrade, and against an in-test server that injects plaintext behind
its 101; and Python's http.client + ssl driving the RFC 2817 exchange by hand against otls's
server role, including the CVE-2025-49812 check (a GET pipelined behind the upgrading OPTIONS
is never answered inside TLS).

No server in Debian implements RFC 2817 any more (Apache 2.4.64 removed its TLS upgrade to fix
CVE-2025-49812), and neither curl nor openssl s_client can act as an RFC 2817 client.
"""

import http.client
import io
import os
import re
import socket
import ssl
import threading
import unittest
from pathlib import Path

import harness as h

SERVERNAME = "www.test"
LOCAL = h.LOOPBACK
TLS_VERSION = r"^TLSv1\.[23]$"
UPGRADE_REQUEST = (b"OPTIONS * HTTP/1.1\r\nHost: www.test\r\nUpgrade: TLS/1.0\r\n"
                   b"Connection: Upgrade\r\n\r\n")
PIPELINED_GET = b"GET /attacker HTTP/1.1\r\nHost: www.test\r\n\r\n"


def http_response(sock, method):
    """One response read with http.client from a connected (plain or TLS) socket."""
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    return resp


class _Bytes:
    """A socket stand-in for http.client that reads from bytes already received."""

    class _Kept(io.BytesIO):
        def close(self):  # http.client closes its file after the body; the rest stays readable
            pass

    def __init__(self, data):
        self.file = self._Kept(data)

    def makefile(self, mode):
        return self.file


def parse_response(data, method):
    """(response, body, bytes after it): http.client parses what the server sent in full, so a
    second response behind the first cannot hide in a read-ahead buffer."""
    source = _Bytes(data)
    resp = http.client.HTTPResponse(source, method=method)
    resp.begin()
    body = resp.read()
    return resp, body, source.file.read()


def read_to_eof(sock, limit=64):
    """Every byte until the peer closes (bounded in reads; the socket timeout bounds time)."""
    data = b""
    for _ in range(limit):
        try:
            chunk = sock.recv(16384)
        except (socket.timeout, ssl.SSLError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    return data


class HttpUpgrade(h.InteropTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL)
        cls.optional = cls._server("optional", starttls_required=False)
        cls.mandatory = cls._server("mandatory", starttls_required=True)

    @classmethod
    def _server(cls, name, starttls_required):
        (cls.workdir / name).mkdir(parents=True, exist_ok=True)
        return cls.start_class_daemon(h.OtlsTestServer(cls.workdir / name, cls.leaf, hostname=SERVERNAME,
                                                       protocol="http", starttls_required=starttls_required,
                                                       name=f"otls_test_server-http-{name}"))

    def probe(self, port, *args, expect_rc=None, timeout=60):
        r = h.otls_probe(f"http://{LOCAL}:{port}", "--timeout", "10", *args, timeout=timeout)
        self.assertIsNotNone(r.json, f"--json did not print one JSON object{r.describe()}")
        if expect_rc is not None:
            self.assertEqual(r.rc, expect_rc, f"unexpected exit status{r.describe()}")
        return r.json, r

    def verified_probe(self, port, **kw):
        return self.probe(port, "--cafile", self.ca.pem, "--servername", SERVERNAME, "--level", "verify", **kw)

    # -- otls client role against otls server role

    def test_probe_against_otls_server(self):
        for server in (self.optional, self.mandatory):
            with self.subTest(server=server.name):
                j, r = self.verified_probe(server.port, expect_rc=0)
                d = r.describe()
                self.assertEqual(j["outcome"], "ok", d)
                self.assertIsNone(j["error"], d)
                self.assertEqual(j["protocol"], "http", d)
                self.assertEqual(j["mode"], "starttls", d)
                self.assertIs(j["starttls"]["offered"], True, d)
                self.assertIs(j["starttls"]["accepted"], True, d)
                self.assertEqual(j["banner"], "HTTP/1.1 101 Switching Protocols", d)
                self.assertIn("Upgrade: TLS/1.0, HTTP/1.1", j["capabilities"]["before_tls"], d)
                after = j["capabilities"]["after_tls"]
                self.assertEqual(after[0], "HTTP/1.1 200 OK", "the OPTIONS response inside TLS" + d)
                self.assertIn("Allow: OPTIONS, GET, HEAD", after, d)
                self.assertIn("Server: otls", after, d)
                self.assertRegex(j["tls"]["version"], TLS_VERSION, d)
                self.assertIs(j["certificate"]["trusted"], True, d)
                self.assertIs(j["certificate"]["hostname_match"], True, d)

    def test_probe_verification_is_real(self):
        j, r = self.probe(self.optional.port, "--servername", "other.test", "--cafile", self.ca.pem,
                             "--level", "verify")
        self.assertEqual(j["outcome"], "certificate-host-mismatch", r.describe())

    # -- otls client role against a plain nginx (no RFC 2817)

    def test_probe_against_plain_nginx_is_not_supported(self):
        nginx = str(h.NGINX_BIN)
        if not h.NGINX_BIN.exists():
            raise unittest.SkipTest("nginx not installed (Debian package 'nginx')")
        d = self.scratch_dir()
        (d / "log").mkdir()
        (d / "tmp").mkdir()
        port = h.free_port(LOCAL)
        temp = "\n".join(f"  {k}_temp_path {d / 'tmp' / k};" for k in ("client_body", "proxy", "fastcgi",
                                                                         "uwsgi", "scgi"))
        # nginx refuses the asterisk-form "OPTIONS *" with 400 while parsing, before any server or
        # location directive applies; the 200 of a server that ignores Upgrade (as Apache's does)
        # is test_plain_200_is_upgrade_not_supported's.
        ports = {"nginx": port}
        conf = d / "nginx.conf"
        conf.write_text(f"""# private nginx for tests/interop/test_http.py; not the system's
worker_processes 1;
pid {d / 'nginx.pid'};
error_log {d / 'log' / 'error.log'} info;
events {{ worker_connections 64; }}
http {{
  access_log {d / 'log' / 'access.log'};
{temp}
  server {{ listen {LOCAL}:{port}; location / {{ return 200 "plain\\n"; }} }}
}}
""")
        daemon = self.start_daemon(h.Daemon([nginx, "-p", d, "-e", d / "log" / "error.log", "-c", conf,
                                             "-g", "daemon off;"], name="nginx-plain", logdir=d / "log",
                                            ready_port=(LOCAL, port),
                                            extra_logs=[d / "log" / "error.log", d / "log" / "access.log"]))
        for name, p in ports.items():
            h.wait_for_port(LOCAL, p, timeout=15, alive=daemon.alive)
            with self.subTest(nginx=name):
                j, r = self.verified_probe(p)
                dd = r.describe()
                self.assertEqual(j["outcome"], "starttls-not-supported", dd)
                self.assertNotEqual(r.rc, 0, dd)
                self.assertRegex(j["error"]["detail"],
                                 r"^upgrade-not-supported: the server answered 400 to an RFC 2817 "
                                 r"upgrade request$", dd)
                self.assertRegex(j["error"]["peer_text"][0], r"^HTTP/1\.1 400 ", dd)
                self.assertIsNone(j["tls"], dd)
                self.assertIs(j["starttls"]["accepted"], False, dd)
        # the upgrade request reached nginx as an OPTIONS request (nginx logs it after answering)
        h.wait_for_line(d / "log" / "access.log", r'"OPTIONS \* HTTP/1\.1" 400 ', timeout=10)

    # -- otls client role against a plain Apache vhost (Debian 12's 2.4.71: no RFC 2817 code)

    def test_probe_against_plain_apache_is_upgrade_not_supported(self):
        apache = Path("/usr/sbin/apache2")
        if not apache.exists():
            raise unittest.SkipTest("apache2 not installed (Debian package 'apache2')")
        d = self.scratch_dir()
        (d / "www").mkdir()
        (d / "www" / "index.html").write_text("plain\n")
        os.chmod(d, 0o755)
        port = h.free_port(LOCAL)
        modules = Path("/usr/lib/apache2/modules")
        conf = d / "apache2.conf"
        conf.write_text(f"""# private Apache for tests/interop/test_http.py; nothing from /etc/apache2 is read
LoadModule mpm_event_module {modules / 'mod_mpm_event.so'}
LoadModule authz_core_module {modules / 'mod_authz_core.so'}
ServerRoot {d}
ServerName {SERVERNAME}
Listen {LOCAL}:{port}
PidFile {d / 'apache2.pid'}
Mutex file:{d} default
DefaultRuntimeDir {d}
ErrorLog {d / 'error.log'}
LogFormat "%r %>s" brief
CustomLog {d / 'access.log'} brief
User www-data
Group www-data
StartServers 1
ServerLimit 1
ThreadsPerChild 4
MaxRequestWorkers 4
<VirtualHost {LOCAL}:{port}>
  DocumentRoot {d / 'www'}
  <Directory {d / 'www'}>
    Require all granted
  </Directory>
</VirtualHost>
""")
        daemon = self.start_daemon(h.Daemon([apache, "-f", conf, "-DFOREGROUND"], name="apache2-plain", logdir=d,
                                            ready_port=(LOCAL, port),
                                            extra_logs=[d / "error.log", d / "access.log"]))
        h.wait_for_port(LOCAL, port, timeout=15, alive=daemon.alive)
        j, r = self.verified_probe(port)
        dd = r.describe()
        self.assertEqual(r.rc, 3, dd)
        self.assertEqual(j["outcome"], "starttls-not-supported", dd)
        self.assertEqual(j["error"]["detail"],
                         "upgrade-not-supported: the server answered 200 to an RFC 2817 upgrade request", dd)
        self.assertEqual(j["error"]["peer_text"][0], "HTTP/1.1 200 OK", dd)
        self.assertIsNone(j["tls"], dd)
        self.assertIs(j["starttls"]["accepted"], False, dd)
        # Apache answered the OPTIONS * itself (it logs the request once answered)
        h.wait_for_line(d / "access.log", r"^OPTIONS \* HTTP/1\.1 200$", timeout=10)

    # -- response injection behind the 101 (DESIGN.md rule 1)

    def one_shot_probe(self, reply):
        """otls probe against an in-test server that reads one request and answers `reply`.
        Returns (json, ProbeResult, the request it received)."""
        listener = socket.create_server((LOCAL, 0))
        listener.settimeout(20)
        port = listener.getsockname()[1]
        seen = {}

        def serve_once():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 8192:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                seen["request"] = data
                conn.sendall(reply)
                read_to_eof(conn, limit=4)

        t = threading.Thread(target=serve_once, daemon=True)
        t.start()
        try:
            j, r = self.verified_probe(port)
        finally:
            listener.close()
            t.join(timeout=20)
        return j, r, seen.get("request")

    def test_plain_200_is_upgrade_not_supported(self):
        j, r, _ = self.one_shot_probe(b"HTTP/1.1 200 OK\r\nServer: Apache\r\nAllow: GET,POST,OPTIONS,HEAD\r\n"
                                      b"Content-Length: 0\r\n\r\n")
        d = r.describe()
        self.assertEqual(j["outcome"], "starttls-not-supported", d)
        self.assertEqual(j["error"]["detail"],
                         "upgrade-not-supported: the server answered 200 to an RFC 2817 upgrade request", d)
        self.assertEqual(j["error"]["peer_text"][0], "HTTP/1.1 200 OK", d)

    def test_plaintext_after_101_is_response_injection(self):
        j, r, request = self.one_shot_probe(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nServer: injected\r\nContent-Length: 0\r\n\r\n")
        d = r.describe()
        self.assertEqual(j["outcome"], "response-injection", d)
        self.assertIsNone(j["tls"], d)
        # RFC 9110 §7.2: Host names the port when it is not 80.
        port = j["target"].rsplit(":", 1)[1].encode()
        self.assertEqual(request, b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:" + port + b"\r\n"
                                  b"Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n", d)

    # -- Python's http.client + ssl against otls's server role

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=str(self.ca.pem))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def upgrade_by_hand(self, port, *, pipelined=b""):
        """RFC 2817 §3 with http.client: OPTIONS * + Upgrade, 101, handshake, the OPTIONS response
        inside TLS. Returns (101 response, TLS version, response inside TLS, bytes after it)."""
        conn = http.client.HTTPConnection(LOCAL, port, timeout=15)
        conn.putrequest("OPTIONS", "*", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", SERVERNAME)
        conn.putheader("Upgrade", "TLS/1.0")
        conn.putheader("Connection", "Upgrade")
        # The attacker's request goes behind the upgrade in the same segment (http.client sends
        # a bytes message_body in the same write as the header, without adding Content-Length),
        # so the server holds it when it answers 101. In a later segment it would reach the TLS
        # handshake instead and fail it, which is safe too but tests nothing about the discard.
        conn.endheaders(message_body=pipelined or None)
        switching = conn.getresponse()
        raw = conn.sock
        conn.sock = None  # the socket now belongs to TLS, not to http.client
        with self.tls_context().wrap_socket(raw, server_hostname=SERVERNAME) as tls:
            version = tls.version()
            received = read_to_eof(tls)  # the server closes after its one answer
        inside, _, rest = parse_response(received, "OPTIONS")
        return switching, version, inside, rest

    def test_python_client_upgrades_against_otls_server(self):
        for server in (self.optional, self.mandatory):
            with self.subTest(server=server.name):
                switching, version, inside, rest = self.upgrade_by_hand(server.port)
                self.assertEqual(switching.status, 101)
                self.assertRegex(version, TLS_VERSION)
                self.assertRegex(switching.getheader("Upgrade", ""), r"^TLS/1\.0\b")
                self.assertEqual(switching.getheader("Connection", "").lower(), "upgrade")
                self.assertEqual(inside.status, 200)
                self.assertEqual(inside.getheader("Allow"), "OPTIONS, GET, HEAD")
                self.assertEqual(rest, b"", "nothing but the OPTIONS response inside TLS")

    def test_pipelined_get_is_never_answered_inside_tls(self):
        """CVE-2025-49812: a plaintext GET behind the upgrading OPTIONS must not be answered inside
        the TLS session; otls's server discards it and logs the discarded bytes."""
        upgrade = (b"OPTIONS * HTTP/1.1\r\nHost: " + SERVERNAME.encode() +
                   b"\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n")
        for server in (self.optional, self.mandatory):
            with self.subTest(server=server.name):
                since = h.file_offset(server.stderr_log)
                # A raw socket, one write for both requests, and the 101 read byte by byte: no
                # read-ahead buffer may swallow or reorder anything around the upgrade.
                with socket.create_connection((LOCAL, server.port), timeout=15) as raw:
                    raw.sendall(upgrade + PIPELINED_GET)
                    head = b""
                    for _ in range(8192):
                        if head.endswith(b"\r\n\r\n"):
                            break
                        byte = raw.recv(1)
                        if not byte:
                            break
                        head += byte
                    self.assertRegex(head, rb"^HTTP/1\.1 101 ", head)
                    with self.tls_context().wrap_socket(raw, server_hostname=SERVERNAME) as tls:
                        received = read_to_eof(tls)
                inside, _, rest = parse_response(received, "OPTIONS")
                self.assertEqual(inside.status, 200)
                self.assertEqual(inside.getheader("Allow"), "OPTIONS, GET, HEAD")
                self.assertNotIn(b"HTTP/1.", rest, "a second response inside TLS: the pipelined GET")
                h.wait_for_line(server.stderr_log, rf"discarded {len(PIPELINED_GET)} plaintext bytes",
                                since=since, timeout=10)

    def test_python_get_before_upgrade(self):
        # mandatory: 426 with the upgrade named, connection kept for the OPTIONS upgrade
        conn = http.client.HTTPConnection(LOCAL, self.mandatory.port, timeout=15)
        try:
            conn.request("GET", "/", headers={"Host": SERVERNAME})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 426)
            self.assertEqual(resp.getheader("Upgrade"), "TLS/1.0, HTTP/1.1")
            self.assertEqual(resp.getheader("Connection"), "Upgrade")
            # RFC 2817 §4.2: the client may now upgrade on the same connection
            conn.putrequest("OPTIONS", "*", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", SERVERNAME)
            conn.putheader("Upgrade", "TLS/1.0")
            conn.putheader("Connection", "Upgrade")
            conn.endheaders()
            switching = conn.getresponse()
            self.assertEqual(switching.status, 101)
            raw, conn.sock = conn.sock, None
            with self.tls_context().wrap_socket(raw, server_hostname=SERVERNAME) as tls:
                self.assertEqual(http_response(tls, "OPTIONS").status, 200)
        finally:
            conn.close()
        # optional: a plain 200 that names the upgrade, and the connection closes
        conn = http.client.HTTPConnection(LOCAL, self.optional.port, timeout=15)
        try:
            conn.request("GET", "/", headers={"Host": SERVERNAME})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.getheader("Upgrade"), "TLS/1.0")
            self.assertEqual(resp.getheader("Connection"), "close")
            self.assertIn(b"OPTIONS *", resp.read())
        finally:
            conn.close()

    def test_handshake_checks_the_certificate(self):
        ctx = ssl.create_default_context()  # system CAs: the otls test CA is not among them
        raw = socket.create_connection((LOCAL, self.optional.port), timeout=15)
        try:
            raw.sendall(UPGRADE_REQUEST)
            self.assertEqual(http_response(raw, "OPTIONS").status, 101)
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(raw, server_hostname=SERVERNAME)
        finally:
            raw.close()


if __name__ == "__main__":
    unittest.main()
