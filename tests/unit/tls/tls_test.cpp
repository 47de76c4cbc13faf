// Unit tests of the tls layer: cert_maker output, contexts, verification and session facts,
// with real OpenSSL client and server handshaking over an in-memory BIO pair (no sockets).
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include "openssl_handles.hpp"
#include "otls/tls/cert_maker.hpp"
#include "otls/tls/tls.hpp"

namespace {

namespace tls = otls::tls;
using otls::error_code;

using namespace otls::tls::detail;

x509_ptr parse_certificate(const std::string& pem) {
  bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return x509_ptr(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
}

evp_pkey_ptr parse_key(const std::string& pem) {
  bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return evp_pkey_ptr(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool is_sha256_hex(const std::string& text) {
  return std::regex_match(text, std::regex("[0-9a-f]{64}"));
}

bool is_iso8601_utc(const std::string& text) {
  return std::regex_match(text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"));
}

// A client and a server SSL object joined by an OpenSSL BIO pair and stepped in turn until
// both finish or fail. Each failed step's first OpenSSL error is kept the way asio's ssl
// engine keeps it (ERR_get_error() as the int value of an ssl-category error_code), so
// classify_handshake_error sees exactly what it would see behind asio::ssl::stream.
class loopback_session {
 public:
  loopback_session(SSL_CTX* client_ctx, SSL_CTX* server_ctx)
      : client_(SSL_new(client_ctx)), server_(SSL_new(server_ctx)) {
    BIO* client_end = nullptr;
    BIO* server_end = nullptr;
    BIO_new_bio_pair(&client_end, 0, &server_end, 0);
    SSL_set_bio(client_.get(), client_end, client_end);
    SSL_set_bio(server_.get(), server_end, server_end);
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
  }

  SSL* client() const { return client_.get(); }
  SSL* server() const { return server_.get(); }

  // True when both sides completed the handshake.
  bool handshake() {
    for (int round = 0; round < 50 && !(finished(client_state_) && finished(server_state_));
         ++round) {
      step(client_.get(), client_state_, client_error_);
      step(server_.get(), server_state_, server_error_);
    }
    return client_state_ == state::done && server_state_ == state::done;
  }

  error_code client_asio_error() const {
    return {static_cast<int>(client_error_), boost::asio::error::get_ssl_category()};
  }

 private:
  enum class state { running, done, failed };
  static bool finished(state s) { return s != state::running; }

  static void step(SSL* ssl, state& s, unsigned long& error) {
    if (finished(s)) return;
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      s = state::done;
    } else {
      const int reason = SSL_get_error(ssl, rc);
      if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
        s = state::failed;
        error = ERR_get_error();
      }
    }
    ERR_clear_error();
  }

  ssl_ptr client_;
  ssl_ptr server_;
  state client_state_ = state::running;
  state server_state_ = state::running;
  unsigned long client_error_ = 0;
  unsigned long server_error_ = 0;
};

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new tls::certificate_authority(
        tls::certificate_authority::create("otls test CA", tls::key_kind::ecdsa_p256).value());
    other_ca_ = new tls::certificate_authority(
        tls::certificate_authority::create("other CA", tls::key_kind::ecdsa_p256).value());
    ca_file_ = write_temp("ca.pem", ca_->certificate_pem());
    other_ca_file_ = write_temp("other-ca.pem", other_ca_->certificate_pem());
  }

  static void TearDownTestSuite() {
    delete ca_;
    delete other_ca_;
    for (const auto& path : temp_files_) std::filesystem::remove(path);
    temp_files_.clear();
  }

  static std::string write_temp(const std::string& name, const std::string& contents) {
    const auto path = std::filesystem::path(::testing::TempDir()) /
                      ("otls_tls_test_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(path, std::ios::binary) << contents;
    temp_files_.push_back(path);
    return path.string();
  }

  static tls::issued_certificate leaf(const std::vector<std::string>& names,
                                      tls::key_kind kind = tls::key_kind::ecdsa_p256) {
    return ca_->issue(names, kind).value();
  }

  static boost::asio::ssl::context server_context(const tls::issued_certificate& cert,
                                                  const std::string& chain_extra = {},
                                                  tls::version min = tls::version::tls1_2) {
    tls::server_config config;
    config.certificate_chain_pem = cert.certificate_pem + chain_extra;
    config.private_key_pem = cert.private_key_pem;
    config.min_version = min;
    return tls::make_server_context(config).value();
  }

  static tls::client_config client_config(const std::string& servername,
                                          const std::string& ca_file = ca_file_) {
    tls::client_config config;
    config.ca_file = ca_file;
    config.servername = servername;
    return config;
  }

  // Handshakes a fresh client against `server` and returns what the client learnt.
  static tls::session_facts connect(boost::asio::ssl::context& server,
                                    const tls::client_config& config) {
    auto client = tls::make_client_context(config).value();
    loopback_session session(client.native_handle(), server.native_handle());
    EXPECT_FALSE(tls::prepare_client(session.client(), config));
    EXPECT_TRUE(session.handshake());
    return tls::inspect(session.client(), config);
  }

  static inline tls::certificate_authority* ca_ = nullptr;
  static inline tls::certificate_authority* other_ca_ = nullptr;
  static inline std::string ca_file_;
  static inline std::string other_ca_file_;
  static inline std::vector<std::filesystem::path> temp_files_;
};

TEST(ParseVersion, AcceptsTheUsualSpellings) {
  EXPECT_EQ(tls::parse_version("1.0").value(), tls::version::tls1_0);
  EXPECT_EQ(tls::parse_version("1.1").value(), tls::version::tls1_1);
  EXPECT_EQ(tls::parse_version("1.2").value(), tls::version::tls1_2);
  EXPECT_EQ(tls::parse_version("1.3").value(), tls::version::tls1_3);
  EXPECT_EQ(tls::parse_version("tls1.2").value(), tls::version::tls1_2);
  EXPECT_EQ(tls::parse_version("TLSv1.3").value(), tls::version::tls1_3);
  EXPECT_EQ(tls::parse_version("TLS1.1").value(), tls::version::tls1_1);
}

TEST(ParseVersion, RejectsOthers) {
  for (const char* text : {"", "1.4", "2", "tls", "TLSv", "1.2 ", "sslv3", "1.", "v1.2"}) {
    const auto parsed = tls::parse_version(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error(), tls::errc::bad_version) << text;
  }
}

TEST(ParseVersion, RoundTripsThroughToString) {
  for (auto v :
       {tls::version::tls1_0, tls::version::tls1_1, tls::version::tls1_2, tls::version::tls1_3}) {
    EXPECT_EQ(tls::parse_version(tls::to_string(v)).value(), v);
  }
}

TEST(ErrorCategory, HasNameAndMessages) {
  EXPECT_STREQ(tls::category().name(), "otls.tls");
  for (int e = static_cast<int>(tls::errc::handshake_failure);
       e <= static_cast<int>(tls::errc::bad_version); ++e) {
    const error_code ec = tls::make_error_code(static_cast<tls::errc>(e));
    EXPECT_FALSE(ec.message().empty());
    EXPECT_NE(ec.message(), "unknown otls.tls error") << e;
  }
  const error_code legacy = tls::errc::legacy_tls_only;
  EXPECT_EQ(legacy, tls::errc::legacy_tls_only);
}

TEST_F(TlsTest, CaIsSelfSignedCa) {
  const x509_ptr cert = parse_certificate(ca_->certificate_pem());
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_TRUE(X509_get_extension_flags(cert.get()) & EXFLAG_SS);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(cert.get()), nullptr);
  const evp_pkey_ptr key = parse_key(ca_->private_key_pem());
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_EQ(ca_->private_key_pem().rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
}

TEST_F(TlsTest, LeafVerifiesAgainstItsCa) {
  const auto issued = leaf({"localhost", "127.0.0.1", "::1"}, tls::key_kind::rsa_2048);
  const x509_ptr cert = parse_certificate(issued.certificate_pem);
  const x509_ptr ca_cert = parse_certificate(ca_->certificate_pem());
  ASSERT_TRUE(cert && ca_cert);
  EXPECT_EQ(issued.private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  const evp_pkey_ptr key = parse_key(issued.private_key_pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_NE(X509_get0_authority_key_id(cert.get()), nullptr);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_GT(ASN1_STRING_length(serial), 8);   // 128 random bits, leading zero bytes unlikely
  EXPECT_LE(ASN1_STRING_length(serial), 17);  // plus a sign byte at most

  x509_store_ptr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca_cert.get());
  x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr), 1);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
}

TEST_F(TlsTest, SerialsAreRandom) {
  const x509_ptr a = parse_certificate(leaf({"a.test"}).certificate_pem);
  const x509_ptr b = parse_certificate(leaf({"a.test"}).certificate_pem);
  ASSERT_TRUE(a && b);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())), 0);
}

