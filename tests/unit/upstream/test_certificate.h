// TestCertificate: a throw-away self-signed certificate (EC P-256, valid for one hour) made
// with OpenSSL for TLS tests: a server SSL_CTX using it, and its PEM written to a temporary
// CA file that the destructor removes.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace tokenizer::testing {

class TestCertificate {
 public:
  // `common_name` and `subject_alt_name` (OpenSSL syntax, e.g. "IP:127.0.0.1").
  TestCertificate(const std::string& common_name, const std::string& subject_alt_name) {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    if (key_ == nullptr || cert_ == nullptr) throw std::runtime_error("openssl alloc failed");
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                               -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert_, cert_, nullptr, nullptr, 0);
    add_extension(&ctx, NID_subject_alt_name, subject_alt_name);
    add_extension(&ctx, NID_basic_constraints, "critical,CA:TRUE");
    if (X509_sign(cert_, key_, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");

    char dir_template[] = "/tmp/tk-upstream-test-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir_template;
    ca_file_ = dir_ + "/ca.pem";
    FILE* f = std::fopen(ca_file_.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write CA file");
    PEM_write_X509(f, cert_);
    std::fclose(f);

    ctx_ = SSL_CTX_new(TLS_server_method());
    if (ctx_ == nullptr || SSL_CTX_use_certificate(ctx_, cert_) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_, key_) != 1) {
      throw std::runtime_error("server SSL_CTX setup failed");
    }
  }

  ~TestCertificate() {
    std::remove(ca_file_.c_str());
    ::rmdir(dir_.c_str());
    SSL_CTX_free(ctx_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  SSL_CTX* server_context() const { return ctx_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  void add_extension(X509V3_CTX* ctx, int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("bad certificate extension");
    X509_add_ext(cert_, ext, -1);
    X509_EXTENSION_free(ext);
  }

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  std::string dir_;
  std::string ca_file_;
};

}  // namespace tokenizer::testing
