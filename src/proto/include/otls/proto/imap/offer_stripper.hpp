// STRIPTLS for IMAP (RFC 9051 §6.2.1, §7.1, §7.2.2): the meddlers of the demo lab. One removes
// STARTTLS from capability lists in flight; the other forges a PREAUTH greeting, the "NO
// STARTTLS" attack (Poddebniak et al., USENIX Security 2021) that makes STARTTLS impossible.
#pragma once

#include <string>

#include "otls/proto/imap/response.hpp"
#include "otls/proto/meddler.hpp"

namespace otls::proto::imap {

// Removes STARTTLS from "[CAPABILITY ...]" response codes (greeting, tagged and untagged status
// responses) and from untagged "* CAPABILITY" data. Responses are reassembled with their
// literals, so literal octets are never mistaken for lines; anything not IMAP-shaped (a TLS
// record, an oversized response) ends the meddling and passes through untouched.
class offer_stripper final : public proto::offer_stripper {
 public:
  offer_stripper() : frames_(response_limits, core::line_ending::accept_bare_lf) {}

  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string rewrite(const frame& f);

  frame_reader frames_;
  bool passthrough_ = false;
  unsigned removed_ = 0;
};

// Rewrites the server's "* OK ..." greeting into "* PREAUTH ...", keeping the rest of the line;
// everything after the greeting passes through. offers_removed() counts rewritten greetings.
class preauth_injector final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return rewritten_; }

 private:
  std::string held_;  // the start of the greeting, until it can be judged (bounded)
  bool decided_ = false;
  unsigned rewritten_ = 0;
};

}  // namespace otls::proto::imap
