//===- Utf8.h - UTF-8 decoding, whole and partial -------------------------===//
//
// Grammars match code points, tokens are bytes: a token may end inside a
// multi-byte character (byte-level BPE splits rare characters, SentencePiece
// falls back to <0xXX> tokens). The matcher then keeps the bytes so far
// (PartialChar) and accepts the token if some code point those bytes can
// still become is allowed.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GRAMMAR_UTF8_H
#define FMC_RUNTIME_GRAMMAR_UTF8_H

#include <cstdint>
#include "absl/strings/string_view.h"

namespace fmc::grammar {

/// The length of a UTF-8 sequence led by `lead` (0: not a lead byte).
inline int utf8Length(uint8_t lead) {
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 0;
}

/// A code point begun but not finished: its bytes so far.
struct PartialChar {
  uint32_t value = 0; ///< The bits decoded so far.
  uint8_t have = 0;   ///< Bytes seen (0: no character in progress).
  uint8_t need = 0;   ///< Bytes of the whole sequence.

  bool active() const { return have != 0; }

  /// Adds `byte`; false if it cannot continue (or start) a valid sequence.
  /// When the character completes, `complete` is set and `value` holds it.
  bool push(uint8_t byte, bool &complete) {
    complete = false;
    if (have == 0) {
      int length = utf8Length(byte);
      if (length == 0)
        return false;
      if (length == 1) {
        value = byte;
        complete = true;
        return true;
      }
      need = static_cast<uint8_t>(length);
      have = 1;
      value = byte & (0x7F >> length);
      return true;
    }
    if ((byte & 0xC0) != 0x80)
      return false;
    // The second byte's range rules out overlong forms and surrogates.
    if (have == 1) {
      uint8_t lead = static_cast<uint8_t>(
          value | (need == 3 ? 0xE0 : need == 4 ? 0xF0 : 0xC0));
      if ((lead == 0xE0 && byte < 0xA0) || (lead == 0xED && byte > 0x9F) ||
          (lead == 0xF0 && byte < 0x90) || (lead == 0xF4 && byte > 0x8F))
        return false;
    }
    value = (value << 6) | (byte & 0x3F);
    if (++have == need) {
      complete = true;
      have = need = 0;
    }
    return true;
  }

  /// The code points the bytes so far can still become: [lo, hi].
  void range(uint32_t &lo, uint32_t &hi) const {
    int missing = need - have;
    lo = value << (6 * missing);
    hi = lo | ((1u << (6 * missing)) - 1);
    // The shortest form rules: E0 and F0 leads start above 0x7FF and
    // 0xFFFF, not at 0.
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    lo = lo < kSmallest[need] ? kSmallest[need] : lo;
    hi = hi > 0x10FFFF ? 0x10FFFF : hi;
  }
};

/// Decodes one code point from the start of `text` into `codePoint`;
/// returns its length in bytes, 0 if the bytes are not valid UTF-8.
inline size_t decodeUtf8(absl::string_view text, uint32_t &codePoint) {
  PartialChar partial;
  for (size_t i = 0; i < text.size() && i < 4; ++i) {
    bool complete;
    if (!partial.push(static_cast<uint8_t>(text[i]), complete))
      return 0;
    if (complete) {
      codePoint = partial.value;
      return i + 1;
    }
  }
  return 0;
}

} // namespace fmc::grammar

#endif // FMC_RUNTIME_GRAMMAR_UTF8_H
