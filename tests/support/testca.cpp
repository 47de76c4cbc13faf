// otls_testca: makes a throwaway CA and leaf certificates for the interop harness.
//   otls_testca ca --out DIR [--key ecdsa|rsa]
//   otls_testca leaf --ca DIR --out PREFIX --name NAME [--name NAME ...] [--key ecdsa|rsa]
//                    [--expired]
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "otls/tls/cert_maker.hpp"

namespace {

constexpr std::string_view usage =
    "usage: otls_testca ca --out DIR [--key ecdsa|rsa]\n"
    "       otls_testca leaf --ca DIR --out PREFIX --name NAME [--name NAME ...]\n"
    "                        [--key ecdsa|rsa] [--expired]\n";

struct options {
  std::string command;
  std::string out;
  std::string ca_dir;
  std::vector<std::string> names;
  otls::tls::key_kind key = otls::tls::key_kind::ecdsa_p256;
  bool expired = false;
};

int fail(std::string_view message) {
  std::cerr << "otls_testca: " << message << "\n" << usage;
  return 2;
}

std::optional<otls::tls::key_kind> parse_key(std::string_view text) {
  if (text == "ecdsa") return otls::tls::key_kind::ecdsa_p256;
  if (text == "rsa") return otls::tls::key_kind::rsa_2048;
  return std::nullopt;
}

// Returns an error message, or an empty string when the arguments make sense.
std::string parse(int argc, char** argv, options& opts) {
  if (argc < 2) return "missing command";
  opts.command = argv[1];
  if (opts.command != "ca" && opts.command != "leaf")
    return "unknown command '" + opts.command + "'";
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool known =
        arg == "--out" || arg == "--key" ||
        (opts.command == "leaf" && (arg == "--ca" || arg == "--name" || arg == "--expired"));
    if (!known) return "unknown option " + std::string(arg) + " for '" + opts.command + "'";
    if (arg == "--expired") {
      opts.expired = true;
      continue;
    }
    if (i + 1 >= argc) return "missing value after " + std::string(arg);
    const std::string value = argv[++i];
    if (arg == "--out") {
      opts.out = value;
    } else if (arg == "--key") {
      const auto key = parse_key(value);
      if (!key) return "--key must be ecdsa or rsa, not '" + value + "'";
      opts.key = *key;
    } else if (arg == "--ca") {
      opts.ca_dir = value;
    } else {
      opts.names.push_back(value);
    }
  }
  if (opts.out.empty()) return "--out is required";
  if (opts.command == "leaf" && opts.ca_dir.empty()) return "--ca is required";
  if (opts.command == "leaf" && opts.names.empty()) return "at least one --name is required";
  return {};
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Private keys are created 0600 from the start, never briefly world-readable.
bool write_file(const std::filesystem::path& path, const std::string& contents, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

int write_pair(const std::filesystem::path& cert_path, const std::string& cert,
               const std::filesystem::path& key_path, const std::string& key) {
  if (!write_file(cert_path, cert, 0644)) {
    std::cerr << "otls_testca: cannot write " << cert_path.string() << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  if (!write_file(key_path, key, 0600)) {
    std::cerr << "otls_testca: cannot write " << key_path.string() << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  return 0;
}

int make_ca(const options& opts) {
  std::error_code ec;
  std::filesystem::create_directories(opts.out, ec);
  if (ec) return fail("cannot create directory " + opts.out + ": " + ec.message());
  auto ca = otls::tls::certificate_authority::create("otls test CA", opts.key);
  if (!ca) return fail("cannot create the CA: " + ca.error().message());
  const std::filesystem::path dir = opts.out;
  return write_pair(dir / "ca.pem", ca->certificate_pem(), dir / "ca.key", ca->private_key_pem());
}

int make_leaf(const options& opts) {
  const std::filesystem::path dir = opts.ca_dir;
  auto cert_pem = read_file(dir / "ca.pem");
  auto key_pem = read_file(dir / "ca.key");
  if (!cert_pem || !key_pem) return fail("cannot read " + opts.ca_dir + "/ca.pem and ca.key");
  auto ca = otls::tls::certificate_authority::from_pem(std::move(*cert_pem), std::move(*key_pem));
  if (!ca) return fail("cannot load the CA from " + opts.ca_dir + ": " + ca.error().message());

  // --expired: a day-long window that closed an hour ago.
  const auto validity = opts.expired ? std::chrono::hours(24) : std::chrono::hours(24 * 30);
  const auto not_before = opts.expired ? std::chrono::hours(-25) : std::chrono::hours(-1);
  auto leaf = ca->issue(opts.names, opts.key, validity, not_before);
  if (leaf.has_error() && leaf.error() == boost::system::errc::invalid_argument) {
    return fail("each --name must be a DNS name (letters, digits, '-', '.', '*') or an IP literal");
  }
  if (!leaf) return fail("cannot issue the certificate: " + leaf.error().message());
  const auto parent = std::filesystem::path(opts.out).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return fail("cannot create directory " + parent.string() + ": " + ec.message());
  return write_pair(opts.out + ".crt", leaf->certificate_pem, opts.out + ".key",
                    leaf->private_key_pem);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::cout << usage;
    return 0;
  }
  options opts;
  if (const std::string error = parse(argc, argv, opts); !error.empty()) return fail(error);
  return opts.command == "ca" ? make_ca(opts) : make_leaf(opts);
}
