// TLS contexts, PKIX verification with separate trust and name results (RFC 5280, RFC 6125),
// SNI (RFC 6066 §3) and the facts of a negotiated session, on top of OpenSSL 3.
#include "otls/tls/tls.hpp"

#include "openssl_handles.hpp"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <cctype>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace otls::tls {
namespace {

class tls_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.tls"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::handshake_failure:
        return "the TLS handshake failed";
      case errc::legacy_tls_only:
        return "the server offers only a TLS version older than the configured minimum; "
               "lower the minimum (e.g. --tls-min 1.0) to inspect it anyway";
      case errc::certificate_not_trusted:
        return "the server certificate does not chain to a trusted CA (self-signed or unknown "
               "issuer); supply the issuing CA with --cafile if you trust it";
      case errc::certificate_expired:
        return "a certificate in the server's chain has expired";
      case errc::certificate_host_mismatch:
        return "the server certificate is trusted but not valid for the requested name";
      case errc::validation_failure:
        return "the server certificate chain failed validation";
      case errc::no_peer_certificate:
        return "the server sent no certificate";
      case errc::bad_ca_file:
        return "the CA file could not be loaded: expected a readable file with PEM certificates";
      case errc::bad_certificate:
        return "our certificate or private key could not be loaded (expected PEM; the key must "
               "match the certificate)";
      case errc::bad_version:
        return "unknown TLS version: expected 1.0, 1.1, 1.2 or 1.3";
      case errc::no_usable_tlsa:
        return "none of the TLSA records could be used for DANE (unsupported parameters or "
               "malformed data)";
    }
    return "unknown otls.tls error";
  }
};

using namespace detail;

int openssl_version(version v) noexcept {
  switch (v) {
    case version::tls1_0:
      return TLS1_VERSION;
    case version::tls1_1:
      return TLS1_1_VERSION;
    case version::tls1_2:
      return TLS1_2_VERSION;
    case version::tls1_3:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// OpenSSL 3 refuses TLS 1.0/1.1 (and their SHA-1/MD5 handshake signatures) at security
// level 1 and above, so allowing them means dropping to level 0.
bool set_min_version(SSL_CTX* ctx, version v) {
  if (SSL_CTX_set_min_proto_version(ctx, openssl_version(v)) != 1) return false;
  if (v == version::tls1_0 || v == version::tls1_1) SSL_CTX_set_security_level(ctx, 0);
  return true;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

std::string sha256_hex(const unsigned char* data, std::size_t size) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(data, size, digest.data(), &digest_size, EVP_sha256(), nullptr) != 1) return {};
  return to_hex(digest.data(), digest_size);
}

std::string name_rfc2253(const X509_NAME* name) {
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!out || name == nullptr) return {};
  // RFC 2253 ordering and escaping, but UTF-8 kept as UTF-8 instead of \XX escapes so that
  // internationalised names stay readable in reports.
  constexpr unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(out.get(), name, 0, flags) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string iso8601(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  std::array<char, 32> text{};
  const std::size_t size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(text.data(), size);
}

std::string key_type_name(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_DSA:
      return "DSA";
    case EVP_PKEY_ED25519:
      return "ED25519";
    case EVP_PKEY_ED448:
      return "ED448";
    default:
      break;
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

std::string signature_algorithm_name(const X509* cert) {
  const int nid = X509_get_signature_nid(cert);
  if (nid != NID_undef) {
    if (const char* name = OBJ_nid2ln(nid)) return name;
  }
  const X509_ALGOR* algorithm = nullptr;
  X509_get0_signature(nullptr, &algorithm, cert);
  if (algorithm == nullptr) return {};
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm);
  std::array<char, 128> text{};
  const int size = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), oid, 1);
  return size > 0 ? std::string(text.data()) : std::string();
}

