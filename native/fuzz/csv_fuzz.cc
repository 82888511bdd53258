// libFuzzer target: the streaming CSV reader, fed in chunks of every size, under every option set. Any
// input must either parse into consistent indices or raise an affinity::Error; crashes, sanitizer
// reports and broken invariants (__builtin_trap) are findings.
#include <cstdint>
#include <string_view>

#include "../core/csv.h"
#include "../core/error.h"

using namespace affinity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the options, byte 1 the chunk size; the rest is the file.
  const uint8_t flags = data[0];
  const size_t chunk = 1 + data[1];
  CsvOptions o;
  o.header = flags & 1;
  o.skipInvalid = flags & 2;
  o.delimiter = flags & 4 ? '\t' : flags & 32 ? ';' : ',';
  if (o.header) {
    o.user.name = "u", o.item.name = "i";
    if (flags & 8) o.value.name = "v";
    if (flags & 16) o.timestamp.name = "t";
  } else {
    o.user.index = 0, o.item.index = 1;
    if (flags & 8) o.value.index = 2;
    if (flags & 16) o.timestamp.index = flags & 8 ? 3 : 2;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  try {
    CsvReader r(o);
    for (size_t at = 0; at < text.size(); at += chunk) r.push(text.substr(at, chunk));
    r.finish();
    const size_t n = r.rows.size();
    if (r.cols.size() != n || (o.value.wanted() && r.values.size() != n) || (o.timestamp.wanted() && r.timestamps.size() != n)) __builtin_trap();
    for (size_t k = 0; k < n; ++k)
      if (r.rows[k] < 0 || static_cast<size_t>(r.rows[k]) >= r.users.ids().size() || r.cols[k] < 0 ||
          static_cast<size_t>(r.cols[k]) >= r.items.ids().size())
        __builtin_trap();
    for (const auto& id : r.users.ids())
      if (id.empty()) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
