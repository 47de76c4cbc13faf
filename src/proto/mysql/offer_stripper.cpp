// STRIPTLS for MySQL/MariaDB: rewrites the CLIENT_SSL bit of the initial handshake packet.
#include "otls/proto/mysql/offer_stripper.hpp"

#include <utility>

#include "otls/proto/mysql/packet.hpp"

namespace otls::proto::mysql {

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  if (pending_.size() < 4) return {};
  const std::size_t length =
      static_cast<unsigned char>(pending_[0]) | (static_cast<unsigned char>(pending_[1]) << 8) |
      (static_cast<std::size_t>(static_cast<unsigned char>(pending_[2])) << 16);
  if (length > max_handshake_packet) {  // not a handshake: stop meddling
    passthrough_ = true;
    return std::exchange(pending_, {});
  }
  if (pending_.size() < 4 + length) return {};
  passthrough_ = true;
  // Protocol 10, version string, NUL, connection id (4), scramble (8), filler (1), then the
  // lower capability flags, little-endian: CLIENT_SSL (0x0800) is bit 3 of their second byte.
  const std::size_t nul = pending_.find('\0', 5);
  const std::size_t flags = nul + 1 + 4 + 8 + 1;
  if (pending_[4] == '\x0a' && nul != std::string::npos && flags + 2 <= 4 + length &&
      (static_cast<unsigned char>(pending_[flags + 1]) & (client_ssl >> 8))) {
    pending_[flags + 1] = static_cast<char>(pending_[flags + 1] & ~(client_ssl >> 8));
    ++removed_;
  }
  return std::exchange(pending_, {});
}

}  // namespace otls::proto::mysql