void read_subject_alt_names(const X509* cert, certificate_info& info) {
  general_names_ptr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int size = ASN1_STRING_length(ip);
      const int family = size == 4 ? AF_INET : size == 16 ? AF_INET6 : AF_UNSPEC;
      std::array<char, INET6_ADDRSTRLEN> text{};
      if (family != AF_UNSPEC &&
          inet_ntop(family, ASN1_STRING_get0_data(ip), text.data(), text.size()) != nullptr) {
        info.ip_addresses.emplace_back(text.data());
      } else {  // malformed length: keep the raw bytes visible rather than drop the entry
        info.ip_addresses.push_back(
            to_hex(ASN1_STRING_get0_data(ip), static_cast<std::size_t>(size)));
      }
    }
  }
}

certificate_info describe(X509* cert) {
  certificate_info info;
  info.subject = name_rfc2253(X509_get_subject_name(cert));
  info.issuer = name_rfc2253(X509_get_issuer_name(cert));
  read_subject_alt_names(cert, info);
  info.not_before = iso8601(X509_get0_notBefore(cert));
  info.not_after = iso8601(X509_get0_notAfter(cert));
  if (const EVP_PKEY* key = X509_get0_pubkey(cert)) {
    info.key_type = key_type_name(key);
    info.key_bits = EVP_PKEY_get_bits(key);
  }
  info.signature_algorithm = signature_algorithm_name(cert);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (X509_digest(cert, EVP_sha256(), digest.data(), &digest_size) == 1) {
    info.sha256_fingerprint = to_hex(digest.data(), digest_size);
  }
  unsigned char* spki = nullptr;
  const int spki_size = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
  if (spki_size > 0) {
    info.spki_sha256 = sha256_hex(spki, static_cast<std::size_t>(spki_size));
    OPENSSL_free(spki);
  }
  return info;
}

// The reference identity as the checks want it: brackets around an IPv6 literal and a
// trailing root dot are notation, not part of the name.
std::string reference_name(std::string_view servername) {
  if (servername.size() >= 2 && servername.front() == '[' && servername.back() == ']') {
    servername = servername.substr(1, servername.size() - 2);
  }
  if (!servername.empty() && servername.back() == '.') servername.remove_suffix(1);
  return std::string(servername);
}

bool is_ip_literal(const std::string& name) {
  std::array<unsigned char, sizeof(in6_addr)> address{};
  return inet_pton(AF_INET, name.c_str(), address.data()) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address.data()) == 1;
}

// Name of the key-exchange group, in TLS naming ("x25519", "secp256r1", "ffdhe2048").
std::string group_name(SSL* ssl) {
  const int negotiated = static_cast<int>(SSL_get_negotiated_group(ssl));
  if (negotiated > 0) {
    if (const char* name = SSL_group_to_name(ssl, negotiated)) return name;
  }
  // TLS 1.2 (EC)DHE: OpenSSL may only know the server's ephemeral key.
  EVP_PKEY* raw_key = nullptr;
  if (SSL_get_peer_tmp_key(ssl, &raw_key) != 1 || raw_key == nullptr) return {};
  const evp_pkey_ptr key(raw_key);
  std::array<char, 80> group{};
  std::size_t group_size = 0;
  const bool has_group_name =
      EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &group_size) == 1;
  int nid = has_group_name ? OBJ_txt2nid(group.data()) : EVP_PKEY_get_base_id(key.get());
  if (nid == NID_undef && has_group_name) nid = EC_curve_nist2nid(group.data());
  if (nid != NID_undef) {
    if (const char* name = SSL_group_to_name(ssl, nid)) return name;
  }
  if (has_group_name) return std::string(group.data(), group_size);
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_DH) {
    return "DH-" + std::to_string(EVP_PKEY_get_bits(key.get()));
  }
  const char* type = EVP_PKEY_get0_type_name(key.get());
  return type != nullptr ? type : std::string();
}

bool has_forward_secrecy(const SSL* ssl, const SSL_CIPHER* cipher) {
  if (SSL_version(ssl) >= TLS1_3_VERSION) return true;  // every TLS 1.3 key exchange is (EC)DHE
  if (cipher == nullptr) return false;
  switch (SSL_CIPHER_get_kx_nid(cipher)) {
    case NID_kx_ecdhe:
    case NID_kx_dhe:
    case NID_kx_ecdhe_psk:
    case NID_kx_dhe_psk:
      return true;
    default:
      return false;
  }
}

