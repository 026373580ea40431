#include "bot/side_calls.h"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/wait.h"

using roundup::bot::SideCalls;

namespace {

// A call the test holds until it opens the gate.
struct Gate {
  roundup::testing::Signal signal;
  bool open = false;
  bool entered = false;
  void pass() {
    signal.update([&] { entered = true; });
    signal.wait_for([&] { return open; });
  }
};

}  // namespace

TEST_CASE("side calls: made in order - a failing one does not stop the next" * doctest::timeout(60)) {
  SideCalls calls("test");
  std::vector<std::string> made;  // only the calls' thread writes it before the last future is ready
  calls.post("first", [&] { made.push_back("first"); });
  calls.post("refused", [&] {
    made.push_back("refused");
    throw std::runtime_error("missing_scope");
  });
  calls.post("broken", [&] {
    made.push_back("broken");
    throw std::runtime_error("boom");
  });
  auto last = calls.post("last", [&] { made.push_back("last"); });
  REQUIRE(last.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(made == std::vector<std::string>{"first", "refused", "broken", "last"});
}

TEST_CASE("side calls: a full queue drops the call at once - its future is ready and it never runs" *
          doctest::timeout(60)) {
  SideCalls calls("test", 1);
  Gate gate;
  bool late_ran = false;
  auto held = calls.post("held", [&] { gate.pass(); });
  REQUIRE(gate.signal.wait_for([&] { return gate.entered; }));  // running: the queue is empty again
  auto queued = calls.post("queued", [] {});
  auto dropped = calls.post("dropped", [&] { late_ran = true; });
  CHECK(dropped.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(queued.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  gate.signal.update([&] { gate.open = true; });
  REQUIRE(queued.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK_FALSE(late_ran);
}

TEST_CASE("side calls: stopping leaves no future waiting - for the call in flight or the queued one" *
          doctest::timeout(60)) {
  Gate gate;
  std::shared_future<void> held;
  std::shared_future<void> queued;
  {
    SideCalls calls("test");
    held = calls.post("held", [&] { gate.pass(); });
    REQUIRE(gate.signal.wait_for([&] { return gate.entered; }));
    queued = calls.post("queued", [] {});
    gate.signal.update([&] { gate.open = true; });
  }
  CHECK(held.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(queued.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
}
