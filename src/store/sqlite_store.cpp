// policy_store over SQLite: opening a file (schema check, first-use creation, WAL), the
// prepared statements behind each operation, and the default file location.
#include "otls/store/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string_view>

namespace otls::store {
namespace {

constexpr std::int64_t schema_version = 1;
// Long enough to wait out another otls process's write (they are single statements), short
// enough that a wedged process surfaces as io_failure rather than a hang.
constexpr int busy_timeout_ms = 5000;
constexpr std::string_view application = "otls";

// Version 1. The meta row marks the file as ours, so a foreign SQLite file that merely has
// user_version 1 is still refused. Applied in one transaction together with user_version.
constexpr const char* schema_v1 =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT INTO meta(key, value) VALUES ('application', 'otls');"
    "CREATE TABLE sts_policy("
    "  domain TEXT PRIMARY KEY NOT NULL,"
    "  id TEXT NOT NULL,"
    "  policy TEXT NOT NULL,"
    "  fetched_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

constexpr const char* sql_get =
    "SELECT domain, id, policy, fetched_at, expires_at FROM sts_policy WHERE domain = ?1";
constexpr const char* sql_put =
    "INSERT INTO sts_policy(domain, id, policy, fetched_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(domain) DO UPDATE SET id = excluded.id, policy = excluded.policy,"
    " fetched_at = excluded.fetched_at, expires_at = excluded.expires_at";
constexpr const char* sql_remove = "DELETE FROM sts_policy WHERE domain = ?1";
// domain breaks ties so the order is the same on every run.
constexpr const char* sql_expiring =
    "SELECT domain, id, policy, fetched_at, expires_at FROM sts_policy"
    " WHERE expires_at < ?1 ORDER BY expires_at, domain LIMIT ?2";

struct db_close {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_close>;
struct stmt_finalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalize>;

// Resets a long-lived statement when one use ends, on every path: an un-reset SELECT would
// keep its read transaction open and pin the WAL for other processes.
class stmt_use {
 public:
  explicit stmt_use(sqlite3_stmt* s) noexcept : s_(s) {}
  ~stmt_use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  stmt_use(const stmt_use&) = delete;
  stmt_use& operator=(const stmt_use&) = delete;

 private:
  sqlite3_stmt* s_;
};

// After the store is open: damage is reported as such, everything else (full disk, lock
// held past the busy timeout, ...) is an I/O failure the caller may retry.
error_code op_error(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return make_error_code(errc::corrupt);
    default:
      return make_error_code(errc::io_failure);
  }
}

// While opening, SQLite reports an unusable path lazily (on the first read), so the same
// codes can come from any step of open().
error_code open_error(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return make_error_code(errc::open_failed);
    default:
      return op_error(rc);
  }
}

// Statements without values (pragmas, fixed DDL) only; anything carrying data is bound.
int exec(sqlite3* db, const char* sql) noexcept {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

enum class schema_state { empty, versioned };

// What the file holds: nothing yet (ours to initialise), or our versioned schema. Reads
// only, so refusing a file never changes it. Version and table count come from one statement,
// hence one snapshot: read separately, another process's creation could commit in between
// and make a new file look foreign.
result<schema_state> inspect(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(
      db, "SELECT (SELECT user_version FROM pragma_user_version), count(*) FROM sqlite_master", -1,
      &raw, nullptr);
  stmt_ptr s(raw);
  if (rc != SQLITE_OK) return open_error(rc);
  const int step = sqlite3_step(s.get());
  if (step != SQLITE_ROW) return open_error(step == SQLITE_DONE ? SQLITE_CORRUPT : step);
  const std::int64_t version = sqlite3_column_int64(s.get(), 0);
  const std::int64_t tables = sqlite3_column_int64(s.get(), 1);
  if (version > schema_version) return make_error_code(errc::schema_too_new);
  if (version == schema_version) return schema_state::versioned;
  // A negative version, or version 0 with tables, is somebody else's database.
  if (version < 0 || tables != 0) return make_error_code(errc::corrupt);
  return schema_state::empty;
}

// Creates the schema in one write transaction. Another otls process may have created it
// between inspect() and our lock, so the file is inspected again under the lock.
error_code create_schema(sqlite3* db) {
  if (const int rc = exec(db, "BEGIN IMMEDIATE"); rc != SQLITE_OK) return open_error(rc);
  auto state = inspect(db);
  int rc = SQLITE_OK;
  if (state && *state == schema_state::empty) rc = exec(db, schema_v1);
  if (!state || rc != SQLITE_OK) {
    exec(db, "ROLLBACK");
    return state ? open_error(rc) : state.error();
  }
  if (rc = exec(db, "COMMIT"); rc != SQLITE_OK) {
    exec(db, "ROLLBACK");
    return open_error(rc);
  }
  return {};
}

// A versioned file is ours only if meta says so.
error_code check_application(sqlite3* db) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &raw, nullptr);
  stmt_ptr s(raw);
  // No meta table: a foreign file with user_version 1.
  if (rc == SQLITE_ERROR) return make_error_code(errc::corrupt);
  if (rc != SQLITE_OK) return open_error(rc);
  constexpr std::string_view key = "application";
  rc = sqlite3_bind_text(s.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) return open_error(rc);
  rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return make_error_code(errc::corrupt);
  if (rc != SQLITE_ROW) return open_error(rc);
  const auto* text = sqlite3_column_text(s.get(), 0);
  const int size = sqlite3_column_bytes(s.get(), 0);
  if (text == nullptr || std::string_view(reinterpret_cast<const char*>(text),
                                          static_cast<std::size_t>(size)) != application) {
    return make_error_code(errc::corrupt);
  }
  return {};
}