bool matches_name(X509* leaf, const std::string& name) {
  if (is_ip_literal(name)) return X509_check_ip_asc(leaf, name.c_str(), 0) == 1;
  // subjectAltName DNS-IDs only, never the subject CN: RFC 8461 §4.2 forbids the CN fall-back
  // for MTA-STS, and no CA has issued SAN-less server certificates for years (RFC 9525).
  return X509_check_host(leaf, name.data(), name.size(),
                         X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                         nullptr) == 1;
}

// Under DANE, OpenSSL's verification already applied the TLSA records and the reference
// names (SSL_dane_enable/SSL_add1_host in prepare_client): read its verdict and the match.
verification verify_dane(SSL* ssl, X509* leaf, const dane_config& dane) {
  verification result;
  result.dane = true;
  result.x509_code = SSL_get_verify_result(ssl);
  if (result.x509_code != X509_V_OK) result.error = X509_verify_cert_error_string(result.x509_code);
  // A name mismatch is only reported once a DANE-TA chain matched (RFC 7672 §3.2.2).
  result.trusted =
      result.x509_code == X509_V_OK || result.x509_code == X509_V_ERR_HOSTNAME_MISMATCH;
  result.hostname_match = result.x509_code == X509_V_OK;
  if (result.x509_code != X509_V_OK && result.x509_code != X509_V_ERR_HOSTNAME_MISMATCH) {
    for (const auto& name : dane.reference_names)
      if (matches_name(leaf, name)) result.hostname_match = true;
  }
  std::uint8_t usage = 0, selector = 0, matching_type = 0;
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  const int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &matching_type, &data, &size);
  if (depth >= 0 && result.trusted) {
    const tlsa matched{usage, selector, matching_type,
                       std::vector<std::uint8_t>(data, data + size)};
    for (std::size_t i = 0; i < dane.records.size(); ++i) {
      if (dane.records[i] == matched) result.dane_record = static_cast<int>(i);
    }
    result.dane_depth = depth;
  }
  return result;
}

// Fingerprint pinning: the leaf's certificate or SPKI digest must be one of the configured.
verification verify_fingerprint(X509* leaf, const client_config& config) {
  verification result;
  result.fingerprint = true;
  const auto info = describe(leaf);
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::erase(s, ':');
    return s;
  };
  for (const auto& f : config.fingerprints) {
    const auto want = lower(f);
    if (want == info.sha256_fingerprint || want == info.spki_sha256) result.trusted = true;
  }
  result.hostname_match = result.trusted;  // names do not matter for a pinned key
  if (!result.trusted)
    result.error =
        "neither the certificate's nor its public key's SHA-256 digest is a configured "
        "fingerprint";
  return result;
}

// A PKIX verdict on the peer's chain against the context's trust store and `name`, computed
// apart from the handshake's own verification (which DANE may have replaced).
verification verify_pkix_for_report(SSL* ssl, X509* leaf, const std::string& name) {
  verification result;
  X509_STORE* store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (ctx == nullptr || X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) {
    X509_STORE_CTX_free(ctx);
    result.error = "could not run PKIX verification";
    result.x509_code = X509_V_ERR_UNSPECIFIED;
    return result;
  }
  X509_STORE_CTX_set_default(ctx, "ssl_server");
  result.trusted = X509_verify_cert(ctx) == 1;
  result.x509_code = result.trusted ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  if (!result.trusted) result.error = X509_verify_cert_error_string(result.x509_code);
  X509_STORE_CTX_free(ctx);
  result.hostname_match = matches_name(leaf, name);
  return result;
}