TEST_F(TlsTest, IssueRejectsBadNames) {
  EXPECT_FALSE(ca_->issue({}, tls::key_kind::ecdsa_p256));
  EXPECT_FALSE(ca_->issue({""}, tls::key_kind::ecdsa_p256));
  EXPECT_FALSE(ca_->issue({"bad name"}, tls::key_kind::ecdsa_p256));
  EXPECT_FALSE(ca_->issue({"ok.test", "x,DNS:evil.test"}, tls::key_kind::ecdsa_p256));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsTest, FromPemLoadsOnlyMatchingCaPairs) {
  auto loaded =
      tls::certificate_authority::from_pem(ca_->certificate_pem(), ca_->private_key_pem());
  ASSERT_TRUE(loaded);
  const auto issued = loaded->issue({"from-pem.test"}, tls::key_kind::ecdsa_p256);
  ASSERT_TRUE(issued);

  const auto wrong_key =
      tls::certificate_authority::from_pem(ca_->certificate_pem(), other_ca_->private_key_pem());
  ASSERT_FALSE(wrong_key);
  EXPECT_EQ(wrong_key.error(), tls::errc::bad_certificate);
  const auto not_a_ca =
      tls::certificate_authority::from_pem(issued->certificate_pem, issued->private_key_pem);
  EXPECT_FALSE(not_a_ca);
  EXPECT_FALSE(tls::certificate_authority::from_pem("garbage", "garbage"));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsTest, Tls13FactsWithEcdsaChain) {
  const auto cert = leaf({"localhost", "127.0.0.1", "::1"});
  auto server = server_context(cert, ca_->certificate_pem());  // leaf, then the CA
  const auto config = client_config("localhost");
  auto client = tls::make_client_context(config).value();
  loopback_session session(client.native_handle(), server.native_handle());
  ASSERT_FALSE(tls::prepare_client(session.client(), config));
  ASSERT_TRUE(session.handshake());
  EXPECT_STREQ(SSL_get_servername(session.server(), TLSEXT_NAMETYPE_host_name), "localhost");

  const auto facts = tls::inspect(session.client(), config);
  EXPECT_EQ(facts.version, "TLSv1.3");
  EXPECT_EQ(facts.cipher.rfind("TLS_", 0), 0u) << facts.cipher;
  EXPECT_EQ(facts.group, "x25519");
  EXPECT_TRUE(facts.forward_secrecy);
  ASSERT_EQ(facts.chain.size(), 2u);

  const auto& info = facts.chain[0];
  EXPECT_EQ(info.subject, "CN=localhost");
  EXPECT_EQ(info.issuer, "CN=otls test CA");
  EXPECT_EQ(info.dns_names, std::vector<std::string>{"localhost"});
  EXPECT_TRUE(contains(info.ip_addresses, "127.0.0.1"));
  EXPECT_TRUE(contains(info.ip_addresses, "::1"));
  EXPECT_TRUE(is_iso8601_utc(info.not_before)) << info.not_before;
  EXPECT_TRUE(is_iso8601_utc(info.not_after)) << info.not_after;
  EXPECT_LT(info.not_before, info.not_after);
  EXPECT_EQ(info.key_type, "EC");
  EXPECT_EQ(info.key_bits, 256);
  EXPECT_EQ(info.signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_TRUE(is_sha256_hex(info.sha256_fingerprint)) << info.sha256_fingerprint;
  EXPECT_TRUE(is_sha256_hex(info.spki_sha256)) << info.spki_sha256;
  EXPECT_NE(info.sha256_fingerprint, info.spki_sha256);

  // The fingerprint is that of the DER certificate.
  const x509_ptr leaf_cert = parse_certificate(cert.certificate_pem);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  ASSERT_EQ(X509_digest(leaf_cert.get(), EVP_sha256(), digest, &digest_size), 1);
  std::string expected;
  for (unsigned int i = 0; i < digest_size; ++i) {
    expected += "0123456789abcdef"[digest[i] >> 4];
    expected += "0123456789abcdef"[digest[i] & 0x0f];
  }
  EXPECT_EQ(info.sha256_fingerprint, expected);

  EXPECT_EQ(facts.chain[1].subject, "CN=otls test CA");
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_TRUE(facts.verify.hostname_match);
  EXPECT_EQ(facts.verify.x509_code, X509_V_OK);
  EXPECT_TRUE(facts.verify.error.empty());
  EXPECT_FALSE(tls::verification_error(facts.verify));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsTest, RsaLeafFacts) {
  auto server = server_context(leaf({"localhost"}, tls::key_kind::rsa_2048));
  const auto facts = connect(server, client_config("localhost"));
  ASSERT_EQ(facts.chain.size(), 1u);
  EXPECT_EQ(facts.chain[0].key_type, "RSA");
  EXPECT_EQ(facts.chain[0].key_bits, 2048);
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_TRUE(facts.verify.hostname_match);
}

TEST_F(TlsTest, HostMismatchOnTrustedChain) {
  auto server = server_context(leaf({"other.test"}));
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_FALSE(facts.verify.hostname_match);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_host_mismatch);
}

