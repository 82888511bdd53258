#include "csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "error.h"

namespace affinity {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parseNumber(std::string_view text, double& out) {
  text = trim(text);
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool readInt(std::string_view& s, int digitsMin, int digitsMax, int& out) {
  int n = 0, v = 0;
  while (n < static_cast<int>(s.size()) && n < digitsMax && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
  if (n < digitsMin) return false;
  s.remove_prefix(n);
  out = v;
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int daysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// A real calendar date and clock time: 2024-02-31 is refused, not rolled over to March.
bool validDate(int y, int m, int d, int hh, int mm, int ss) {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m) && hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 && ss >= 0 && ss <= 60;
}

// Seconds of 9999-12-31T23:59:59Z: a larger number is not a time in seconds (milliseconds, or garbage).
constexpr double kMaxTimestamp = 253402300799.0;

// Strict UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF): ids that are not would be replaced
// by U+FFFD in JavaScript, and two different ids could then collide.
bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
    else return false;
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

bool parseClock(std::string_view& s, int& hh, int& mm, int& ss) {
  if (!readInt(s, 1, 2, hh) || !expect(s, ':') || !readInt(s, 2, 2, mm)) return false;
  if (!s.empty() && s.front() == ':') {
    s.remove_prefix(1);
    if (!readInt(s, 2, 2, ss)) return false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') s.remove_prefix(1);
    }
  }
  return true;
}

}  // namespace

bool parseTimestamp(std::string_view text, double& seconds) {
  text = trim(text);
  if (parseNumber(text, seconds)) return std::isfinite(seconds) && std::fabs(seconds) <= kMaxTimestamp;
  int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0;
  std::string_view s = text;
  if (readInt(s, 4, 4, y) && expect(s, '-')) {
    if (!readInt(s, 2, 2, m) || !expect(s, '-') || !readInt(s, 2, 2, d)) return false;
    if (!s.empty() && (s.front() == 'T' || s.front() == ' ')) {
      s.remove_prefix(1);
      if (!parseClock(s, hh, mm, ss)) return false;
    }
    if (!s.empty() && s.front() == 'Z') s.remove_prefix(1);
  } else {
    s = text;
    if (!readInt(s, 1, 2, m) || !expect(s, '/') || !readInt(s, 1, 2, d) || !expect(s, '/') || !readInt(s, 4, 4, y)) return false;
    if (!s.empty() && s.front() == ' ') {
      s.remove_prefix(1);
      if (!parseClock(s, hh, mm, ss)) return false;
    }
  }
  if (!s.empty() || !validDate(y, m, d, hh, mm, ss)) return false;
  seconds = static_cast<double>(daysFromCivil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss);
  return true;
}

int32_t IdMap::intern(std::string_view id) {
  if (lastIndex_ >= 0 && ids_[lastIndex_] == id) return lastIndex_;
  if (ids_.size() * 2 >= slots_.size()) grow();
  const uint64_t h = std::hash<std::string_view>{}(id);
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t s = h & mask;; s = (s + 1) & mask) {
    const int32_t found = slots_[s].index;
    if (found < 0) {
      require(ids_.size() < static_cast<size_t>(INT32_MAX), code::kTooLarge, "more than 2^31-1 distinct ids");
      const int32_t next = static_cast<int32_t>(ids_.size());
      slots_[s] = Slot{tag, next};
      hashes_.push_back(h);
      ids_.emplace_back(id);
      lastIndex_ = next;
      return next;
    }
    if (slots_[s].tag == tag && ids_[found] == id) {
      lastIndex_ = found;
      return found;
    }
  }
}

void IdMap::grow() {
  std::vector<Slot> slots(std::max<size_t>(1024, slots_.size() * 2), Slot{0, -1});
  const size_t mask = slots.size() - 1;
  for (size_t i = 0; i < ids_.size(); ++i) {
    size_t s = hashes_[i] & mask;
    while (slots[s].index >= 0) s = (s + 1) & mask;
    slots[s] = Slot{static_cast<uint32_t>(hashes_[i] >> 32), static_cast<int32_t>(i)};
  }
  slots_ = std::move(slots);
}

CsvReader::CsvReader(CsvOptions options) : o_(std::move(options)), headerPending_(o_.header) {
  require(o_.delimiter != '"' && o_.delimiter != '\n' && o_.delimiter != '\r', code::kBadInput, "invalid delimiter");
  require(o_.user.wanted() && o_.item.wanted(), code::kBadInput, "the user and item columns are required");
  for (const CsvColumn* c : {&o_.user, &o_.item, &o_.value, &o_.timestamp})
    require(c->index >= 0 || c->name.empty() || o_.header, code::kBadInput,
            "column '" + c->name + "' is given by name, which needs header: true");
  if (!o_.header) resolveColumns({});
}

void CsvReader::error(const std::string& message) const { fail(code::kParse, "line " + std::to_string(recordLine_) + ": " + message); }

bool CsvReader::reject(const std::string& message) {
  if (!o_.skipInvalid) error(message);
  ++skipped;
  fields_.clear();
  return false;
}