verification verify_peer(SSL* ssl, X509* leaf, const client_config& config) {
  verification result;
  if (leaf == nullptr) {
    // Without a certificate OpenSSL leaves the verify result at X509_V_OK; that is no trust.
    result.error = "the server sent no certificate";
    result.dane = config.dane.has_value();
    return result;
  }
  if (config.dane) return verify_dane(ssl, leaf, *config.dane);
  if (!config.fingerprints.empty()) return verify_fingerprint(leaf, config);
  result.x509_code = SSL_get_verify_result(ssl);
  result.trusted = result.x509_code == X509_V_OK;
  if (!result.trusted) result.error = X509_verify_cert_error_string(result.x509_code);

  const std::string name = reference_name(config.servername);
  if (name.empty()) return result;
  result.hostname_match = matches_name(leaf, name);
  return result;
}

bool is_untrusted_code(long code) {
  switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return true;
    default:
      return false;
  }
}

// Reasons that mean the server answered with (or asked for) a protocol version we refuse:
// it negotiated below our minimum, or it rejected every version we offered (we always offer
// up to TLS 1.3, so a protocol_version alert means the server is older than our minimum).
bool is_version_refusal(int reason) {
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return true;
    default:
      return false;
  }
}

void append_detail(std::string& detail, std::string_view text) {
  if (text.empty()) return;
  if (!detail.empty()) detail += "; ";
  detail += text;
}

// RFC 7301 §3.1: each protocol name as one length byte and 1-255 bytes.
std::optional<std::string> alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) return std::nullopt;
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

// The server's ALPN list lives with its SSL_CTX: freed when the last reference goes.
int alpn_index() {
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(data);
      });
  return index;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  // Our preference order decides; OpenSSL checks the client's list for us.
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned>(ours->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

const boost::system::error_category& category() noexcept {
  static const tls_category instance;
  return instance;
}

result<version> parse_version(std::string_view text) {
  std::string lowered;
  for (const char c : text)
    lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = lowered;
  if (rest.starts_with("tlsv")) {
    rest.remove_prefix(4);
  } else if (rest.starts_with("tls")) {
    rest.remove_prefix(3);
  }
  if (rest == "1.0" || rest == "1") return version::tls1_0;
  if (rest == "1.1") return version::tls1_1;
  if (rest == "1.2") return version::tls1_2;
  if (rest == "1.3") return version::tls1_3;
  return make_error_code(errc::bad_version);
}

std::string_view to_string(version v) noexcept {
  switch (v) {
    case version::tls1_0:
      return "1.0";
    case version::tls1_1:
      return "1.1";
    case version::tls1_2:
      return "1.2";
    case version::tls1_3:
      return "1.3";
  }
  return "?";
}

result<boost::asio::ssl::context> make_client_context(const client_config& config) {
  const clear_openssl_errors_on_exit clear_errors;
  try {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
    SSL_CTX* ctx = context.native_handle();
    if (!set_min_version(ctx, config.min_version)) return make_error_code(errc::bad_version);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);

    if (config.ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1) return make_error_code(errc::bad_ca_file);
    } else if (SSL_CTX_load_verify_file(ctx, config.ca_file.c_str()) != 1) {
      // Also fails for a readable file holding no PEM certificate at all.
      return make_error_code(errc::bad_ca_file);
    }
    // SSL_VERIFY_NONE lets the handshake finish with an untrusted chain, while OpenSSL still
    // verifies it and records the outcome for SSL_get_verify_result (see inspect()).
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    // Loads OpenSSL's default digests for TLSA matching types 1 and 2 (RFC 6698 §2.1.3).
    if (config.dane && SSL_CTX_dane_enable(ctx) <= 0) return make_error_code(errc::bad_version);
    return context;
  } catch (const boost::system::system_error& e) {
    return e.code();
  }
}

