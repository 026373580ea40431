#pragma once
// Content hashes: SHA-256 for file fingerprints, 64-bit FNV-1a for stable ids and feature hashing.

#include <cstdint>
#include <string>
#include <string_view>

namespace roundup::retrieval {

std::string sha256_hex(std::string_view data);

constexpr std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL) {
  std::uint64_t h = seed;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace roundup::retrieval