void CsvReader::resolveColumns(const std::vector<std::string>& header) {
  auto resolve = [&](const CsvColumn& c, const char* role) -> int32_t {
    if (!c.wanted()) return -1;
    if (c.index >= 0) return c.index;
    for (size_t i = 0; i < header.size(); ++i)
      if (trim(header[i]) == c.name) return static_cast<int32_t>(i);
    error(std::string("the header has no column '") + c.name + "' (for " + role + ")");
  };
  userCol_ = resolve(o_.user, "user");
  itemCol_ = resolve(o_.item, "item");
  valueCol_ = resolve(o_.value, "value");
  timeCol_ = resolve(o_.timestamp, "timestamp");
  resolved_ = true;
}

void CsvReader::endField() {
  fields_.push_back(field_);
  field_.clear();
}

void CsvReader::endRecord() {
  endField();
  const bool blank = fields_.size() == 1 && trim(fields_[0]).empty();
  if (blank) {
    fields_.clear();
    return;
  }
  if (headerPending_) {
    headerPending_ = false;
    resolveColumns(fields_);
    fields_.clear();
    return;
  }
  const int32_t needed = std::max({userCol_, itemCol_, valueCol_, timeCol_});
  if (static_cast<int32_t>(fields_.size()) <= needed) {
    reject("expected at least " + std::to_string(needed + 1) + " fields, found " + std::to_string(fields_.size()));
    return;
  }
  std::string_view user = trim(fields_[userCol_]), item = trim(fields_[itemCol_]);
  if (user.empty()) return (void)reject("empty user id");
  if (item.empty()) return (void)reject("empty item id");
  if (!validUtf8(user)) return (void)reject("the user id is not valid UTF-8");
  if (!validUtf8(item)) return (void)reject("the item id is not valid UTF-8");
  double v = 1, t = 0;
  if (valueCol_ >= 0 && (!parseNumber(fields_[valueCol_], v) || !std::isfinite(v) || std::fabs(v) > 3.0e38))
    return (void)reject("value '" + fields_[valueCol_] + "' is not a finite number");
  if (timeCol_ >= 0 && !parseTimestamp(fields_[timeCol_], t))
    return (void)reject("timestamp '" + fields_[timeCol_] + "' is not seconds (up to year 9999) or a real date");
  if (valueCol_ >= 0) values.push_back(static_cast<float>(v));
  if (timeCol_ >= 0) timestamps.push_back(t);
  rows.push_back(users.intern(user));
  cols.push_back(items.intern(item));
  fields_.clear();
}

void CsvReader::push(std::string_view chunk) {
  // A UTF-8 byte order mark (spreadsheet exports) is not part of the first header name or id. It may
  // arrive split over chunks, so its bytes are matched one at a time.
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  while (bomMatched_ < 3 && !chunk.empty()) {
    if (chunk.front() != kBom[bomMatched_]) {
      const std::string partial(kBom.substr(0, bomMatched_));
      bomMatched_ = 3;
      if (!partial.empty()) push(partial);  // what looked like a BOM was data
      break;
    }
    chunk.remove_prefix(1);
    ++bomMatched_;
  }
  for (char ch : chunk) {
    switch (state_) {
      case State::FieldStart:
        if (ch == '"') {
          state_ = State::Quoted;
          continue;
        }
        state_ = State::Unquoted;
        [[fallthrough]];
      case State::Unquoted:
        if (ch == o_.delimiter) {
          endField();
          state_ = State::FieldStart;
        } else if (ch == '\n') {
          if (!field_.empty() && field_.back() == '\r') field_.pop_back();
          endRecord();
          state_ = State::FieldStart;
          recordLine_ = ++line_;
        } else {
          field_.push_back(ch);
        }
        break;
      case State::Quoted:
        if (ch == '"') {
          state_ = State::QuoteInQuoted;
        } else {
          if (ch == '\n') ++line_;
          field_.push_back(ch);
        }
        break;
      case State::QuoteInQuoted:
        if (ch == '"') {
          field_.push_back('"');
          state_ = State::Quoted;
        } else if (ch == o_.delimiter) {
          endField();
          state_ = State::FieldStart;
        } else if (ch == '\n' || ch == '\r') {
          if (ch == '\r') {
            state_ = State::Unquoted;  // the '\n' that follows ends the record
            field_.push_back('\r');
            break;
          }
          endRecord();
          state_ = State::FieldStart;
          recordLine_ = ++line_;
        } else {
          error("unexpected character after a closing quote");
        }
        break;
    }
  }
}

void CsvReader::finish() {
  if (bomMatched_ > 0 && bomMatched_ < 3) {  // the file was only the start of a byte order mark: data after all
    const std::string partial = std::string("\xEF\xBB\xBF").substr(0, bomMatched_);
    bomMatched_ = 3;
    push(partial);
  }
  if (state_ == State::Quoted) error("a quoted field is not closed at the end of the file");
  if (state_ != State::FieldStart || !fields_.empty()) {
    if (!field_.empty() && field_.back() == '\r') field_.pop_back();
    endRecord();
  }
  if (headerPending_) error("the file is empty: no header line");
}

}  // namespace affinity
