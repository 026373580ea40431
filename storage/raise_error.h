#pragma once
// How storage/ reports a failure: through a function the caller supplies, so that each user keeps
// its own exception type (the state store's StateError, the index's IndexError) and a `catch` of
// that type still sees every database failure.

#include <string>

namespace roundup::storage {

// Builds and throws the caller's exception for `message` (which carries no secrets). It must
// throw; if it returns, the wrapper throws a generic error of its own instead.
using RaiseError = void (*)(const std::string& message);

}  // namespace roundup::storage