// Creates every missing directory up to `dir` with mode 0700: the cache reveals which mail
// domains this user talks to.
bool make_dirs(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode);
  if (errno != ENOENT) return false;
  const auto parent = dir.parent_path();
  if (!parent.empty() && parent != dir && !make_dirs(parent)) return false;
  // EEXIST: another process created it meanwhile.
  return ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST;
}

// Keys are compared byte for byte, so spellings of one domain must meet: DNS names are
// case-insensitive (ASCII only; IDNs arrive as A-labels) and the root dot is implied.
std::string normalise(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string out(domain);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int bind_text(sqlite3_stmt* s, int index, std::string_view text) noexcept {
  return sqlite3_bind_text64(s, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

result<std::string> column_text(sqlite3_stmt* s, int column) {
  // NOT NULL in our schema, but the file may have been edited by hand.
  if (sqlite3_column_type(s, column) == SQLITE_NULL) return make_error_code(errc::corrupt);
  const auto* text = sqlite3_column_text(s, column);
  if (text == nullptr) return make_error_code(errc::io_failure);  // out of memory
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, column)));
}

// One row of sql_get or sql_expiring.
result<sts_entry> read_entry(sqlite3_stmt* s) {
  sts_entry e;
  auto domain = column_text(s, 0);
  if (!domain) return domain.error();
  auto id = column_text(s, 1);
  if (!id) return id.error();
  auto policy = column_text(s, 2);
  if (!policy) return policy.error();
  if (sqlite3_column_type(s, 3) == SQLITE_NULL || sqlite3_column_type(s, 4) == SQLITE_NULL) {
    return make_error_code(errc::corrupt);
  }
  e.domain = std::move(*domain);
  e.id = std::move(*id);
  e.policy_text = std::move(*policy);
  e.fetched_at = sqlite3_column_int64(s, 3);
  e.expires_at = sqlite3_column_int64(s, 4);
  return e;
}

}  // namespace

struct sqlite_store::impl {
  // Declared first so it is closed after the statements are finalised.
  db_ptr db;
  stmt_ptr get, put, remove, expiring;
  // One connection and shared statements: callers on several threads take turns.
  std::mutex mutex;
};

