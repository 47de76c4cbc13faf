// The policy cache and report counters behind one interface (DESIGN.md store/): MTA-STS
// policies cached per domain (RFC 8461 §3.3, trust on first use). SQLite is the default
// backend (sqlite_store.hpp); a PostgreSQL backend for fleets can implement the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"

namespace otls::store {

enum class errc {
  open_failed = 1,  // the database file cannot be opened or created
  schema_too_new,   // written by a newer otls: refuse rather than corrupt it
  corrupt,          // not an otls store, or damaged
  io_failure,       // a statement failed (disk full, locked beyond the busy timeout, ...)
};
const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// One cached MTA-STS policy. Times are seconds since the epoch (UTC).
struct sts_entry {
  std::string domain;       // lower-case, no trailing dot: the key
  std::string id;           // the TXT record's id when this policy was fetched
  std::string policy_text;  // the policy body as fetched (parsed again on use)
  std::int64_t fetched_at = 0;
  std::int64_t expires_at = 0;  // fetched_at + max_age
  friend bool operator==(const sts_entry&, const sts_entry&) = default;
};

class policy_store {
 public:
  virtual ~policy_store() = default;
  virtual result<std::optional<sts_entry>> get_sts(std::string_view domain) = 0;
  // Inserts or replaces the entry for entry.domain.
  virtual error_code put_sts(const sts_entry& entry) = 0;
  virtual error_code remove_sts(std::string_view domain) = 0;
  // Entries with expires_at < `before`, soonest first, at most `limit` (otls policy --refresh).
  virtual result<std::vector<sts_entry>> sts_expiring_before(std::int64_t before,
                                                             std::size_t limit) = 0;
};

}  // namespace otls::store

template <>
struct boost::system::is_error_code_enum<otls::store::errc> : std::true_type {};
