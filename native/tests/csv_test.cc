#include "../core/csv.h"
#include "harness.h"

using namespace affinity;

namespace {
CsvOptions options() {
  CsvOptions o;
  o.user.name = "u";
  o.item.name = "i";
  o.value.name = "v";
  return o;
}
}  // namespace

TEST(csv, any_chunk_split_gives_the_same_result) {
  const std::string text = "u,i,v\r\nalice,\"x,1\",2\nbob,\"y \"\"q\"\"\",3.5\n\nalice,z,1\n";
  CsvReader whole(options());
  whole.push(text);
  whole.finish();
  CHECK(whole.rows.size() == 3);
  CHECK(whole.items.ids()[0] == "x,1" && whole.items.ids()[1] == "y \"q\"");
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CsvReader r(options());
    r.push(std::string_view(text).substr(0, cut));
    r.push(std::string_view(text).substr(cut));
    r.finish();
    CHECK(r.rows == whole.rows && r.cols == whole.cols && r.values == whole.values);
  }
}

TEST(csv, errors_carry_line_numbers) {
  CsvReader r(options());
  bool thrown = false;
  try {
    r.push("u,i,v\na,b,1\nc,d,NaNx\n");
  } catch (const Error& e) {
    thrown = std::string(e.what()).find("line 3") != std::string::npos && e.code() == code::kParse;
  }
  CHECK(thrown);
  CsvReader missing(options());
  CHECK_THROWS_CODE(missing.push("a,b\n"), code::kParse);
  CsvReader empty(options());
  CHECK_THROWS_CODE(empty.finish(), code::kParse);
}

TEST(csv, parses_timestamps) {
  double t = 0;
  CHECK(parseTimestamp("1700000000", t) && t == 1700000000);
  CHECK(parseTimestamp("1970-01-02", t) && t == 86400);
  CHECK(parseTimestamp("2010-12-01 08:26:00", t) && t == 1291191960);
  CHECK(parseTimestamp("2010-12-01T08:26:00.5Z", t) && t == 1291191960);
  CHECK(parseTimestamp("12/1/2010 8:26", t) && t == 1291191960);
  CHECK(!parseTimestamp("yesterday", t));
  CHECK(!parseTimestamp("2010-13-01", t));
  CHECK(!parseTimestamp("", t));
}

namespace {
std::string firstError(const std::string& text, CsvOptions o = options()) {
  try {
    CsvReader r(std::move(o));
    r.push(text);
    r.finish();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(csv, a_byte_order_mark_is_not_part_of_the_header_in_any_chunk_split) {
  const std::string text = "\xEF\xBB\xBFu,i,v\nalice,x,1\n";
  for (size_t cut = 0; cut <= 4; ++cut) {
    CsvReader r(options());
    r.push(std::string_view(text).substr(0, cut));
    r.push(std::string_view(text).substr(cut));
    r.finish();
    CHECK(r.rows.size() == 1 && r.users.ids()[0] == "alice");
  }
  CsvOptions positional;  // no header: the BOM would otherwise stick to the first id
  positional.header = false;
  positional.user.index = 0;
  positional.item.index = 1;
  CsvReader r(positional);
  r.push("\xEF\xBB\xBF" "bob,y\n");
  r.finish();
  CHECK(r.users.ids()[0] == "bob");
  CsvReader data(positional);  // bytes that only start like a BOM are data: U+FF21 is EF BC A1
  data.push("\xEF");
  data.push("\xBC\xA1" "z,w\n");
  data.finish();
  CHECK(data.users.ids()[0] == "\xEF\xBC\xA1" "z");
}

TEST(csv, ids_must_be_valid_utf8_and_dates_real) {
  CHECK(firstError("u,i,v\nok,\xC3\xA9t\xC3\xA9,1\n").empty());  // "été"
  CHECK(firstError("u,i,v\nok,bad\xFF,1\n").find("line 2: the item id is not valid UTF-8") != std::string::npos);
  CHECK(firstError("u,i,v\n\xC0\xAF,x,1\n").find("user id is not valid UTF-8") != std::string::npos);  // overlong '/'
  CHECK(firstError("u,i,v\n\xED\xA0\x80,x,1\n").find("not valid UTF-8") != std::string::npos);       // a surrogate
  CHECK(firstError("u,i,v\nx\xE2\x82,x,1\n").find("not valid UTF-8") != std::string::npos);          // truncated
  double t = 0;
  CHECK(parseTimestamp("2024-02-29", t) && !parseTimestamp("2023-02-29", t) && !parseTimestamp("2024-02-31", t));
  CHECK(!parseTimestamp("2024-04-31T10:00", t) && parseTimestamp("2000-02-29 23:59:59", t) && !parseTimestamp("1900-02-29", t));
  CHECK(!parseTimestamp("12345678901234567890", t) && parseTimestamp("1700000000", t) && !parseTimestamp("1700000000000", t));
}
