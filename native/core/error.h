// Errors thrown by the core. The bindings turn them into the JS AffinityError with the same code.
#pragma once
#include <stdexcept>
#include <string>
#include <type_traits>

namespace affinity {

namespace code {
inline constexpr const char* kBadInput = "ERR_AFFINITY_BAD_INPUT";
inline constexpr const char* kDimMismatch = "ERR_AFFINITY_DIM_MISMATCH";
inline constexpr const char* kUnknownId = "ERR_AFFINITY_UNKNOWN_ID";
inline constexpr const char* kCancelled = "ERR_AFFINITY_CANCELLED";
inline constexpr const char* kOutOfMemory = "ERR_AFFINITY_OOM";
inline constexpr const char* kSimdUnavailable = "ERR_AFFINITY_SIMD_UNAVAILABLE";
inline constexpr const char* kParse = "ERR_AFFINITY_PARSE";
inline constexpr const char* kTooLarge = "ERR_AFFINITY_TOO_LARGE";
inline constexpr const char* kInternal = "ERR_AFFINITY_INTERNAL";
inline constexpr const char* kIo = "ERR_AFFINITY_IO";
}  // namespace code

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

[[noreturn]] inline void fail(const char* errorCode, const std::string& message) { throw Error(errorCode, message); }

inline void require(bool condition, const char* errorCode, const std::string& message) {
  if (!condition) fail(errorCode, message);
}
// For literal messages: no std::string is built unless the check fails (require runs in per-element loops).
inline void require(bool condition, const char* errorCode, const char* message) {
  if (!condition) [[unlikely]] fail(errorCode, message);
}
// For messages with values in per-element loops: the message is built only when the check fails.
template <class Message>
  requires std::is_invocable_r_v<std::string, Message>
inline void require(bool condition, const char* errorCode, Message&& message) {
  if (!condition) [[unlikely]] fail(errorCode, message());
}

}  // namespace affinity
