// The store layer's error category: messages say what happened to the cache file and what
// the user can do about it.
#include "otls/store/store.hpp"

namespace otls::store {
namespace {

class store_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.store"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::open_failed:
        return "the policy store could not be opened or created; check the path and its "
               "permissions (or set OTLS_STORE)";
      case errc::schema_too_new:
        return "the policy store was written by a newer otls; upgrade otls or point "
               "OTLS_STORE at another file (the file was left untouched)";
      case errc::corrupt:
        return "the policy store file is not an otls store or is damaged; move it aside or "
               "point OTLS_STORE at another file";
      case errc::io_failure:
        return "a policy store operation failed (disk full, or locked by another process "
               "for too long); try again";
    }
    return "unknown otls.store error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const store_category instance;
  return instance;
}

}  // namespace otls::store
