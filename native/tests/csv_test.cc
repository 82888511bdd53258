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