TEST_F(TlsTest, WildcardMatchesOneLabelOnly) {
  auto server = server_context(leaf({"*.example.test"}));
  EXPECT_TRUE(connect(server, client_config("mail.example.test")).verify.hostname_match);
  EXPECT_FALSE(connect(server, client_config("a.b.example.test")).verify.hostname_match);
  EXPECT_TRUE(connect(server, client_config("MAIL.Example.Test.")).verify.hostname_match);
}

// Confirms that SSL_VERIFY_NONE still verifies the chain: the handshake completes and the
// verify result records why the chain is not trusted.
TEST_F(TlsTest, UnknownCaCompletesHandshakeButIsNotTrusted) {
  auto server = server_context(leaf({"localhost"}));
  const auto config = client_config("localhost", other_ca_file_);
  auto client = tls::make_client_context(config).value();
  EXPECT_EQ(SSL_CTX_get_verify_mode(client.native_handle()), SSL_VERIFY_NONE);
  loopback_session session(client.native_handle(), server.native_handle());
  ASSERT_FALSE(tls::prepare_client(session.client(), config));
  ASSERT_TRUE(session.handshake());
  EXPECT_EQ(SSL_get_verify_result(session.client()), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);

  const auto facts = tls::inspect(session.client(), config);
  EXPECT_FALSE(facts.verify.trusted);
  EXPECT_TRUE(facts.verify.hostname_match);  // the name is checked independently
  EXPECT_EQ(facts.verify.x509_code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(facts.verify.error, "unable to get local issuer certificate");
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_not_trusted);
}

