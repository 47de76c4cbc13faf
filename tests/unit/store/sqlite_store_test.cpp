// Tests of sqlite_store: the cache operations, domain normalisation, and how open() treats new,
// own, foreign, future-version and unusable files. Files live under ::testing::TempDir().
#include "otls/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using otls::store::errc;
using otls::store::sqlite_store;
using otls::store::sts_entry;

namespace {

sts_entry entry(std::string domain, std::int64_t expires_at, std::string id = "20240101") {
  return {std::move(domain), std::move(id), "version: STSv1\nmode: enforce\n", expires_at - 86400,
          expires_at};
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Builds or inspects a database the way another tool (Python's sqlite3, a foreign program)
// would: plain SQLite, no otls code involved.
class raw_db {
 public:
  explicit raw_db(const fs::path& p) { EXPECT_EQ(sqlite3_open(p.c_str(), &db_), SQLITE_OK) << p; }
  ~raw_db() { sqlite3_close(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  void exec(const char* sql) {
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : sql);
    sqlite3_free(msg);
  }
  // Every row of a query, columns joined with '|'.
  std::vector<std::string> rows(const char* sql) {
    std::vector<std::string> out;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &s, nullptr), SQLITE_OK) << sql;
    while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (i > 0) row += '|';
        const auto* t = sqlite3_column_text(s, i);
        row += t != nullptr ? reinterpret_cast<const char*>(t) : "NULL";
      }
      out.push_back(row);
    }
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A fresh directory per test, removed afterwards, so tests never see each other's files.
class SqliteStoreFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("otls_store_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path path(const char* name = "policy.sqlite") const { return dir_ / name; }

  fs::path dir_;
};

std::unique_ptr<sqlite_store> open_ok(const std::string& path) {
  auto s = sqlite_store::open(path);
  EXPECT_TRUE(s.has_value()) << path << ": " << (s ? "" : s.error().message());
  return s ? std::move(*s) : nullptr;
}

TEST(SqliteStore, RoundTrip) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  const auto e = entry("example.com", 2'000'000'000);
  ASSERT_FALSE(s->put_sts(e));
  auto got = s->get_sts("example.com");
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, e);
}

TEST(SqliteStore, MissingDomainIsEmptyNotAnError) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  auto got = s->get_sts("absent.example");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
}

TEST(SqliteStore, KeepsPolicyBytesAndLargeTimes) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  sts_entry e{"example.com", "id'; DROP TABLE sts_policy; --",
              std::string("mode: testing\r\n\0tail", 21), std::numeric_limits<std::int64_t>::min(),
              std::numeric_limits<std::int64_t>::max()};
  ASSERT_FALSE(s->put_sts(e));
  auto got = s->get_sts("example.com");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, e);
}

TEST(SqliteStore, PutReplaces) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->put_sts(entry("example.com", 1000, "old")));
  const auto newer = entry("example.com", 5000, "new");
  ASSERT_FALSE(s->put_sts(newer));
  auto got = s->get_sts("example.com");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, newer);
  auto all = s->sts_expiring_before(std::numeric_limits<std::int64_t>::max(), 10);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST(SqliteStore, Remove) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->put_sts(entry("a.example", 1000)));
  ASSERT_FALSE(s->put_sts(entry("b.example", 1000)));
  EXPECT_FALSE(s->remove_sts("a.example"));
  auto a = s->get_sts("a.example");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());
  auto b = s->get_sts("b.example");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->has_value());
  // Removing what is not there is not an error: the caller wanted it gone.
  EXPECT_FALSE(s->remove_sts("a.example"));
}

TEST(SqliteStore, NormalisesCaseAndTrailingDot) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->put_sts(entry("Mail.Example.COM.", 1000)));
  for (const char* spelling : {"mail.example.com", "MAIL.EXAMPLE.COM", "mail.example.com."}) {
    auto got = s->get_sts(spelling);
    ASSERT_TRUE(got) << spelling;
    ASSERT_TRUE(got->has_value()) << spelling;
    EXPECT_EQ((*got)->domain, "mail.example.com");
  }
  // A second spelling replaces rather than adds.
  ASSERT_FALSE(s->put_sts(entry("mail.example.com", 2000)));
  auto all = s->sts_expiring_before(std::numeric_limits<std::int64_t>::max(), 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().expires_at, 2000);
  EXPECT_FALSE(s->remove_sts("MAIL.example.Com."));
  auto gone = s->get_sts("mail.example.com");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST(SqliteStore, ExpiringBeforeOrdersAndLimits) {
  auto s = open_ok(":memory:");
  ASSERT_TRUE(s);
  ASSERT_FALSE(s->put_sts(entry("c.example", 300)));
  ASSERT_FALSE(s->put_sts(entry("a.example", 100)));
  ASSERT_FALSE(s->put_sts(entry("d.example", 400)));
  ASSERT_FALSE(s->put_sts(entry("b.example", 200)));
  const auto domains = [&](std::int64_t before, std::size_t limit) {
    std::vector<std::string> out;
    auto r = s->sts_expiring_before(before, limit);
    EXPECT_TRUE(r);
    if (r) {
      for (const auto& e : *r) out.push_back(e.domain);
    }
    return out;
  };
  using v = std::vector<std::string>;
  EXPECT_EQ(domains(350, 10), (v{"a.example", "b.example", "c.example"}));
  EXPECT_EQ(domains(350, 2), (v{"a.example", "b.example"}));
  EXPECT_EQ(domains(300, 10), (v{"a.example", "b.example"}));  // strictly before
  EXPECT_EQ(domains(100, 10), v{});
  EXPECT_EQ(domains(1000, 0), v{});
  // A limit beyond int64 must not turn into SQLite's "no limit" by wrapping negative.
  EXPECT_EQ(domains(1000, std::numeric_limits<std::size_t>::max()).size(), 4u);
}

