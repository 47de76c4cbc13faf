// PostgreSQL frontend/backend protocol 3.0 framing needed around the TLS upgrade (PostgreSQL docs
// "Message Formats" and "SSL Session Encryption"): SSLRequest, GSSENCRequest, CancelRequest,
// StartupMessage and ErrorResponse. Sans-I/O, every length bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otls::proto::postgres {

// Request codes sent in place of a protocol version in an untyped startup-phase packet.
inline constexpr std::uint32_t ssl_request_code = 80877103;     // 1234.5679
inline constexpr std::uint32_t gssenc_request_code = 80877104;  // 1234.5680
inline constexpr std::uint32_t cancel_request_code = 80877102;  // 1234.5678
inline constexpr std::uint32_t protocol_3_0 = 196608;           // 3 << 16

// PostgreSQL's own limit for a startup packet (MAX_STARTUP_PACKET_LENGTH in the server).
inline constexpr std::size_t max_startup_packet = 10000;

// The 8 bytes a client sends to ask for TLS: Int32 length 8, Int32 80877103.
std::string ssl_request();

// An untyped startup-phase packet (Int32 length including itself, Int32 code, body).
struct startup_packet {
  std::uint32_t code = 0;  // protocol version or one of the request codes
  std::string body;        // after the code
};

// Reads one startup-phase packet from the front of `buffer`. nullopt: incomplete. An invalid
// length (below 8 or above max_startup_packet) sets `bad_length` and returns nullopt.
std::optional<startup_packet> read_startup_packet(std::string& buffer, bool& bad_length);

// ErrorResponse ('E') with severity FATAL, an SQLSTATE and a message.
std::string error_response(std::string_view sqlstate, std::string_view message);

// The byte as a printable note for diagnostics, never the peer's text: "0x45 ('E')".
std::string describe_byte(unsigned char c);

}  // namespace otls::proto::postgres
