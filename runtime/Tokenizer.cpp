//===- Tokenizer.cpp - SentencePiece BPE and byte-level BPE ---------------===//

#include "runtime/Tokenizer.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <limits>
#include <optional>
#include <queue>
#include <vector>

namespace fmc {

namespace {

/// Length of the UTF-8 sequence starting with byte `c` (1 for stray bytes).
size_t utf8Length(unsigned char c) {
  if (c >= 0xf0 && c < 0xf8)
    return 4;
  if (c >= 0xe0)
    return c < 0xf0 ? 3 : 1;
  if (c >= 0xc0)
    return 2;
  return 1;
}

/// Decodes the code point at text[pos] (U+FFFD for malformed input).
uint32_t codePoint(std::string_view text, size_t pos, size_t *length) {
  unsigned char c = text[pos];
  size_t n = utf8Length(c);
  if (pos + n > text.size())
    n = 1;
  *length = n;
  if (n == 1)
    return c < 0x80 ? c : 0xfffd;
  uint32_t cp = c & (0xff >> (n + 1));
  for (size_t i = 1; i < n; ++i) {
    unsigned char cc = text[pos + i];
    if ((cc & 0xc0) != 0x80) {
      *length = 1;
      return 0xfffd;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  return cp;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/// "<0x41>" -> 0x41; -1 for any other token.
int byteToken(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>')
    return -1;
  int value = 0;
  for (char c : token.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9')
      value |= c - '0';
    else if (c >= 'A' && c <= 'F')
      value |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      value |= c - 'a' + 10;
    else
      return -1;
  }
  return value;
}

/// A pair of adjacent symbols that merges: its priority (lower merges
/// first) and the symbol it becomes.
struct PairMerge {
  double priority;
  int32_t merged;
};

/// Merges adjacent symbols, best pair first (the leftmost among equals),
/// until no pair merges; `merge(left, right)` says whether and how a pair
/// merges. Candidates wait in a heap over a linked list of the symbols and
/// are dropped when either side has changed, as in SentencePiece and
/// llama.cpp: O(n log n) where rescanning every pair for every merge was
/// quadratic (a 30 KB prompt took seconds before its length was checked).
template <typename MergeFn>
void mergeSymbols(std::vector<int32_t> &symbols, MergeFn merge) {
  struct Candidate {
    double priority;
    int32_t left, right; // Symbol positions.
    int32_t leftId, rightId, merged;
  };
  auto worse = [](const Candidate &a, const Candidate &b) {
    return a.priority != b.priority ? a.priority > b.priority : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(
      worse);
  int32_t n = static_cast<int32_t>(symbols.size());
  std::vector<int32_t> prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0)
      return;
    if (std::optional<PairMerge> m = merge(symbols[left], symbols[right]))
      heap.push({m->priority, left, right, symbols[left], symbols[right],
                 m->merged});
  };
  for (int32_t i = 0; i + 1 < n; ++i)
    consider(i, i + 1);
  std::vector<bool> gone(n, false);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    if (gone[c.left] || gone[c.right] || next[c.left] != c.right ||
        symbols[c.left] != c.leftId || symbols[c.right] != c.rightId)
      continue;
    symbols[c.left] = c.merged;
    gone[c.right] = true;
    next[c.left] = next[c.right];
    if (next[c.left] >= 0)
      prev[next[c.left]] = c.left;
    consider(prev[c.left], c.left);
    consider(c.left, next[c.left]);
  }
  size_t w = 0;
  for (int32_t i = 0; i < n; ++i)
    if (!gone[i])
      symbols[w++] = symbols[i];
  symbols.resize(w);
}

//===----------------------------------------------------------------------===//
// SentencePiece-style BPE (llama2.c's algorithm)
//===----------------------------------------------------------------------===//

class SentencePiece final : public Tokenizer {
public:
  explicit SentencePiece(const schema::Tokenizer &t)
      : Tokenizer(t), spaceMarker(t.space_marker()->string_view()),
        dummyPrefix(t.add_dummy_prefix()) {
    scores.assign(t.scores()->begin(), t.scores()->end());
    for (int32_t id = 0; id < size(); ++id) {
      ids.try_emplace(tokens_[id], id);
      int byte = byteToken(tokens_[id]);
      if (byte >= 0 && byteIds[byte] < 0)
        byteIds[byte] = id;
    }
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> out;
    if (text.empty())
      return out;
    std::string normalized;
    if (dummyPrefix)
      normalized += spaceMarker;
    for (char c : text) {
      if (c == ' ')
        normalized += spaceMarker;
      else
        normalized += c;
    }
    // Code points first, bytes where a code point is not a token.
    for (size_t pos = 0; pos < normalized.size();) {
      size_t n = std::min(utf8Length(normalized[pos]), normalized.size() - pos);
      auto it = ids.find(std::string_view(normalized).substr(pos, n));
      if (it != ids.end()) {
        out.push_back(it->second);
      } else {
        for (size_t i = 0; i < n; ++i) {
          int32_t id = byteIds[static_cast<unsigned char>(normalized[pos + i])];
          out.push_back(id >= 0 ? id : 0);
        }
      }
      pos += n;
    }
    // Merge the adjacent pair whose union scores best until none is a token.
    std::string pair;
    mergeSymbols(out, [&](int32_t left,
                          int32_t right) -> std::optional<PairMerge> {
      pair.assign(tokens_[left]);
      pair.append(tokens_[right]);
      auto it = ids.find(pair);
      if (it == ids.end())
        return std::nullopt;
      return PairMerge{-static_cast<double>(scores[it->second]), it->second};
    });
    return out;
  }

  std::string decode(int32_t previous, int32_t token) const override {
    if (token < 0 || token >= size() || isControl(token))
      return "";
    std::string_view piece = tokens_[token];
    int byte = byteToken(piece);
    if (byte >= 0)
      return std::string(1, static_cast<char>(byte));
    std::string text;
    for (size_t pos = 0; pos < piece.size();) {
      if (piece.substr(pos, spaceMarker.size()) == spaceMarker) {
        text += ' ';
        pos += spaceMarker.size();
      } else {
        text += piece[pos++];
      }
    }
    if (dummyPrefix && (previous == bos_ || previous < 0) && !text.empty() &&
        text[0] == ' ')
      text.erase(0, 1);
    return text;
  }

private:
  std::string_view spaceMarker;
  bool dummyPrefix;
  std::vector<float> scores;
  absl::flat_hash_map<std::string_view, int32_t> ids;
  int32_t byteIds[256] = {
#define FMC_M1_8 -1, -1, -1, -1, -1, -1, -1, -1
#define FMC_M1_64                                                              \
  FMC_M1_8, FMC_M1_8, FMC_M1_8, FMC_M1_8, FMC_M1_8, FMC_M1_8, FMC_M1_8, FMC_M1_8
      FMC_M1_64, FMC_M1_64, FMC_M1_64, FMC_M1_64
#undef FMC_M1_64
#undef FMC_M1_8
  };
};

//===----------------------------------------------------------------------===//
// Byte-level BPE (GPT-2)
//===----------------------------------------------------------------------===//

/// GPT-2's reversible map from bytes to printable code points.
struct ByteMap {
  uint32_t toCodePoint[256];
  absl::flat_hash_map<uint32_t, uint8_t> toByte;
  ByteMap() {
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable =
          (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      toCodePoint[b] = printable ? b : next++;
      toByte[toCodePoint[b]] = static_cast<uint8_t>(b);
    }
  }
};

const ByteMap &byteMap() {
  static const ByteMap *map = new ByteMap();
  return *map;
}

class ByteLevelBpe final : public Tokenizer {
public:
  explicit ByteLevelBpe(const schema::Tokenizer &t) : Tokenizer(t) {
    for (int32_t id = 0; id < size(); ++id)
      ids.try_emplace(tokens_[id], id);
    if (t.merge_left())
      for (uint32_t i = 0; i < t.merge_left()->size(); ++i)
        merges.try_emplace(
            key(t.merge_left()->Get(i), t.merge_right()->Get(i)),
            Merge{static_cast<int32_t>(i), t.merge_result()->Get(i)});
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> out;
    std::vector<int32_t> symbols;
    std::string mapped;
    for (std::string_view piece : splitGpt2(text)) {
      symbols.clear();
      for (unsigned char b : piece) {
        mapped.clear();
        appendUtf8(mapped, byteMap().toCodePoint[b]);
        auto it = ids.find(mapped);
        if (it != ids.end())
          symbols.push_back(it->second);
      }
      // Apply the lowest-ranked merge present until none applies.
      mergeSymbols(symbols, [&](int32_t left,
                                int32_t right) -> std::optional<PairMerge> {
        auto it = merges.find(key(left, right));
        if (it == merges.end())
          return std::nullopt;
        return PairMerge{static_cast<double>(it->second.rank),
                         it->second.result};
      });
      out.insert(out.end(), symbols.begin(), symbols.end());
    }
    return out;
  }

  std::string decode(int32_t, int32_t token) const override {
    if (token < 0 || token >= size() || isControl(token))
      return "";
    std::string_view piece = tokens_[token];
    std::string text;
    for (size_t pos = 0; pos < piece.size();) {
      size_t n;
      uint32_t cp = codePoint(piece, pos, &n);
      auto it = byteMap().toByte.find(cp);
      if (it != byteMap().toByte.end())
        text += static_cast<char>(it->second);
      else
        text.append(piece.substr(pos, n));
      pos += n;
    }
    return text;
  }

private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  absl::flat_hash_map<std::string_view, int32_t> ids;
  absl::flat_hash_map<uint64_t, Merge> merges;
};

//===----------------------------------------------------------------------===//
// The GPT-2 pre-tokenizer
//===----------------------------------------------------------------------===//

enum class CharClass { Letter, Number, Space, Other };

CharClass classify(uint32_t cp) {
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
    return CharClass::Letter;
  if (cp >= '0' && cp <= '9')
    return CharClass::Number;
  if (cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85 || cp == 0xa0 ||
      cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
    return CharClass::Space;
  if (cp < 0x80 || (cp >= 0xa1 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 ||
      (cp >= 0x2010 && cp <= 0x205e) || (cp >= 0x3001 && cp <= 0x3003) ||
      (cp >= 0xff01 && cp <= 0xff0f))
    return CharClass::Other;
  // Approximation: other non-ASCII code points are treated as letters
  // (\p{L}), which holds for the scripts vocabularies are built from.
  return CharClass::Letter;
}

} // namespace

std::vector<std::string_view> splitGpt2(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t pos = 0;
  auto classAt = [&](size_t at, size_t *len) {
    return classify(codePoint(text, at, len));
  };
  auto runOf = [&](size_t at, CharClass cls) {
    size_t len;
    while (at < text.size() && classAt(at, &len) == cls)
      at += len;
    return at;
  };
  while (pos < text.size()) {
    size_t len;
    // Contractions: 's 't 're 've 'm 'll 'd.
    if (text[pos] == '\'') {
      bool matched = false;
      for (std::string_view c : {"s", "t", "re", "ve", "m", "ll", "d"}) {
        if (text.substr(pos + 1, c.size()) == c) {
          pieces.push_back(text.substr(pos, 1 + c.size()));
          pos += 1 + c.size();
          matched = true;
          break;
        }
      }
      if (matched)
        continue;
    }
    CharClass cls = classAt(pos, &len);
    size_t start = pos;
    if (cls == CharClass::Space) {
      // " ?X+" takes one leading space.
      size_t nextLen;
      if (text[pos] == ' ' && pos + 1 < text.size() &&
          classAt(pos + 1, &nextLen) != CharClass::Space) {
        CharClass next = classAt(pos + 1, &nextLen);
        size_t end = runOf(pos + 1, next);
        pieces.push_back(text.substr(start, end - start));
        pos = end;
        continue;
      }
      // "\s+(?!\S)": a whitespace run leaves its last character to the
      // word that follows it.
      size_t end = runOf(pos, CharClass::Space);
      if (end < text.size()) {
        size_t last = end, lastLen = 0;
        for (size_t at = pos; at < end; at += lastLen) {
          classAt(at, &lastLen);
          last = at;
        }
        if (last > pos)
          end = last;
      }
      pieces.push_back(text.substr(start, end - start));
      pos = end;
      continue;
    }
    size_t end = runOf(pos, cls);
    pieces.push_back(text.substr(start, end - start));
    pos = end;
  }
  return pieces;
}

Tokenizer::Tokenizer(const schema::Tokenizer &t)
    : bos_(t.bos_id()), eos_(t.eos_id()), addBos_(t.add_bos()) {
  if (t.token_types())
    types_.assign(t.token_types()->begin(), t.token_types()->end());
  tokens_.reserve(t.tokens()->size());
  for (const flatbuffers::String *token : *t.tokens())
    tokens_.push_back(token->string_view());
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::create(const schema::Tokenizer &t) {
  switch (t.kind()) {
  case schema::TokenizerKind::SentencePiece:
    return std::unique_ptr<Tokenizer>(new SentencePiece(t));
  case schema::TokenizerKind::ByteLevelBPE:
    return std::unique_ptr<Tokenizer>(new ByteLevelBpe(t));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown tokenizer kind ", static_cast<int>(t.kind())));
}

} // namespace fmc