TEST_F(SqliteStoreFile, ReopenKeepsData) {
  const auto e = entry("example.com", 2'000'000'000);
  {
    auto s = open_ok(path());
    ASSERT_TRUE(s);
    ASSERT_FALSE(s->put_sts(e));
  }
  auto s = open_ok(path());
  ASSERT_TRUE(s);
  auto got = s->get_sts("example.com");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, e);
}

TEST_F(SqliteStoreFile, NewFileHasTheDocumentedSchema) {
  { ASSERT_TRUE(open_ok(path())); }
  raw_db db(path());
  EXPECT_EQ(db.rows("PRAGMA user_version"), std::vector<std::string>{"1"});
  EXPECT_EQ(db.rows("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(db.rows("SELECT value FROM meta WHERE key = 'application'"),
            std::vector<std::string>{"otls"});
  // name|type|notnull|pk, the contract with tools that edit the file directly.
  EXPECT_EQ(db.rows("SELECT name, type, \"notnull\", pk FROM pragma_table_info('sts_policy')"),
            (std::vector<std::string>{"domain|TEXT|1|1", "id|TEXT|1|0", "policy|TEXT|1|0",
                                      "fetched_at|INTEGER|1|0", "expires_at|INTEGER|1|0"}));
}

TEST_F(SqliteStoreFile, EmptyExistingFileGetsSchema) {
  std::ofstream(path()).close();
  ASSERT_EQ(fs::file_size(path()), 0u);
  auto s = open_ok(path());
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->put_sts(entry("example.com", 1000)));
}

TEST_F(SqliteStoreFile, ReadsRowsWrittenByOtherTools) {
  { ASSERT_TRUE(open_ok(path())); }
  {
    raw_db db(path());
    db.exec(
        "INSERT INTO sts_policy(domain, id, policy, fetched_at, expires_at) "
        "VALUES ('example.org', 'abc', 'version: STSv1', 10, 20)");
  }
  auto s = open_ok(path());
  ASSERT_TRUE(s);
  auto got = s->get_sts("Example.ORG.");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(**got, (sts_entry{"example.org", "abc", "version: STSv1", 10, 20}));
}

TEST_F(SqliteStoreFile, CreatesMissingParentDirectoriesPrivately) {
  const auto nested = dir_ / "a" / "b" / "policy.sqlite";
  auto s = open_ok(nested);
  ASSERT_TRUE(s);
  EXPECT_TRUE(fs::exists(nested));
  for (const auto& d : {dir_ / "a", dir_ / "a" / "b"}) {
    struct stat st {};
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
  }
}

TEST_F(SqliteStoreFile, ForeignSqliteFileIsCorruptAndUntouched) {
  {
    raw_db db(path());
    db.exec("CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('mine');");
  }
  const auto before = read_bytes(path());
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::corrupt);
  EXPECT_EQ(read_bytes(path()), before);
}

TEST_F(SqliteStoreFile, ForeignFileWithOurVersionNumberIsCorrupt) {
  {
    raw_db db(path());
    db.exec("CREATE TABLE notes(body TEXT); PRAGMA user_version = 1;");
  }
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::corrupt);
}

TEST_F(SqliteStoreFile, OtherApplicationsMetaIsCorrupt) {
  {
    raw_db db(path());
    db.exec(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('application', 'someone-else');"
        "PRAGMA user_version = 1;");
  }
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::corrupt);
}

TEST_F(SqliteStoreFile, DamagedSchemaIsCorrupt) {
  { ASSERT_TRUE(open_ok(path())); }
  {
    raw_db db(path());
    db.exec("DROP TABLE sts_policy");
  }
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::corrupt);
}

