#pragma once
// The transaction shape both database wrappers share (storage/sqlite.h, storage/postgres.h):
// begin, run the body, commit; roll back and rethrow when the body (or the commit) throws.

#include <type_traits>
#include <utility>

namespace roundup::storage {

template <typename Begin, typename Commit, typename Rollback, typename Body>
auto in_transaction(Begin&& begin, Commit&& commit, Rollback&& rollback, Body&& body) -> decltype(body()) {
  begin();
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      commit();
    } else {
      auto result = body();
      commit();
      return result;
    }
  } catch (...) {
    rollback();
    throw;
  }
}

}  // namespace roundup::storage