TEST_F(TlsTest, SelfSignedServerIsNotTrusted) {
  auto server = server_context({other_ca_->certificate_pem(), other_ca_->private_key_pem()});
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_EQ(facts.verify.x509_code, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_not_trusted);
}

TEST_F(TlsTest, ExpiredLeaf) {
  // A day-long window that closed an hour ago.
  const auto cert = ca_->issue({"localhost"}, tls::key_kind::ecdsa_p256, std::chrono::hours(24),
                               std::chrono::hours(-25))
                        .value();
  auto server = server_context(cert);
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_FALSE(facts.verify.trusted);
  EXPECT_TRUE(facts.verify.hostname_match);
  EXPECT_EQ(facts.verify.x509_code, X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(facts.verify.error, "certificate has expired");
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_expired);
}

TEST_F(TlsTest, IpLiteralsMatchIpSansAndAreNotSentAsSni) {
  auto server = server_context(leaf({"localhost", "127.0.0.1", "::1"}));
  for (const char* name : {"127.0.0.1", "::1", "[::1]"}) {
    const auto config = client_config(name);
    auto client = tls::make_client_context(config).value();
    loopback_session session(client.native_handle(), server.native_handle());
    ASSERT_FALSE(tls::prepare_client(session.client(), config));
    ASSERT_TRUE(session.handshake());
    EXPECT_EQ(SSL_get_servername(session.server(), TLSEXT_NAMETYPE_host_name), nullptr) << name;
    const auto facts = tls::inspect(session.client(), config);
    EXPECT_TRUE(facts.verify.trusted) << name;
    EXPECT_TRUE(facts.verify.hostname_match) << name;
    EXPECT_FALSE(tls::verification_error(facts.verify)) << name;
  }
  EXPECT_FALSE(connect(server, client_config("127.0.0.2")).verify.hostname_match);
  // An IP literal does not match a DNS SAN spelling the same characters, nor the reverse.
  auto dns_only = server_context(leaf({"localhost"}));
  EXPECT_FALSE(connect(dns_only, client_config("127.0.0.1")).verify.hostname_match);
}

TEST_F(TlsTest, NoServernameMeansNoHostnameMatch) {
  auto server = server_context(leaf({"localhost"}));
  const auto facts = connect(server, client_config(""));
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_FALSE(facts.verify.hostname_match);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_host_mismatch);
}

