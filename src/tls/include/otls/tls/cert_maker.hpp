// Throwaway X.509 certificate authority for the demo lab and tests (RFC 5280 profile:
// CA with basicConstraints/keyUsage, leaves with subjectAltName DNS and IP entries).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "otls/core/error.hpp"

namespace otls::tls {

enum class key_kind { ecdsa_p256, rsa_2048 };

struct issued_certificate {
  std::string certificate_pem;  // leaf only
  std::string private_key_pem;  // PKCS#8
};

class certificate_authority {
 public:
  // A new self-signed CA with a fresh key.
  static result<certificate_authority> create(const std::string& common_name, key_kind kind);

  // An existing CA from its certificate and private key (PEM, the key unencrypted); fails with
  // errc::bad_certificate unless the certificate is a CA and the key matches it.
  static result<certificate_authority> from_pem(std::string cert_pem, std::string key_pem);

  // A leaf certificate for the given names: each is a DNS name or an IP literal (SAN
  // iPAddress); the first also becomes the subject CN. not_before_offset shifts the validity
  // window, so a negative offset larger than `validity` yields an already expired certificate.
  result<issued_certificate> issue(
      const std::vector<std::string>& names, key_kind kind,
      std::chrono::hours validity = std::chrono::hours(24 * 30),
      std::chrono::hours not_before_offset = std::chrono::hours(-1)) const;

  const std::string& certificate_pem() const { return certificate_pem_; }
  const std::string& private_key_pem() const { return private_key_pem_; }

 private:
  std::string certificate_pem_;
  std::string private_key_pem_;
};

}  // namespace otls::tls
