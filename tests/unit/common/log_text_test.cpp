// Text from outside made safe to log (gateway/common/log_text.hpp).
#include <string>

#include <catch2/catch.hpp>

#include "gateway/common/log_text.hpp"

using ussdpay::loggable;

TEST_CASE("text from the peer is logged as data: escaped, and cut short", "[common]") {
  CHECK(loggable("' OR 1=1 --", 64) == "' OR 1=1 --");
  CHECK(loggable("%s%n%x {} {0:>99999}", 64) == "%s%n%x {} {0:>99999}");
  CHECK(loggable("a\"b\\c", 64) == "a\\\"b\\\\c");
  // A forged log line stays on this one; NUL, DEL and ESC are shown as JSON escapes.
  CHECK(loggable("1\n2026-01-01 info admin: ok\r", 64) ==
        "1\\u000a2026-01-01 info admin: ok\\u000d");
  CHECK(loggable(std::string_view("\0\x7f\x1b[2J\t", 7), 64) == "\\u0000\\u007f\\u001b[2J\\u0009");
  // C1 controls and bidirectional overrides are escaped; other UTF-8 is kept.
  CHECK(loggable("\xc2\x9b"
                 "1\xe2\x80\xae"
                 "2\xe2\x81\xa6",
                 64) == "\\u009b1\\u202e2\\u2066");
  CHECK(loggable("\xd8\xa7\xd9\x84\xc3\xa9\xe2\x80\x94", 64) ==
        "\xd8\xa7\xd9\x84\xc3\xa9\xe2\x80\x94");
  const std::string big(100'000, 'A');
  CHECK(loggable(big, 10) == "AAAAAAAAAA...(+99990 bytes)");
  // Never cut inside a UTF-8 character.
  CHECK(loggable("abc\xd8\xb3\xd9\x84", 4) == "abc...(+4 bytes)");
  CHECK(loggable("", 10).empty());
}