TEST_F(TlsTest, Tls12EcdheHasForwardSecrecy) {
  auto server = server_context(leaf({"localhost"}));
  SSL_CTX_set_max_proto_version(server.native_handle(), TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(server.native_handle(), "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_EQ(facts.version, "TLSv1.2");
  EXPECT_EQ(facts.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(facts.group, "x25519");
  EXPECT_TRUE(facts.forward_secrecy);
  EXPECT_TRUE(facts.verify.trusted);
}

TEST_F(TlsTest, Tls12GroupNameForP256) {
  auto server = server_context(leaf({"localhost"}));
  SSL_CTX_set_max_proto_version(server.native_handle(), TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set1_groups_list(server.native_handle(), "P-256"), 1);
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_EQ(facts.version, "TLSv1.2");
  EXPECT_EQ(facts.group, "secp256r1");
  EXPECT_TRUE(facts.forward_secrecy);
}

TEST_F(TlsTest, Tls12RsaKeyTransportHasNoForwardSecrecy) {
  auto server = server_context(leaf({"localhost"}, tls::key_kind::rsa_2048));
  SSL_CTX_set_max_proto_version(server.native_handle(), TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(server.native_handle(), "AES128-GCM-SHA256"), 1);
  const auto facts = connect(server, client_config("localhost"));
  EXPECT_EQ(facts.version, "TLSv1.2");
  EXPECT_EQ(facts.cipher, "AES128-GCM-SHA256");
  EXPECT_FALSE(facts.forward_secrecy);
  EXPECT_TRUE(facts.group.empty()) << facts.group;
}

// OpenSSL 3.0 on Debian 12 still implements TLS 1.0/1.1, but only at security level 0 (their
// handshake signatures use SHA-1/MD5); make_*_context(min 1.0/1.1) drops to that level.
TEST_F(TlsTest, LegacyServerIsReportedAsLegacyOnly) {
  auto server = server_context(leaf({"localhost"}), {}, tls::version::tls1_0);
  SSL_CTX_set_max_proto_version(server.native_handle(), TLS1_1_VERSION);

  const auto config = client_config("localhost");  // min 1.2
  auto client = tls::make_client_context(config).value();
  loopback_session session(client.native_handle(), server.native_handle());
  ASSERT_FALSE(tls::prepare_client(session.client(), config));
  ASSERT_FALSE(session.handshake());
  std::string detail;
  EXPECT_EQ(tls::classify_handshake_error(session.client_asio_error(), detail),
            tls::errc::legacy_tls_only);
  // An OpenSSL server reads our supported_versions (1.3, 1.2), finds nothing it speaks and
  // sends a protocol_version alert; servers that ignore that extension answer with a TLS 1.1
  // ServerHello instead, which our client rejects as "unsupported protocol" (same errc).
  EXPECT_EQ(detail, "tlsv1 alert protocol version");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsTest, LegacyServerWorksWithLoweredMinimum) {
  auto server = server_context(leaf({"localhost"}), {}, tls::version::tls1_0);
  for (const int max : {TLS1_1_VERSION, TLS1_VERSION}) {
    SSL_CTX_set_max_proto_version(server.native_handle(), max);
    auto config = client_config("localhost");
    config.min_version = tls::version::tls1_0;
    const auto facts = connect(server, config);
    EXPECT_EQ(facts.version, max == TLS1_1_VERSION ? "TLSv1.1" : "TLSv1");
    EXPECT_TRUE(facts.forward_secrecy);  // ECDHE-ECDSA-AES*-SHA
    EXPECT_TRUE(facts.verify.trusted);
    EXPECT_TRUE(facts.verify.hostname_match);
  }
}

TEST_F(TlsTest, ClientAtLevelOneCannotTalkToTls11) {
  auto server = server_context(leaf({"localhost"}), {}, tls::version::tls1_0);
  SSL_CTX_set_max_proto_version(server.native_handle(), TLS1_1_VERSION);
  auto config = client_config("localhost");
  auto client = tls::make_client_context(config).value();
  // Allowing TLS 1.1 without dropping to security level 0: OpenSSL 3.0 still negotiates
  // TLS 1.1 but then refuses the server's MD5+SHA-1 handshake signature. This is why
  // make_client_context drops the level whenever the minimum is below 1.2.
  SSL_CTX_set_min_proto_version(client.native_handle(), TLS1_1_VERSION);
  loopback_session session(client.native_handle(), server.native_handle());
  ASSERT_FALSE(session.handshake());
  std::string detail;
  const error_code kind = tls::classify_handshake_error(session.client_asio_error(), detail);
  EXPECT_EQ(kind, tls::errc::handshake_failure);
  EXPECT_EQ(detail, "legacy sigalg disallowed or unsupported");
}

TEST_F(TlsTest, PlaintextPeerIsAHandshakeFailure) {
  const auto config = client_config("localhost");
  auto client = tls::make_client_context(config).value();
  ssl_ptr ssl(SSL_new(client.native_handle()));
  BIO* client_end = nullptr;
  BIO* server_end = nullptr;
  BIO_new_bio_pair(&client_end, 0, &server_end, 0);
  bio_ptr server_bio(server_end);
  SSL_set_bio(ssl.get(), client_end, client_end);
  SSL_set_connect_state(ssl.get());
  const std::string greeting = "220 mail.example.test ESMTP ready\r\n";
  ASSERT_EQ(BIO_write(server_end, greeting.data(), static_cast<int>(greeting.size())),
            static_cast<int>(greeting.size()));
  ERR_clear_error();
  ASSERT_LE(SSL_do_handshake(ssl.get()), 0);
  const error_code asio_error(static_cast<int>(ERR_get_error()),
                              boost::asio::error::get_ssl_category());
  std::string detail;
  EXPECT_EQ(tls::classify_handshake_error(asio_error, detail), tls::errc::handshake_failure);
  EXPECT_NE(detail.find("wrong version number"), std::string::npos) << detail;
  EXPECT_NE(detail.find("does not seem to speak TLS"), std::string::npos) << detail;
}

TEST(ClassifyHandshakeError, PeerCloseAndOtherErrors) {
  std::string detail;
  EXPECT_FALSE(tls::classify_handshake_error({}, detail));
  EXPECT_TRUE(detail.empty());

  EXPECT_EQ(tls::classify_handshake_error(boost::asio::error::eof, detail),
            tls::errc::handshake_failure);
  EXPECT_NE(detail.find("closed the connection"), std::string::npos) << detail;

  detail = "server said hello";
  EXPECT_EQ(tls::classify_handshake_error(boost::asio::ssl::error::stream_truncated, detail),
            tls::errc::handshake_failure);
  EXPECT_EQ(detail.rfind("server said hello; ", 0), 0u) << detail;

  detail.clear();
  EXPECT_EQ(tls::classify_handshake_error(boost::asio::error::connection_reset, detail),
            tls::errc::handshake_failure);
  EXPECT_FALSE(detail.empty());

  detail.clear();
  const error_code alert(
      static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)),
      boost::asio::error::get_ssl_category());
  EXPECT_EQ(tls::classify_handshake_error(alert, detail), tls::errc::legacy_tls_only);
  EXPECT_EQ(detail, "tlsv1 alert protocol version");

  detail.clear();
  const error_code old_server_hello(
      static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNSUPPORTED_PROTOCOL)),
      boost::asio::error::get_ssl_category());
  EXPECT_EQ(tls::classify_handshake_error(old_server_hello, detail), tls::errc::legacy_tls_only);
  EXPECT_EQ(detail, "unsupported protocol");

  detail.clear();  // a local configuration problem, not the server's age
  const error_code no_protocols(
      static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_PROTOCOLS_AVAILABLE)),
      boost::asio::error::get_ssl_category());
  EXPECT_EQ(tls::classify_handshake_error(no_protocols, detail), tls::errc::handshake_failure);

  detail.clear();
  const error_code no_cipher(
      static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)),
      boost::asio::error::get_ssl_category());
  EXPECT_EQ(tls::classify_handshake_error(no_cipher, detail), tls::errc::handshake_failure);
  EXPECT_EQ(detail, "sslv3 alert handshake failure");
}