TEST_F(SqliteStoreFile, NotSqliteAtAllIsCorrupt) {
  std::ofstream(path()) << std::string(4096, 'x');
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::corrupt);
  EXPECT_EQ(read_bytes(path()), std::string(4096, 'x'));
}

TEST_F(SqliteStoreFile, NewerSchemaIsRefusedAndUntouched) {
  { ASSERT_TRUE(open_ok(path())); }
  {
    raw_db db(path());
    db.exec("PRAGMA journal_mode = DELETE; PRAGMA user_version = 2;");
  }
  const auto before = read_bytes(path());
  auto s = sqlite_store::open(path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::schema_too_new);
  EXPECT_EQ(read_bytes(path()), before);
  raw_db db(path());
  EXPECT_EQ(db.rows("PRAGMA user_version"), std::vector<std::string>{"2"});
  EXPECT_EQ(db.rows("PRAGMA journal_mode"), std::vector<std::string>{"delete"});
}

TEST_F(SqliteStoreFile, UnusablePathIsOpenFailed) {
  std::ofstream(path("plain-file")) << "not a directory";
  // Running as root defeats permission bits, so use paths no one can open.
  for (const auto& bad :
       {path("plain-file") / "policy.sqlite", path("plain-file") / "sub" / "policy.sqlite", dir_}) {
    auto s = sqlite_store::open(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error(), errc::open_failed) << bad;
  }
  auto empty = sqlite_store::open("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), errc::open_failed);
}

TEST_F(SqliteStoreFile, TwoStoresOnOneFileSeeEachOthersWrites) {
  auto first = open_ok(path());
  auto second = open_ok(path());
  ASSERT_TRUE(first && second);
  const auto e = entry("example.com", 1000);
  ASSERT_FALSE(first->put_sts(e));
  auto seen = second->get_sts("example.com");
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ(**seen, e);

  const auto replaced = entry("example.com", 2000, "second");
  ASSERT_FALSE(second->put_sts(replaced));
  ASSERT_FALSE(second->put_sts(entry("example.net", 1500)));
  auto again = first->get_sts("example.com");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(**again, replaced);
  auto expiring = first->sts_expiring_before(3000, 10);
  ASSERT_TRUE(expiring);
  ASSERT_EQ(expiring->size(), 2u);
  EXPECT_EQ((*expiring)[0].domain, "example.net");

  ASSERT_FALSE(first->remove_sts("example.com"));
  auto gone = second->get_sts("example.com");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

// Several otls processes started at once on a missing file: exactly one creates the schema,
// the others wait on the lock and find it done (threads stand in for processes here).
TEST_F(SqliteStoreFile, ConcurrentFirstOpensAllSucceed) {
  constexpr int n = 6;
  std::vector<std::thread> threads;
  std::vector<otls::error_code> errors(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto s = sqlite_store::open(path());
      if (!s) {
        errors[i] = s.error();
        return;
      }
      errors[i] = (*s)->put_sts(entry("d" + std::to_string(i) + ".example", 1000 + i));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) EXPECT_FALSE(errors[i]) << i << ": " << errors[i].message();
  auto s = open_ok(path());
  ASSERT_TRUE(s);
  auto all = s->sts_expiring_before(std::numeric_limits<std::int64_t>::max(), 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), static_cast<std::size_t>(n));
}

// Sets or unsets environment variables for one test and restores them afterwards.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DefaultStorePath, FollowsEnvironmentInOrder) {
  using otls::store::default_store_path;
  scoped_env store("OTLS_STORE", "/srv/otls/cache.sqlite");
  scoped_env xdg("XDG_CACHE_HOME", "/xdg");
  scoped_env home("HOME", "/home/u");
  EXPECT_EQ(default_store_path(), "/srv/otls/cache.sqlite");
  {
    scoped_env empty("OTLS_STORE", "");
    EXPECT_EQ(default_store_path(), "/xdg/otls/policy.sqlite");
    {
      scoped_env relative("XDG_CACHE_HOME", "relative/cache");  // invalid per the XDG spec
      EXPECT_EQ(default_store_path(), "/home/u/.cache/otls/policy.sqlite");
    }
    {
      scoped_env unset_xdg("XDG_CACHE_HOME", nullptr);
      EXPECT_EQ(default_store_path(), "/home/u/.cache/otls/policy.sqlite");
      scoped_env unset_home("HOME", nullptr);
      EXPECT_EQ(default_store_path(), "/var/cache/otls/policy.sqlite");
    }
  }
}

TEST(StoreErrors, HaveCategoryAndMessages) {
  for (auto e : {errc::open_failed, errc::schema_too_new, errc::corrupt, errc::io_failure}) {
    const otls::error_code ec = e;
    EXPECT_STREQ(ec.category().name(), "otls.store");
    EXPECT_FALSE(ec.message().empty());
    EXPECT_EQ(ec.message().find("unknown"), std::string::npos);
  }
}

}  // namespace
