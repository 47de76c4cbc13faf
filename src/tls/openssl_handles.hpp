// Private to the tls layer (and its tests): RAII handles for OpenSSL objects and the guard
// that keeps OpenSSL's per-thread error queue from leaking into unrelated later calls.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace otls::tls::detail {

template <auto Free>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;
using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_deleter<SSL_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_deleter<X509_STORE_free>>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter<X509_STORE_CTX_free>>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, openssl_deleter<GENERAL_NAME_free>>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;
using asn1_string_ptr = std::unique_ptr<ASN1_STRING, openssl_deleter<ASN1_STRING_free>>;

// Every entry point leaves OpenSSL's per-thread error queue empty for the next caller.
struct clear_openssl_errors_on_exit {
  clear_openssl_errors_on_exit() = default;
  clear_openssl_errors_on_exit(const clear_openssl_errors_on_exit&) = delete;
  clear_openssl_errors_on_exit& operator=(const clear_openssl_errors_on_exit&) = delete;
  ~clear_openssl_errors_on_exit() { ERR_clear_error(); }
};

}  // namespace otls::tls::detail
