// policy_store over SQLite (Debian's libsqlite3): one file, schema versioned with
// PRAGMA user_version, WAL mode and a busy timeout so several otls processes can share it.
#pragma once

#include <memory>
#include <string>

#include "otls/store/store.hpp"

namespace otls::store {

// The default location: $OTLS_STORE if non-empty, else $XDG_CACHE_HOME/otls/policy.sqlite
// (absolute values only, as the XDG spec says), else $HOME/.cache/otls/policy.sqlite, else
// /var/cache/otls/policy.sqlite. open() creates missing directories with mode 0700.
std::string default_store_path();

// Domains are normalised (ASCII lower case, no trailing dot) on every call. One connection per
// object, used by one thread at a time (calls are serialised); open one object per thread or
// process for parallelism: they share the file safely.
class sqlite_store final : public policy_store {
 public:
  // Opens or creates the database; ":memory:" gives a private in-memory store (tests).
  // Errors: open_failed (path unusable), corrupt (not an otls store, or damaged),
  // schema_too_new (a newer otls's file, left untouched), io_failure (e.g. locked too long).
  static result<std::unique_ptr<sqlite_store>> open(const std::string& path);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  result<std::optional<sts_entry>> get_sts(std::string_view domain) override;
  error_code put_sts(const sts_entry& entry) override;
  error_code remove_sts(std::string_view domain) override;
  result<std::vector<sts_entry>> sts_expiring_before(std::int64_t before,
                                                     std::size_t limit) override;

  struct impl;

 private:
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace otls::store