TEST(VerificationError, Precedence) {
  tls::verification v;
  v.trusted = false;
  v.hostname_match = false;
  v.x509_code = X509_V_ERR_CERT_HAS_EXPIRED;
  EXPECT_EQ(tls::verification_error(v), tls::errc::certificate_expired);
  v.x509_code = X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
  EXPECT_EQ(tls::verification_error(v), tls::errc::certificate_not_trusted);
  v.x509_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
  EXPECT_EQ(tls::verification_error(v), tls::errc::certificate_not_trusted);
  v.x509_code = X509_V_ERR_CERT_SIGNATURE_FAILURE;
  EXPECT_EQ(tls::verification_error(v), tls::errc::validation_failure);
  v.x509_code = X509_V_ERR_CERT_NOT_YET_VALID;
  EXPECT_EQ(tls::verification_error(v), tls::errc::validation_failure);
  v.x509_code = X509_V_OK;  // untrusted without an X.509 error: there was no certificate
  EXPECT_EQ(tls::verification_error(v), tls::errc::no_peer_certificate);
  v.trusted = true;
  EXPECT_EQ(tls::verification_error(v), tls::errc::certificate_host_mismatch);
  v.hostname_match = true;
  EXPECT_FALSE(tls::verification_error(v));
}

TEST_F(TlsTest, CaFileErrors) {
  tls::client_config config;
  config.ca_file = "/nonexistent/otls/ca.pem";
  auto missing = tls::make_client_context(config);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), tls::errc::bad_ca_file);
  EXPECT_EQ(ERR_peek_error(), 0u);

  config.ca_file = write_temp("garbage.pem", "this is not PEM\n");
  auto garbage = tls::make_client_context(config);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error(), tls::errc::bad_ca_file);
  EXPECT_EQ(ERR_peek_error(), 0u);

  config.ca_file.clear();  // the system store
  EXPECT_TRUE(tls::make_client_context(config));
}

TEST_F(TlsTest, CaFileWithSeveralCertificatesTrustsAll) {
  const std::string both =
      write_temp("both.pem", other_ca_->certificate_pem() + ca_->certificate_pem());
  auto server = server_context(leaf({"localhost"}));
  EXPECT_TRUE(connect(server, client_config("localhost", both)).verify.trusted);
  auto other_server =
      server_context(other_ca_->issue({"localhost"}, tls::key_kind::ecdsa_p256).value());
  EXPECT_TRUE(connect(other_server, client_config("localhost", both)).verify.trusted);
}

