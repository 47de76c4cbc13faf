// STRIPTLS for PostgreSQL: rewrites the first server byte 'S' (TLS accepted) to 'N'.
#include "otls/proto/postgres/offer_stripper.hpp"

namespace otls::proto::postgres {

std::string offer_stripper::from_server(std::string_view bytes) {
  std::string out(bytes);
  if (!first_byte_seen_ && !out.empty()) {
    first_byte_seen_ = true;
    if (out.front() == 'S') {
      out.front() = 'N';
      ++removed_;
    }
  }
  return out;
}

}  // namespace otls::proto::postgres
