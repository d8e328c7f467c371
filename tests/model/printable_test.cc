#include "model/printable.h"

#include <catch2/catch.hpp>

#include "model/diagnostic.h"

namespace printable_test {

TEST_CASE("printable: controls, C1, bidi overrides and broken UTF-8 are escaped", "[printable]") {
  CHECK(model::printable("plain Ünïcödé 日本") == "plain Ünïcödé 日本");
  CHECK(model::printable("clear\x1b[2J\nnext\tcol\r") == "clear\\u001b[2J\\nnext\\tcol\\r");
  CHECK(model::printable(std::string("nul\0end", 7)) == "nul\\u0000end");
  CHECK(model::printable("del\x7f") == "del\\u007f");
  // U+009B (CSI as a C1 control) encoded in UTF-8, and the same byte alone.
  CHECK(model::printable("c1\xc2\x9b") == "c1\\u009b");
  CHECK(model::printable("raw\x9b") == "raw\\x9b");
  CHECK(model::printable("admin\xe2\x80\xae" "txt") == "admin\\u202etxt");
  CHECK(model::printable("line\xe2\x80\xa8sep") == "line\\u2028sep");
  // Overlong and surrogate encodings are not UTF-8.
  CHECK(model::printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(model::printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(model::printable("cut\xe6\x97") == "cut\\xe6\\x97");
}

TEST_CASE("printable: what a name may contain", "[printable]") {
  CHECK_FALSE(model::check_plain_text("Riverside Commons – Ünïcödé"));
  CHECK(model::check_plain_text("a\x1b[2J") == "contains a control character (U+001B)");
  CHECK(model::check_plain_text("two\nlines") == "contains a line break (U+000A)");
  CHECK(model::check_plain_text("a\xe2\x80\xa9") == "contains a line break (U+2029)");
  CHECK(model::check_plain_text("x\xe2\x81\xa6") == "contains a bidirectional override (U+2066)");
  CHECK(model::check_plain_text("bad\xff") == "is not valid UTF-8 (byte 0xFF at offset 3)");
  CHECK_FALSE(model::check_plain_text("two\nlines\tindented", true));
  CHECK(model::check_plain_text("bell\x07", true) == "contains a control character (U+0007)");
  CHECK(model::check_plain_text("cr\r\n", true) == "contains a line break (U+000D)");
}

TEST_CASE("printable: code points count characters, not bytes", "[printable]") {
  CHECK(model::code_points("") == 0);
  CHECK(model::code_points("abc") == 3);
  CHECK(model::code_points("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80") == 3);
  CHECK(model::code_points("\xff\xfe") == 2);
}

TEST_CASE("printable: a diagnostic never prints the input raw", "[printable]") {
  model::Diagnostic diagnostic{{"table users row x\x1b]0;t\x07 column name"}, "unknown user \"\x1b[2J\""};
  CHECK(diagnostic.to_string() == "table users row x\\u001b]0;t\\u0007 column name: unknown user \"\\u001b[2J\"");
}

}  // namespace printable_test
