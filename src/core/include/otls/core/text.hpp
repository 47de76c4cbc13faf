// ASCII text helpers shared by the line-oriented dialects (SMTP, NNTP, FTP, HTTP, ...): protocol
// keywords compare case-insensitively in ASCII only, whatever the locale.
#pragma once

#include <string>
#include <string_view>

namespace otls::core {

// ASCII case-insensitive equality ("STARTTLS" == "StartTLS").
bool iequals(std::string_view a, std::string_view b) noexcept;
// ASCII upper and lower case; other bytes unchanged.
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// Without leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view s) noexcept;
// The first space- or tab-separated word after leading blanks ("AUTH" of " AUTH TLS").
std::string_view first_word(std::string_view line) noexcept;

}  // namespace otls::core
