// MySQL/MariaDB client/server protocol pieces needed around the TLS upgrade (MySQL "Client/Server
// Protocol": packets, Protocol::HandshakeV10, Protocol::SSLRequest, ERR_Packet). Sans-I/O,
// every packet bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"

namespace otls::proto::mysql {

// Capability flags (MySQL "Capabilities Flags").
inline constexpr std::uint32_t client_long_password = 0x00000001;
inline constexpr std::uint32_t client_connect_with_db = 0x00000008;
inline constexpr std::uint32_t client_protocol_41 = 0x00000200;
inline constexpr std::uint32_t client_ssl = 0x00000800;
inline constexpr std::uint32_t client_transactions = 0x00002000;
inline constexpr std::uint32_t client_secure_connection = 0x00008000;
inline constexpr std::uint32_t client_plugin_auth = 0x00080000;

// The initial handshake of real servers is about 80-120 bytes; 4 KiB is lenient and small.
inline constexpr std::size_t max_handshake_packet = 4096;
// A HandshakeResponse carries user, auth data, database and connection attributes.
inline constexpr std::size_t max_client_packet = 16 * 1024;

struct packet {
  std::uint8_t sequence = 0;
  std::string payload;
};

// Reads one packet (3-byte little-endian length, sequence id, payload) from the front of
// `buffer`. nullopt: incomplete. A payload longer than `limit` is an error (malformed_reply).
result<std::optional<packet>> read_packet(std::string& buffer, std::size_t limit);
std::string frame(std::uint8_t sequence, std::string_view payload);

// Protocol::HandshakeV10, the server's first packet.
struct handshake {
  std::uint8_t protocol_version = 0;
  std::string server_version;
  std::uint32_t connection_id = 0;
  std::uint32_t capabilities = 0;  // lower and upper halves joined
  std::uint8_t charset = 0;
  std::string auth_plugin;  // empty when not sent
};

// Parses a HandshakeV10 payload; nullopt when it is cut short or inconsistent.
std::optional<handshake> parse_handshake(std::string_view payload);

// ERR_Packet as the first server packet (before capabilities are agreed: no SQL state marker,
// though one is accepted): "1040 Too many connections".
struct err_packet {
  std::uint16_t code = 0;
  std::string message;
};
std::optional<err_packet> parse_err(std::string_view payload);

// Protocol::SSLRequest payload (32 bytes): our capabilities, max packet size, charset, zeros.
std::string ssl_request_payload(std::uint32_t capabilities);
// Names of the capability flags set, for the report: "PROTOCOL_41", "SSL", ...
std::vector<std::string> capability_names(std::uint32_t capabilities);

// The server role's HandshakeV10 and ERR_Packet (with SQL state, after PROTOCOL_41).
std::string handshake_payload(std::string_view server_version, std::uint32_t capabilities);
std::string err_payload(std::uint16_t code, std::string_view sqlstate, std::string_view message);

}  // namespace otls::proto::mysql
