// Streaming CSV/TSV reader for interactions. Fed chunk by chunk (any split, even inside a quoted field),
// it maps string ids to dense indices as it goes and keeps only the parsed columns.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace affinity {

struct CsvColumn {
  std::string name;   // header name, or empty
  int32_t index = -1; // 0-based position, or -1 (use name); both empty/-1: column not wanted
  bool wanted() const { return index >= 0 || !name.empty(); }
};

struct CsvOptions {
  char delimiter = ',';
  bool header = true;
  bool skipInvalid = false;  // count and skip bad records instead of failing
  CsvColumn user, item, value, timestamp;
};

// String id -> dense index. Open addressing over int32 slots with the hashes kept beside the ids: the
// node-based std::unordered_map spent half of a 19M-line parse in cache misses.
class IdMap {
 public:
  int32_t intern(std::string_view id);
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  void grow();

  struct Slot {
    uint32_t tag;   // high bits of the hash: most mismatches are rejected without touching the id
    int32_t index;  // -1: empty
  };
  std::vector<Slot> slots_;  // size is a power of two, at most half full
  std::vector<uint64_t> hashes_;
  std::vector<std::string> ids_;
  int32_t lastIndex_ = -1;  // files are often grouped by user: the same id many times in a row
};

class CsvReader {
 public:
  explicit CsvReader(CsvOptions options);
  void push(std::string_view chunk);  // throws ERR_AFFINITY_PARSE with "line N: ..."
  void finish();                      // flushes a last line without a newline

  IdMap users, items;
  std::vector<int32_t> rows, cols;
  std::vector<float> values;       // empty when no value column
  std::vector<double> timestamps;  // empty when no timestamp column
  int64_t skipped = 0;

 private:
  void endField();
  void endRecord();
  void resolveColumns(const std::vector<std::string>& header);
  [[noreturn]] void error(const std::string& message) const;
  bool reject(const std::string& message);  // false when skipping, throws otherwise

  CsvOptions o_;
  enum class State { FieldStart, Unquoted, Quoted, QuoteInQuoted } state_ = State::FieldStart;
  std::vector<std::string> fields_;
  std::string field_;
  int64_t line_ = 1;        // line of the current physical position
  int64_t recordLine_ = 1;  // line where the current record started
  bool headerPending_;
  int bomMatched_ = 0;  // bytes of a leading byte order mark seen so far; 3 once past the start
  bool resolved_ = false;
  int32_t userCol_ = -1, itemCol_ = -1, valueCol_ = -1, timeCol_ = -1;
};

// Parses a timestamp: a number (seconds), ISO 8601 "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z]", or
// "M/D/YYYY H:MM" as in many spreadsheet exports. Returns false when the text is none of these.
bool parseTimestamp(std::string_view text, double& seconds);

}  // namespace affinity