result<boost::asio::ssl::context> make_server_context(const server_config& config) {
  const clear_openssl_errors_on_exit clear_errors;
  try {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_server);
    SSL_CTX* ctx = context.native_handle();
    if (!set_min_version(ctx, config.min_version)) return make_error_code(errc::bad_version);
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    // X25519 first, P-256 for clients without it; the rest for completeness.
    if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:P-384:P-521") != 1) {
      return make_error_code(errc::handshake_failure);
    }
    // DHE suites for old TLS 1.2 clients get a built-in group sized to the certificate key.
    SSL_CTX_set_dh_auto(ctx, 1);
    if (!config.alpn.empty()) {
      auto wire = alpn_wire(config.alpn);
      if (!wire) return make_error_code(errc::handshake_failure);
      auto* kept = new std::string(std::move(*wire));
      if (SSL_CTX_set_ex_data(ctx, alpn_index(), kept) != 1) {
        delete kept;
        return make_error_code(errc::handshake_failure);
      }
      SSL_CTX_set_alpn_select_cb(ctx, select_alpn, kept);
    }

    error_code ec;
    context.use_certificate_chain(boost::asio::buffer(config.certificate_chain_pem), ec);
    if (ec) return make_error_code(errc::bad_certificate);
    context.use_private_key(boost::asio::buffer(config.private_key_pem),
                            boost::asio::ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx) != 1) return make_error_code(errc::bad_certificate);
    return context;
  } catch (const boost::system::system_error& e) {
    return e.code();
  }
}

namespace {

// DANE for this connection: the base domain (SNI, first reference name), the other names,
// and the records. Records OpenSSL cannot use are skipped; if none is left, fail rather than
// let OpenSSL fall back to PKIX, which would silently weaken the authentication asked for.
error_code prepare_dane(SSL* ssl, const dane_config& dane) {
  const std::string base = dane.reference_names.empty() ? "" : dane.reference_names.front();
  if (SSL_dane_enable(ssl, base.empty() ? nullptr : base.c_str()) <= 0)
    return make_error_code(errc::handshake_failure);
  // RFC 7672 §3.1.1 / RFC 7671 §5.1: DANE-EE binds the key, not names or dates.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  // RFC 7672 §3.2.3: wildcards only as a whole leftmost label.
  SSL_set_hostflags(ssl,
                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  for (std::size_t i = 1; i < dane.reference_names.size(); ++i) {
    if (SSL_add1_host(ssl, dane.reference_names[i].c_str()) != 1)
      return make_error_code(errc::handshake_failure);
  }
  int usable = 0;
  for (const auto& r : dane.records) {
    if (SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type, r.data.data(), r.data.size()) >
        0)
      ++usable;
  }
  if (usable == 0) return make_error_code(errc::no_usable_tlsa);
  return {};
}

}  // namespace

error_code prepare_client(SSL* ssl, const client_config& config) {
  const clear_openssl_errors_on_exit clear_errors;
  if (config.dane) {
    if (auto ec = prepare_dane(ssl, *config.dane)) return ec;
  }
  if (!config.alpn.empty()) {
    const auto wire = alpn_wire(config.alpn);
    // SSL_set_alpn_protos returns 0 on success, unlike most of OpenSSL.
    if (!wire || SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire->data()),
                                     static_cast<unsigned>(wire->size())) != 0)
      return make_error_code(errc::handshake_failure);
  }
  const std::string name = reference_name(config.servername);
  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
  if (name.empty() || is_ip_literal(name)) return {};
  if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return make_error_code(errc::handshake_failure);
  }
  return {};
}

session_facts inspect(SSL* ssl, const client_config& config) {
  const clear_openssl_errors_on_exit clear_errors;
  session_facts facts;
  facts.version = SSL_get_version(ssl);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (cipher != nullptr) facts.cipher = SSL_CIPHER_get_name(cipher);
  facts.group = group_name(ssl);
  facts.forward_secrecy = has_forward_secrecy(ssl, cipher);
  facts.resumed = SSL_session_reused(ssl) == 1;
  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr) facts.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);

  // On the client side the peer chain starts with the leaf.
  if (const STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i)
      facts.chain.push_back(describe(sk_X509_value(chain, i)));
  }
  const x509_ptr leaf(SSL_get1_peer_certificate(ssl));
  if (facts.chain.empty() && leaf) facts.chain.push_back(describe(leaf.get()));  // resumed
  facts.verify = verify_peer(ssl, leaf.get(), config);
  if (!config.pkix_report_name.empty() && leaf)
    facts.pkix_report = verify_pkix_for_report(ssl, leaf.get(), config.pkix_report_name);
  return facts;
}

