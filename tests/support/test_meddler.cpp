// otls_test_meddler: the STRIPTLS attacker as a standalone process for interop tests: relays
// to a real server and removes the protocol's STARTTLS offer. Prints "listening ADDR:PORT".
#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "otls/net/relay.hpp"

namespace {

boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("expected ADDRESS:PORT, got " + text);
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const int port = std::stoi(text.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::runtime_error("port out of range in " + text);
  return {boost::asio::ip::make_address(host), static_cast<std::uint16_t>(port)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"STRIPTLS relay for interop tests"};
  std::string listen = "127.0.0.1:0", upstream, scheme = "smtp";
  app.add_option("--listen", listen, "ADDRESS:PORT (port 0 picks one)");
  app.add_option("--upstream", upstream, "ADDRESS:PORT of the real server")->required();
  app.add_option("--protocol", scheme, "registry scheme whose offer to strip: smtp, imap, ...");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto* protocol = otls::proto::find_protocol(scheme);
    if (!protocol || !protocol->make_stripper)
      throw std::runtime_error("no STARTTLS stripper for protocol " + scheme);
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, parse_endpoint(listen));
    auto stats = std::make_shared<otls::net::meddler_stats>();
    boost::asio::co_spawn(
        io,
        otls::net::meddler_loop(acceptor, parse_endpoint(upstream), protocol->make_stripper,
                                std::chrono::seconds(30), stats),
        boost::asio::detached);
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int) {
      std::cerr << "stopping: " << stats->connections << " connections, " << stats->offers_removed
                << " offers removed" << std::endl;
      io.stop();
    });
    const auto ep = acceptor.local_endpoint();
    std::cout << "listening " << ep.address().to_string() << ":" << ep.port() << std::endl;
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "otls_test_meddler: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