TEST_F(TlsTest, ServerContextRejectsBadCertificates) {
  const auto cert = leaf({"localhost"});
  const auto other = leaf({"localhost"});
  tls::server_config config;
  config.certificate_chain_pem = cert.certificate_pem;
  config.private_key_pem = other.private_key_pem;  // does not match
  auto mismatched = tls::make_server_context(config);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error(), tls::errc::bad_certificate);

  config.certificate_chain_pem = "not a certificate";
  config.private_key_pem = cert.private_key_pem;
  auto garbage = tls::make_server_context(config);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error(), tls::errc::bad_certificate);

  config.certificate_chain_pem = cert.certificate_pem;
  config.private_key_pem = "not a key";
  EXPECT_FALSE(tls::make_server_context(config));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// --- DANE (RFC 6698, RFC 7671, RFC 7672 §3) through OpenSSL's own DANE support ---

// SHA-256 of the certificate's DER SubjectPublicKeyInfo: the data of a "x 1 1" TLSA record.
std::vector<std::uint8_t> spki_sha256(const std::string& pem) {
  const x509_ptr cert = parse_certificate(pem);
  unsigned char* der = nullptr;
  const int size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  std::vector<std::uint8_t> digest(32);
  unsigned int digest_size = 0;
  EVP_Digest(der, static_cast<std::size_t>(size), digest.data(), &digest_size, EVP_sha256(),
             nullptr);
  OPENSSL_free(der);
  return digest;
}

class DaneTest : public TlsTest {
 protected:
  // A DANE client for `records`, with the given reference names (the first is the base domain
  // and SNI), trusting only `ca_file` for PKIX (DANE-TA/EE must not need it).
  static tls::client_config dane_config(std::vector<tls::tlsa> records,
                                        std::vector<std::string> names,
                                        const std::string& ca_file = other_ca_file_) {
    tls::client_config config;
    config.ca_file = ca_file;
    config.servername = names.front();
    config.dane = tls::dane_config{std::move(records), std::move(names)};
    return config;
  }
  static tls::tlsa record(std::uint8_t usage, const std::string& pem) {
    return {usage, 1, 1, spki_sha256(pem)};
  }
};

TEST_F(DaneTest, DaneEeIgnoresNamesAndExpiry) {
  // RFC 7672 §3.1.1: the key binding is all; the leaf may be expired and name anything.
  const auto cert = ca_->issue({"unrelated.test"}, tls::key_kind::ecdsa_p256,
                               std::chrono::hours(24), std::chrono::hours(-48))
                        .value();
  auto server = server_context(cert);
  const auto config = dane_config(
      {record(3, ca_->certificate_pem()), record(3, cert.certificate_pem)}, {"mx.example.test"});
  const auto facts = connect(server, config);
  EXPECT_TRUE(facts.verify.dane);
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_FALSE(tls::verification_error(facts.verify)) << facts.verify.error;
  EXPECT_EQ(facts.verify.dane_record, 1);
  EXPECT_EQ(facts.verify.dane_depth, 0);
}

TEST_F(DaneTest, DaneTaMatchesTheCaSentInTheChainAndChecksEveryReferenceName) {
  // RFC 7672 §2.2.2 / §3.2.2: the original MX name and the CNAME-expanded name both count.
  const auto cert = leaf({"mx.example.test"});
  auto server = server_context(cert, ca_->certificate_pem());
  const auto config =
      dane_config({record(2, ca_->certificate_pem())}, {"host.cdn.test", "mx.example.test"});
  const auto facts = connect(server, config);
  EXPECT_FALSE(tls::verification_error(facts.verify)) << facts.verify.error;
  EXPECT_TRUE(facts.verify.hostname_match);
  EXPECT_EQ(facts.verify.dane_record, 0);
  EXPECT_EQ(facts.verify.dane_depth, 1);
}

TEST_F(DaneTest, DaneTaWithAnotherNameIsAHostMismatch) {
  auto server = server_context(leaf({"other.example.test"}), ca_->certificate_pem());
  const auto facts =
      connect(server, dane_config({record(2, ca_->certificate_pem())}, {"mx.example.test"}));
  EXPECT_TRUE(facts.verify.trusted);
  EXPECT_FALSE(facts.verify.hostname_match);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_host_mismatch);
}

TEST_F(DaneTest, DaneTaRefusesPartialWildcards) {
  auto server = server_context(leaf({"m*.example.test"}), ca_->certificate_pem());
  const auto facts =
      connect(server, dane_config({record(2, ca_->certificate_pem())}, {"mx.example.test"}));
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::certificate_host_mismatch);
}

TEST_F(DaneTest, DaneTaNeedsTheTrustAnchorInTheChain) {
  // RFC 7672 §3.1.2: the server must send the TA certificate; it is not in our store either.
  auto server = server_context(leaf({"mx.example.test"}));
  const auto facts =
      connect(server, dane_config({record(2, ca_->certificate_pem())}, {"mx.example.test"}));
  EXPECT_FALSE(facts.verify.trusted);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::validation_failure);
  EXPECT_EQ(facts.verify.dane_record, -1);
}

