// PostgreSQL startup-phase packets and ErrorResponse (PostgreSQL docs "Message Formats").
#include "otls/proto/postgres/message.hpp"

#include <cstdio>

namespace otls::proto::postgres {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

std::uint32_t get_u32(std::string_view s) {
  return (std::uint32_t{static_cast<unsigned char>(s[0])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(s[1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(s[2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(s[3])};
}

}  // namespace

std::string ssl_request() {
  std::string out;
  put_u32(out, 8);
  put_u32(out, ssl_request_code);
  return out;
}

std::optional<startup_packet> read_startup_packet(std::string& buffer, bool& bad_length) {
  bad_length = false;
  if (buffer.size() < 4) return std::nullopt;
  const std::uint32_t length = get_u32(buffer);
  if (length < 8 || length > max_startup_packet) {
    bad_length = true;
    return std::nullopt;
  }
  if (buffer.size() < length) return std::nullopt;
  startup_packet p{get_u32(std::string_view(buffer).substr(4)), buffer.substr(8, length - 8)};
  buffer.erase(0, length);
  return p;
}

std::string error_response(std::string_view sqlstate, std::string_view message) {
  // Fields: S (localized severity), V (severity, 9.6+), C (SQLSTATE), M (message); then a 0.
  std::string fields;
  auto field = [&](char type, std::string_view value) {
    fields.push_back(type);
    fields.append(value);
    fields.push_back('\0');
  };
  field('S', "FATAL");
  field('V', "FATAL");
  field('C', sqlstate);
  field('M', message);
  fields.push_back('\0');
  std::string out(1, 'E');
  put_u32(out, static_cast<std::uint32_t>(fields.size() + 4));
  return out + fields;
}

std::string describe_byte(unsigned char c) {
  char text[16];
  if (c >= 0x20 && c < 0x7f)
    std::snprintf(text, sizeof text, "0x%02x ('%c')", c, c);
  else
    std::snprintf(text, sizeof text, "0x%02x", c);
  return text;
}

}  // namespace otls::proto::postgres