std::string default_store_path() {
  const auto env = [](const char* name) -> std::string_view {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  if (const auto store = env("OTLS_STORE"); !store.empty()) return std::string(store);
  // The XDG base directory spec says relative values are invalid and must be ignored.
  if (const auto xdg = env("XDG_CACHE_HOME"); !xdg.empty() && xdg.front() == '/') {
    return std::string(xdg) + "/otls/policy.sqlite";
  }
  if (const auto home = env("HOME"); !home.empty()) {
    return std::string(home) + "/.cache/otls/policy.sqlite";
  }
  return "/var/cache/otls/policy.sqlite";
}

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path) {
  // SQLite would silently give an empty path a temporary database; that is a config mistake.
  if (path.empty()) return make_error_code(errc::open_failed);
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !make_dirs(parent)) return make_error_code(errc::open_failed);
  }

  auto p = std::make_unique<impl>();
  sqlite3* raw = nullptr;
  // No SQLITE_OPEN_URI: the path is a file name, never "file:...?mode=..." options. NOMUTEX
  // because impl::mutex already serialises every use of the connection.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  p->db.reset(raw);  // set even on failure, and must be closed
  if (rc != SQLITE_OK) return open_error(rc);
  sqlite3* const db = p->db.get();
  sqlite3_busy_timeout(db, busy_timeout_ms);

  auto state = inspect(db);
  if (!state) return state.error();
  if (*state == schema_state::empty) {
    if (auto ec = create_schema(db)) return ec;
  }
  if (auto ec = check_application(db)) return ec;

  // WAL lets readers in other otls processes proceed during a write; only now, since
  // switching rewrites the header of a file we might still have refused. The answer is
  // "memory" for ":memory:" and may stay "delete" where shared memory is unavailable; both
  // still work, with less concurrency. Switching needs the file to itself, and SQLite answers
  // BUSY at once instead of waiting while another process has it open (as at concurrent
  // first opens): that open goes on in the current mode, since the mode is persistent and
  // WAL only an optimisation, and a later open switches.
  if (const int wal = exec(db, "PRAGMA journal_mode = WAL");
      wal != SQLITE_OK && (wal & 0xff) != SQLITE_BUSY) {
    return open_error(wal);
  }
  // With WAL, NORMAL cannot corrupt the file; a power cut may lose the last writes, which a
  // cache refetches.
  if (const int sync = exec(db, "PRAGMA synchronous = NORMAL"); sync != SQLITE_OK) {
    return open_error(sync);
  }

  const auto prepare = [db](const char* sql, stmt_ptr& out) -> error_code {
    sqlite3_stmt* s = nullptr;
    const int prc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    if (prc == SQLITE_OK) return {};
    // SQLITE_ERROR here means a missing table or column: our meta row over a damaged schema.
    return (prc & 0xff) == SQLITE_ERROR ? make_error_code(errc::corrupt) : open_error(prc);
  };
  if (auto ec = prepare(sql_get, p->get)) return ec;
  if (auto ec = prepare(sql_put, p->put)) return ec;
  if (auto ec = prepare(sql_remove, p->remove)) return ec;
  if (auto ec = prepare(sql_expiring, p->expiring)) return ec;
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
sqlite_store::~sqlite_store() = default;

result<std::optional<sts_entry>> sqlite_store::get_sts(std::string_view domain) {
  const std::lock_guard lock(impl_->mutex);
  sqlite3_stmt* const s = impl_->get.get();
  const std::string key = normalise(domain);
  const stmt_use use(s);
  if (const int rc = bind_text(s, 1, key); rc != SQLITE_OK) return op_error(rc);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<sts_entry>();
  if (rc != SQLITE_ROW) return op_error(rc);
  auto entry = read_entry(s);
  if (!entry) return entry.error();
  return std::optional<sts_entry>(std::move(*entry));
}

error_code sqlite_store::put_sts(const sts_entry& entry) {
  const std::lock_guard lock(impl_->mutex);
  sqlite3_stmt* const s = impl_->put.get();
  const std::string key = normalise(entry.domain);
  const stmt_use use(s);
  int rc = bind_text(s, 1, key);
  if (rc == SQLITE_OK) rc = bind_text(s, 2, entry.id);
  if (rc == SQLITE_OK) rc = bind_text(s, 3, entry.policy_text);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 4, entry.fetched_at);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 5, entry.expires_at);
  if (rc != SQLITE_OK) return op_error(rc);
  rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? error_code() : op_error(rc);
}

error_code sqlite_store::remove_sts(std::string_view domain) {
  const std::lock_guard lock(impl_->mutex);
  sqlite3_stmt* const s = impl_->remove.get();
  const std::string key = normalise(domain);
  const stmt_use use(s);
  if (const int rc = bind_text(s, 1, key); rc != SQLITE_OK) return op_error(rc);
  const int rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? error_code() : op_error(rc);
}

result<std::vector<sts_entry>> sqlite_store::sts_expiring_before(std::int64_t before,
                                                                 std::size_t limit) {
  const std::lock_guard lock(impl_->mutex);
  sqlite3_stmt* const s = impl_->expiring.get();
  const stmt_use use(s);
  // A negative LIMIT means "no limit" to SQLite, so clamp rather than let a huge size_t wrap.
  constexpr auto max_limit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  const auto bound = static_cast<std::int64_t>(limit < max_limit ? limit : max_limit);
  int rc = sqlite3_bind_int64(s, 1, before);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 2, bound);
  if (rc != SQLITE_OK) return op_error(rc);
  std::vector<sts_entry> out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto entry = read_entry(s);
    if (!entry) return entry.error();
    out.push_back(std::move(*entry));
  }
  if (rc != SQLITE_DONE) return op_error(rc);
  return out;
}

}  // namespace otls::store
