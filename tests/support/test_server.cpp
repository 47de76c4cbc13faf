// otls_test_server: any of otls's server roles as a standalone process for interop tests with
// real clients (openssl s_client, swaks, smtplib). Prints "listening ADDR:PORT" when ready.
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "otls/net/server.hpp"
#include "otls/tls/tls.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"otls's SMTP server role for interop tests"};
  std::string listen = "127.0.0.1:0", cert, key, hostname = "localhost", scheme = "smtp";
  bool starttls_required = false, implicit = false;
  app.add_option("--listen", listen, "ADDRESS:PORT (port 0 picks one)");
  app.add_option("--cert", cert, "certificate chain PEM")->required()->check(CLI::ExistingFile);
  app.add_option("--key", key, "private key PEM")->required()->check(CLI::ExistingFile);
  app.add_option("--hostname", hostname, "name in the greeting and EHLO reply");
  app.add_option("--protocol", scheme, "a URL scheme of the registry: smtp, lmtp, imaps, ...");
  app.add_flag("--starttls-required", starttls_required, "530 for most commands before TLS");
  app.add_flag("--implicit-tls", implicit,
               "TLS from the first byte: the scheme's implicit-TLS twin (smtp -> smtps)");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto* protocol = otls::proto::find_protocol(implicit ? scheme + "s" : scheme);
    if (!protocol) throw std::runtime_error("unknown protocol " + scheme);
    // ADDRESS:PORT or [IPv6]:PORT; port 0 asks the kernel for a free one.
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen wants ADDRESS:PORT");
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::runtime_error("--listen: port out of range");
    otls::tls::server_config tls_config;
    tls_config.certificate_chain_pem = read_file(cert);
    tls_config.private_key_pem = read_file(key);
    // XEP-0368 direct TLS and the like: select the protocol's ALPN name when a client offers it.
    if (!protocol->alpn.empty()) tls_config.alpn.emplace_back(protocol->alpn);
    auto context = otls::tls::make_server_context(tls_config);
    if (!context) throw std::runtime_error("cannot load certificate: " + context.error().message());

    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(
        io, {boost::asio::ip::make_address(host), static_cast<std::uint16_t>(port)});
    auto settings = std::make_shared<otls::net::server_settings>();
    settings->dialect.hostname = hostname;
    settings->dialect.starttls_required = starttls_required;
    settings->tls = std::make_shared<boost::asio::ssl::context>(std::move(*context));
    settings->timeout = std::chrono::seconds(30);
    settings->log = [](const std::string& line) { std::cerr << line << std::endl; };
    auto stats = std::make_shared<otls::net::server_stats>();
    boost::asio::co_spawn(io, otls::net::accept_loop(acceptor, *protocol, settings, stats),
                          boost::asio::detached);
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
      std::cerr << "stopping: " << stats->sessions << " sessions, " << stats->tls_sessions
                << " with TLS, " << stats->injections_discarded << " injections discarded"
                << std::endl;
      io.stop();
    });
    const auto ep = acceptor.local_endpoint();
    std::cout << "listening " << ep.address().to_string() << ":" << ep.port() << std::endl;
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "otls_test_server: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