TEST_F(DaneTest, NoMatchingRecordIsAValidationFailureEvenWithAPkixValidChain) {
  // The chain is PKIX-valid for our trust store, but DANE replaces PKIX: no fall-back.
  auto server = server_context(leaf({"mx.example.test"}), ca_->certificate_pem());
  auto config =
      dane_config({{3, 1, 1, std::vector<std::uint8_t>(32, 0xab)}}, {"mx.example.test"}, ca_file_);
  const auto facts = connect(server, config);
  EXPECT_EQ(facts.verify.x509_code, X509_V_ERR_DANE_NO_MATCH);
  EXPECT_EQ(tls::verification_error(facts.verify), tls::errc::validation_failure);
  EXPECT_TRUE(facts.verify.hostname_match);  // reported for the user, not a pass
}

TEST_F(DaneTest, PkixEeRequiresAPkixValidChainToo) {
  // Generic DANE (RFC 6698 §2.1.1): PKIX-EE(1) matches only a chain the store trusts.
  const auto cert = leaf({"svc.example.test"});
  auto server = server_context(cert, ca_->certificate_pem());
  const auto untrusted = connect(
      server, dane_config({record(1, cert.certificate_pem)}, {"svc.example.test"}, other_ca_file_));
  EXPECT_TRUE(tls::verification_error(untrusted.verify));
  const auto trusted = connect(
      server, dane_config({record(1, cert.certificate_pem)}, {"svc.example.test"}, ca_file_));
  EXPECT_FALSE(tls::verification_error(trusted.verify)) << trusted.verify.error;
  EXPECT_EQ(trusted.verify.dane_depth, 0);
}

TEST_F(DaneTest, RecordsOpenSslCannotUseAreRefusedRatherThanFallingBackToPkix) {
  auto server = server_context(leaf({"mx.example.test"}), ca_->certificate_pem());
  const auto config = dane_config({{3, 1, 1, std::vector<std::uint8_t>(5, 0x01)},  // short
                                   {3, 1, 9, std::vector<std::uint8_t>(32, 0x01)}},
                                  {"mx.example.test"}, ca_file_);
  auto client = tls::make_client_context(config).value();
  loopback_session session(client.native_handle(), server.native_handle());
  EXPECT_EQ(tls::prepare_client(session.client(), config), tls::errc::no_usable_tlsa);
}

TEST_F(DaneTest, SniIsTheTlsaBaseDomain) {
  auto server = server_context(leaf({"mx.example.test"}), ca_->certificate_pem());
  const auto config =
      dane_config({record(2, ca_->certificate_pem())}, {"host.cdn.test", "mx.example.test"});
  auto client = tls::make_client_context(config).value();
  loopback_session session(client.native_handle(), server.native_handle());
  ASSERT_FALSE(tls::prepare_client(session.client(), config));
  ASSERT_TRUE(session.handshake());
  EXPECT_STREQ(SSL_get_servername(session.server(), TLSEXT_NAMETYPE_host_name), "host.cdn.test");
}

// --- fingerprint pinning and the PKIX view reported beside DANE ---

TEST_F(DaneTest, FingerprintsPinTheCertificateOrItsKey) {
  const auto cert = leaf({"unrelated.test"});
  auto server = server_context(cert);
  tls::client_config config = client_config("mx.example.test", other_ca_file_);
  const auto facts = connect(server, client_config("mx.example.test"));
  config.fingerprints = {facts.chain[0].spki_sha256};
  auto pinned = connect(server, config);
  EXPECT_TRUE(pinned.verify.fingerprint);
  EXPECT_FALSE(tls::verification_error(pinned.verify));
  config.fingerprints = {facts.chain[0].sha256_fingerprint};
  EXPECT_FALSE(tls::verification_error(connect(server, config).verify));
  config.fingerprints = {std::string(64, '0')};
  EXPECT_EQ(tls::verification_error(connect(server, config).verify), tls::errc::validation_failure);
}

TEST_F(DaneTest, PkixIsReportedBesideDane) {
  const auto cert = leaf({"other.example.test"});
  auto server = server_context(cert, ca_->certificate_pem());
  auto config = dane_config({record(3, cert.certificate_pem)}, {"mx.example.test"}, ca_file_);
  config.pkix_report_name = "mx.example.test";
  const auto facts = connect(server, config);
  EXPECT_FALSE(tls::verification_error(facts.verify));  // DANE-EE passes
  ASSERT_TRUE(facts.pkix_report);
  EXPECT_TRUE(facts.pkix_report->trusted);
  EXPECT_FALSE(facts.pkix_report->hostname_match);  // MTA-STS would have refused it
  EXPECT_EQ(tls::verification_error(*facts.pkix_report), tls::errc::certificate_host_mismatch);
}

}  // namespace
