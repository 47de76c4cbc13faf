// Throwaway X.509 CA and leaf certificates (RFC 5280 profile) made with OpenSSL 3's EVP APIs,
// for the demo lab and tests. Keys are written as unencrypted PKCS#8 PEM (RFC 5958).
#include "otls/tls/cert_maker.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "openssl_handles.hpp"
#include "otls/tls/tls.hpp"

namespace otls::tls {
namespace {

using namespace detail;

constexpr long seconds_per_hour = 3600;
constexpr int max_common_name_length = 64;  // RFC 5280 ub-common-name
constexpr auto ca_validity = std::chrono::hours(24 * 3650);

error_code failed() {
  return make_error_code(errc::bad_certificate);
}
error_code invalid_names() {
  return make_error_code(boost::system::errc::invalid_argument);
}

evp_pkey_ptr generate_key(key_kind kind) {
  if (kind == key_kind::rsa_2048) {
    return evp_pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  }
  return evp_pkey_ptr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::string certificate_to_pem(X509* cert) {
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) return {};
  return bio_contents(out.get());
}

std::string key_to_pkcs8_pem(EVP_PKEY* key) {
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PKCS8PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return bio_contents(out.get());
}

// Never prompt on the terminal for a pass phrase: an encrypted key is simply an error here.
int refuse_password(char*, int, int, void*) {
  return -1;
}

x509_ptr certificate_from_pem(const std::string& pem) {
  bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return x509_ptr(in ? PEM_read_bio_X509(in.get(), nullptr, refuse_password, nullptr) : nullptr);
}

evp_pkey_ptr key_from_pem(const std::string& pem) {
  bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return evp_pkey_ptr(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, refuse_password, nullptr)
                         : nullptr);
}

bool set_random_serial(X509* cert) {
  // 128 random bits: unpredictable (CA/B Forum asks for 64+) and within RFC 5280's 20 octets.
  bignum_ptr serial(BN_new());
  return serial && BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool set_validity(X509* cert, std::chrono::hours not_before_offset, std::chrono::hours validity) {
  const long not_before = static_cast<long>(not_before_offset.count()) * seconds_per_hour;
  const long not_after = not_before + static_cast<long>(validity.count()) * seconds_per_hour;
  return X509_gmtime_adj(X509_getm_notBefore(cert), not_before) != nullptr &&
         X509_gmtime_adj(X509_getm_notAfter(cert), not_after) != nullptr;
}

bool add_common_name(X509_NAME* name, const std::string& common_name) {
  return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                    static_cast<int>(common_name.size()), -1, 0) == 1;
}

// Adds an extension written in OpenSSL's config syntax, e.g. "critical,CA:TRUE".
bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  x509_extension_ptr extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

bool is_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '*';
    if (!allowed) return false;
  }
  return true;
}

// subjectAltName built entry by entry, so names never pass through the config-string parser.
general_names_ptr subject_alt_names(const std::vector<std::string>& names) {
  general_names_ptr result(sk_GENERAL_NAME_new_null());
  if (!result) return nullptr;
  for (const std::string& name : names) {
    general_name_ptr entry(GENERAL_NAME_new());
    if (!entry) return nullptr;
    if (asn1_string_ptr ip{a2i_IPADDRESS(name.c_str())}) {  // IPv4 or IPv6 literal
      GENERAL_NAME_set0_value(entry.get(), GEN_IPADD, ip.release());
    } else if (is_dns_name(name)) {
      asn1_string_ptr dns(ASN1_IA5STRING_new());
      if (!dns || ASN1_STRING_set(dns.get(), name.data(), static_cast<int>(name.size())) != 1) {
        return nullptr;
      }
      GENERAL_NAME_set0_value(entry.get(), GEN_DNS, dns.release());
    } else {
      return nullptr;
    }
    if (sk_GENERAL_NAME_push(result.get(), entry.get()) <= 0) return nullptr;
    entry.release();  // now owned by the stack
  }
  return result;
}

}  // namespace

result<certificate_authority> certificate_authority::create(const std::string& common_name,
                                                            key_kind kind) {
  const clear_openssl_errors_on_exit clear_errors;
  if (common_name.empty() || common_name.size() > max_common_name_length) return invalid_names();
  const evp_pkey_ptr key = generate_key(kind);
  x509_ptr cert(X509_new());
  if (!key || !cert) return failed();

  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool built =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && set_random_serial(cert.get()) &&
      set_validity(cert.get(), std::chrono::hours(-1), ca_validity) &&
      add_common_name(name, common_name) && X509_set_issuer_name(cert.get(), name) == 1 &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
      add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") &&
      add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!built) return failed();

  certificate_authority ca;
  ca.certificate_pem_ = certificate_to_pem(cert.get());
  ca.private_key_pem_ = key_to_pkcs8_pem(key.get());
  if (ca.certificate_pem_.empty() || ca.private_key_pem_.empty()) return failed();
  return ca;
}

result<certificate_authority> certificate_authority::from_pem(std::string cert_pem,
                                                              std::string key_pem) {
  const clear_openssl_errors_on_exit clear_errors;
  const x509_ptr cert = certificate_from_pem(cert_pem);
  const evp_pkey_ptr key = key_from_pem(key_pem);
  if (!cert || !key || X509_check_ca(cert.get()) < 1 ||
      X509_check_private_key(cert.get(), key.get()) != 1) {
    return failed();
  }
  certificate_authority ca;
  ca.certificate_pem_ = std::move(cert_pem);
  ca.private_key_pem_ = std::move(key_pem);
  return ca;
}

result<issued_certificate> certificate_authority::issue(
    const std::vector<std::string>& names, key_kind kind, std::chrono::hours validity,
    std::chrono::hours not_before_offset) const {
  const clear_openssl_errors_on_exit clear_errors;
  if (names.empty()) return invalid_names();
  const general_names_ptr alt_names = subject_alt_names(names);
  if (!alt_names) return invalid_names();

  const x509_ptr ca_cert = certificate_from_pem(certificate_pem_);
  const evp_pkey_ptr ca_key = key_from_pem(private_key_pem_);
  const evp_pkey_ptr key = generate_key(kind);
  x509_ptr cert(X509_new());
  if (!ca_cert || !ca_key || !key || !cert) return failed();

  // A name too long for a CN leaves the subject empty; RFC 5280 §4.2.1.6 then wants the
  // subjectAltName marked critical.
  const bool has_common_name = names.front().size() <= max_common_name_length;
  const char* key_usage = kind == key_kind::rsa_2048 ? "critical,digitalSignature,keyEncipherment"
                                                     : "critical,digitalSignature";
  const bool built =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && set_random_serial(cert.get()) &&
      set_validity(cert.get(), not_before_offset, validity) &&
      (!has_common_name || add_common_name(X509_get_subject_name(cert.get()), names.front())) &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) == 1 &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, alt_names.get(), has_common_name ? 0 : 1,
                        X509V3_ADD_DEFAULT) == 1 &&
      add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
      add_extension(cert.get(), ca_cert.get(), NID_key_usage, key_usage) &&
      add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
      add_extension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash") &&
      add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") &&
      X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0;
  if (!built) return failed();

  issued_certificate issued{certificate_to_pem(cert.get()), key_to_pkcs8_pem(key.get())};
  if (issued.certificate_pem.empty() || issued.private_key_pem.empty()) return failed();
  return issued;
}

}  // namespace otls::tls