error_code verification_error(const verification& v) {
  if (v.fingerprint) return v.trusted ? error_code{} : make_error_code(errc::validation_failure);
  if (v.dane) {
    // RFC 8460 §4.3: no record matched is validation-failure; a matched DANE-TA chain for
    // another name is certificate-host-mismatch. DANE-EE never reaches the date checks.
    if (v.x509_code == X509_V_OK && !v.trusted) return make_error_code(errc::no_peer_certificate);
    if (v.x509_code == X509_V_OK) return {};
    if (v.x509_code == X509_V_ERR_HOSTNAME_MISMATCH)
      return make_error_code(errc::certificate_host_mismatch);
    if (v.x509_code == X509_V_ERR_CERT_HAS_EXPIRED)
      return make_error_code(errc::certificate_expired);
    return make_error_code(errc::validation_failure);
  }
  if (v.x509_code == X509_V_ERR_CERT_HAS_EXPIRED) return make_error_code(errc::certificate_expired);
  if (is_untrusted_code(v.x509_code)) return make_error_code(errc::certificate_not_trusted);
  if (v.x509_code != X509_V_OK) return make_error_code(errc::validation_failure);
  // Untrusted without an X.509 error only happens when there was no certificate to verify.
  if (!v.trusted) return make_error_code(errc::no_peer_certificate);
  if (!v.hostname_match) return make_error_code(errc::certificate_host_mismatch);
  return {};
}

error_code classify_handshake_error(const error_code& asio_error, std::string& detail) {
  if (!asio_error) return {};
  const clear_openssl_errors_on_exit clear_errors;

  if (asio_error == boost::asio::ssl::error::stream_truncated ||
      asio_error == boost::asio::error::eof) {
    append_detail(detail, "the server closed the connection during the TLS handshake");
    return make_error_code(errc::handshake_failure);
  }
  if (asio_error.category() != boost::asio::error::get_ssl_category()) {
    append_detail(detail, asio_error.message());
    return make_error_code(errc::handshake_failure);
  }

  // asio stores OpenSSL's packed error (ERR_get_error) as the int value; undo the sign
  // extension before unpacking, since OpenSSL 3 uses the top bit for system errors.
  const unsigned long packed = static_cast<unsigned int>(asio_error.value());
  // Reason strings are only there once libssl is initialised; cheap and idempotent.
  OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
  const char* reason_text = ERR_reason_error_string(packed);
  append_detail(detail, reason_text != nullptr ? std::string(reason_text) : asio_error.message());

  if (ERR_SYSTEM_ERROR(packed) || ERR_GET_LIB(packed) != ERR_LIB_SSL) {
    return make_error_code(errc::handshake_failure);
  }
  const int reason = ERR_GET_REASON(packed);
  if (is_version_refusal(reason)) return make_error_code(errc::legacy_tls_only);
  if (reason == SSL_R_WRONG_VERSION_NUMBER) {
    // A record that is not TLS at all, typically a plain-text reply on a TLS port.
    append_detail(detail, "the server does not seem to speak TLS here");
  }
  return make_error_code(errc::handshake_failure);
}

session_handle resumable_session(SSL* ssl) {
  SSL_SESSION* session = SSL_get1_session(ssl);
  if (session == nullptr) return nullptr;
  session_handle handle(session, SSL_SESSION_free);
  if (SSL_SESSION_is_resumable(session) != 1) return nullptr;
  return handle;
}

error_code offer_session(SSL* ssl, const session_handle& session) {
  if (session && SSL_set_session(ssl, session.get()) != 1) {
    ERR_clear_error();
    return make_error_code(errc::handshake_failure);
  }
  return {};
}

}  // namespace otls::tls
