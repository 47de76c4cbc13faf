// MySQL/MariaDB packets around the TLS upgrade (MySQL "Client/Server Protocol":
// Protocol::Packet, Protocol::HandshakeV10, Protocol::SSLRequest, ERR_Packet).
#include "otls/proto/mysql/packet.hpp"

#include <array>
#include <utility>

#include "otls/proto/dialect.hpp"

namespace otls::proto::mysql {
namespace {

std::uint32_t le(std::string_view s, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint32_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

void put_le(std::string& out, std::uint32_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

result<std::optional<packet>> read_packet(std::string& buffer, std::size_t limit) {
  if (buffer.size() < 4) return std::optional<packet>{};
  const std::size_t length = le(buffer, 0, 3);
  if (length > limit) return errc::malformed_reply;
  if (buffer.size() < 4 + length) return std::optional<packet>{};
  packet p{static_cast<std::uint8_t>(buffer[3]), buffer.substr(4, length)};
  buffer.erase(0, 4 + length);
  return std::optional<packet>{std::move(p)};
}

std::string frame(std::uint8_t sequence, std::string_view payload) {
  std::string out;
  put_le(out, static_cast<std::uint32_t>(payload.size()), 3);
  out.push_back(static_cast<char>(sequence));
  return out.append(payload);
}

std::optional<handshake> parse_handshake(std::string_view p) {
  handshake h;
  if (p.empty()) return std::nullopt;
  h.protocol_version = static_cast<std::uint8_t>(p[0]);
  const std::size_t nul = p.find('\0', 1);
  if (nul == std::string_view::npos) return std::nullopt;
  h.server_version = std::string(p.substr(1, nul - 1));
  std::size_t at = nul + 1;
  // connection id (4), auth-plugin-data-part-1 (8), filler (1), capability flags lower (2)
  if (p.size() < at + 15) return std::nullopt;
  h.connection_id = le(p, at, 4);
  at += 4 + 8 + 1;
  h.capabilities = le(p, at, 2);
  at += 2;
  if (p.size() == at) return h;  // pre-4.1 servers may stop here
  // charset (1), status flags (2), capability flags upper (2), auth data length (1), reserved (10)
  if (p.size() < at + 16) return std::nullopt;
  h.charset = static_cast<std::uint8_t>(p[at]);
  h.capabilities |= le(p, at + 3, 2) << 16;
  const std::size_t auth_length = static_cast<unsigned char>(p[at + 5]);
  at += 16;
  if (h.capabilities & client_secure_connection) {
    const std::size_t part2 = auth_length > 8 ? std::max<std::size_t>(13, auth_length - 8) : 13;
    if (p.size() < at + part2) return std::nullopt;
    at += part2;
  }
  if (h.capabilities & client_plugin_auth) {
    // NUL-terminated, though some servers omit the last NUL.
    const std::size_t end = p.find('\0', at);
    h.auth_plugin = std::string(p.substr(at, end == std::string_view::npos ? p.npos : end - at));
  }
  return h;
}

std::optional<err_packet> parse_err(std::string_view p) {
  if (p.size() < 3 || static_cast<unsigned char>(p[0]) != 0xff) return std::nullopt;
  err_packet e{static_cast<std::uint16_t>(le(p, 1, 2)), {}};
  std::string_view message = p.substr(3);
  if (message.size() >= 6 && message[0] == '#') message.remove_prefix(6);  // '#' + SQL state
  e.message = std::string(message);
  return e;
}

std::string ssl_request_payload(std::uint32_t capabilities) {
  std::string out;
  put_le(out, capabilities, 4);
  put_le(out, 16 * 1024 * 1024, 4);  // max packet size
  out.push_back(33);                 // utf8_general_ci: known to every 4.1+ server
  out.append(23, '\0');
  return out;
}

std::vector<std::string> capability_names(std::uint32_t capabilities) {
  static constexpr std::array<std::pair<std::uint32_t, const char*>, 24> names{{
      {0x00000001, "LONG_PASSWORD"},
      {0x00000002, "FOUND_ROWS"},
      {0x00000004, "LONG_FLAG"},
      {0x00000008, "CONNECT_WITH_DB"},
      {0x00000010, "NO_SCHEMA"},
      {0x00000020, "COMPRESS"},
      {0x00000040, "ODBC"},
      {0x00000080, "LOCAL_FILES"},
      {0x00000100, "IGNORE_SPACE"},
      {0x00000200, "PROTOCOL_41"},
      {0x00000400, "INTERACTIVE"},
      {0x00000800, "SSL"},
      {0x00001000, "IGNORE_SIGPIPE"},
      {0x00002000, "TRANSACTIONS"},
      {0x00004000, "RESERVED"},
      {0x00008000, "SECURE_CONNECTION"},
      {0x00010000, "MULTI_STATEMENTS"},
      {0x00020000, "MULTI_RESULTS"},
      {0x00040000, "PS_MULTI_RESULTS"},
      {0x00080000, "PLUGIN_AUTH"},
      {0x00100000, "CONNECT_ATTRS"},
      {0x00200000, "PLUGIN_AUTH_LENENC_CLIENT_DATA"},
      {0x00400000, "CAN_HANDLE_EXPIRED_PASSWORDS"},
      {0x00800000, "SESSION_TRACK"},
  }};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (capabilities & bit) out.emplace_back(name);
  if (capabilities & 0x01000000) out.emplace_back("DEPRECATE_EOF");
  return out;
}

std::string handshake_payload(std::string_view server_version, std::uint32_t capabilities) {
  // A fixed scramble: this server authenticates nobody, so the challenge is never used.
  constexpr std::string_view scramble = "otls-scramble-0000000";  // 20 bytes + NUL below
  std::string out(1, '\x0a');
  out.append(server_version).push_back('\0');
  put_le(out, 1, 4);  // connection id
  out.append(scramble.substr(0, 8)).push_back('\0');
  put_le(out, capabilities & 0xffff, 2);
  out.push_back(33);       // utf8_general_ci
  put_le(out, 0x0002, 2);  // SERVER_STATUS_AUTOCOMMIT
  put_le(out, capabilities >> 16, 2);
  out.push_back(21);  // auth-plugin-data length: 20 + NUL
  out.append(10, '\0');
  out.append(scramble.substr(8, 12)).push_back('\0');
  out.append("mysql_native_password").push_back('\0');
  return out;
}

std::string err_payload(std::uint16_t code, std::string_view sqlstate, std::string_view message) {
  std::string out(1, '\xff');
  put_le(out, code, 2);
  out.push_back('#');
  out.append(sqlstate.substr(0, 5));
  return out.append(message);
}

}  // namespace otls::proto::mysql
