#include "bot/backoff.h"

#include <doctest/doctest.h>

#include <chrono>

using std::chrono::milliseconds;

TEST_CASE("backoff: each wait is in the upper half of a doubling step, capped, and reset by a success") {
  roundup::bot::Backoff backoff(milliseconds(100), milliseconds(1000));
  const long steps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int round = 0; round < 20; ++round) {  // the jitter is random: many draws per step
    for (const long step : steps) {
      const auto wait = backoff.next().count();
      CHECK(wait >= step / 2);
      CHECK(wait <= step);
    }
    backoff.reset();
  }
  // Callers that count failures themselves (the outbox) get the same policy.
  CHECK(backoff.delay(1).count() <= 100);
  CHECK(backoff.delay(4).count() >= 400);
  CHECK(backoff.delay(1'000'000).count() <= 1000);  // no overflow however many failures

  // A zero minimum still waits, and a maximum below the minimum is raised to it.
  roundup::bot::Backoff zero(milliseconds(0), milliseconds(0));
  CHECK(zero.next().count() == 1);
  roundup::bot::Backoff inverted(milliseconds(500), milliseconds(10));
  CHECK(inverted.next().count() >= 250);
  CHECK(inverted.next().count() <= 500);
}
