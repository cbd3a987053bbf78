//===- Tokenizer.cpp - SentencePiece BPE and byte-level BPE ---------------===//

#include "runtime/Tokenizer.h"

#include "runtime/PreTokenizer.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <queue>
#include <vector>

namespace fmc {

namespace {

/// Length of the UTF-8 sequence starting with byte `c`, by its high nibble
/// as llama.cpp's unicode_len_utf8 (1 for a continuation byte).
size_t utf8Length(unsigned char c) {
  static constexpr size_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                          1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[c >> 4];
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
// SentencePiece-style BPE (llama.cpp's llm_tokenizer_spm)
//===----------------------------------------------------------------------===//

class SentencePiece final : public Tokenizer {
public:
  explicit SentencePiece(const schema::Tokenizer &t)
      : Tokenizer(t), spaceMarker(t.space_marker()->string_view()),
        dummyPrefix(t.add_dummy_prefix()) {
    scores.assign(t.scores()->begin(), t.scores()->end());
    for (int32_t id = 0; id < size(); ++id) {
      int byte = byteToken(tokens_[id]);
      if (byte >= 0 && byteIds[byte] < 0)
        byteIds[byte] = id;
      if (unknown < 0 && id < static_cast<int32_t>(types_.size()) &&
          types_[id] == kUnknown)
        unknown = id;
    }
    // Without byte-fallback tokens, a byte is the token of that one byte,
    // else the unknown token (llama.cpp's byte_to_token).
    for (int b = 0; b < 256; ++b)
      if (byteIds[b] < 0)
        byteIds[b] = idOf(std::string(1, static_cast<char>(b)));
    if (unknown < 0)
      unknown = 0;
  }

  void encodeText(std::string_view text, bool afterSpecial,
                  std::vector<int32_t> &out) const override {
    std::string normalized;
    if (dummyPrefix && afterSpecial)
      normalized += spaceMarker;
    for (char c : text) {
      if (c == ' ')
        normalized += spaceMarker;
      else
        normalized += c;
    }
    // Symbols are spans of `normalized`, one per UTF-8 character; the
    // adjacent pair whose union is the best-scoring token merges first (the
    // leftmost among equals), until no union is a token.
    struct Symbol {
      int32_t prev, next;
      size_t offset, length;
    };
    std::vector<Symbol> symbols;
    for (size_t pos = 0; pos < normalized.size();) {
      size_t n = std::min(utf8Length(normalized[pos]), normalized.size() - pos);
      int32_t index = static_cast<int32_t>(symbols.size());
      symbols.push_back({index - 1, pos + n == normalized.size() ? -1 : index + 1,
                         pos, n});
      pos += n;
    }
    struct Bigram {
      float score;
      int32_t left, right;
      size_t length;
    };
    auto worse = [](const Bigram &a, const Bigram &b) {
      return a.score != b.score ? a.score < b.score : a.left > b.left;
    };
    std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(
        worse);
    std::string_view all(normalized);
    auto consider = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0)
        return;
      size_t length = symbols[left].length + symbols[right].length;
      int32_t id = idOf(all.substr(symbols[left].offset, length));
      if (id >= 0)
        queue.push({scores[id], left, right, length});
    };
    for (size_t i = 1; i < symbols.size(); ++i)
      consider(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
    while (!queue.empty()) {
      Bigram bigram = queue.top();
      queue.pop();
      Symbol &left = symbols[bigram.left], &right = symbols[bigram.right];
      if (left.length == 0 || right.length == 0 ||
          left.length + right.length != bigram.length)
        continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0)
        symbols[right.next].prev = bigram.left;
      consider(left.prev, bigram.left);
      consider(bigram.left, left.next);
    }
    for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
      std::string_view piece = all.substr(symbols[i].offset, symbols[i].length);
      int32_t id = idOf(piece);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (unsigned char byte : piece)
        out.push_back(byteIds[byte] >= 0 ? byteIds[byte] : unknown);
    }
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
  int32_t unknown = -1;
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
// Byte-level BPE (llama.cpp's llm_tokenizer_bpe)
//===----------------------------------------------------------------------===//

/// GPT-2's reversible map from bytes to printable code points.
struct ByteMap {
  std::string toText[256];
  absl::flat_hash_map<uint32_t, uint8_t> toByte;
  ByteMap() {
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable =
          (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      uint32_t cp = printable ? b : next++;
      appendUtf8(toText[b], cp);
      toByte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteMap &byteMap() {
  static const ByteMap *map = new ByteMap();
  return *map;
}

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81"; // U+2581

class ByteLevelBpe final : public Tokenizer {
public:
  ByteLevelBpe(const schema::Tokenizer &t,
               std::unique_ptr<PreTokenizer> preTokenizer)
      : Tokenizer(t), pre(std::move(preTokenizer)),
        ignoreMerges(t.ignore_merges()),
        // Gemma 4 merges raw UTF-8 with U+2581 for spaces (llama.cpp's
        // byte_encode = false, escape_whitespaces = true).
        byteEncode(t.pre_tokenizer() != schema::PreTokenizer::Gemma4) {
    if (t.merge_left())
      for (uint32_t i = 0; i < t.merge_left()->size(); ++i)
        merges.try_emplace(
            key(t.merge_left()->Get(i), t.merge_right()->Get(i)),
            Merge{static_cast<int32_t>(i), t.merge_result()->Get(i)});
  }

  void encodeText(std::string_view text, bool,
                  std::vector<int32_t> &out) const override {
    std::string escaped;
    if (!byteEncode) {
      for (char c : text) {
        if (c == ' ')
          escaped += kSpaceMarker;
        else
          escaped += c;
      }
      text = escaped;
    }
    std::string clean = sanitizeUtf8(text);
    std::vector<int32_t> symbols;
    std::vector<std::string_view> unknown; // Text of symbols that are no token.
    std::string word;
    for (std::string_view piece : pre->split(clean)) {
      word.clear();
      if (byteEncode)
        for (unsigned char b : piece)
          word += byteMap().toText[b];
      else
        word.assign(piece);
      std::string_view w(word);
      if (ignoreMerges) {
        if (int32_t id = idOf(w); id >= 0) {
          out.push_back(id);
          continue;
        }
      }
      if (!byteEncode && w.find_first_not_of('\n') == std::string_view::npos) {
        // A run of newlines that is a token stays whole (llama.cpp, Gemma 4).
        if (int32_t id = idOf(w); id >= 0) {
          out.push_back(id);
          continue;
        }
      }
      // One symbol per character; a character that is no token never
      // merges and falls back to bytes at the end.
      symbols.clear();
      unknown.clear();
      for (size_t pos = 0; pos < w.size();) {
        size_t n = std::min(utf8Length(w[pos]), w.size() - pos);
        int32_t id = idOf(w.substr(pos, n));
        if (id < 0) {
          id = -1 - static_cast<int32_t>(unknown.size());
          unknown.push_back(w.substr(pos, n));
        }
        symbols.push_back(id);
        pos += n;
      }
      // Apply the lowest-ranked merge present until none applies.
      mergeSymbols(symbols, [&](int32_t left,
                                int32_t right) -> std::optional<PairMerge> {
        if (left < 0 || right < 0)
          return std::nullopt;
        auto it = merges.find(key(left, right));
        if (it == merges.end())
          return std::nullopt;
        return PairMerge{static_cast<double>(it->second.rank),
                         it->second.result};
      });
      for (int32_t id : symbols) {
        if (id >= 0) {
          out.push_back(id);
          continue;
        }
        for (unsigned char b : unknown[-1 - id]) {
          int32_t byteId =
              byteEncode ? idOf(std::string(1, static_cast<char>(b)))
                         : idOf(absl::StrFormat("<0x%02X>", b));
          if (byteId >= 0)
            out.push_back(byteId);
        }
      }
    }
  }

  std::string decode(int32_t, int32_t token) const override {
    if (token < 0 || token >= size() || isControl(token))
      return "";
    std::string_view piece = tokens_[token];
    std::string text;
    if (!byteEncode) {
      int byte = byteToken(piece);
      if (byte >= 0)
        return std::string(1, static_cast<char>(byte));
      for (size_t pos = 0; pos < piece.size();) {
        if (piece.substr(pos, kSpaceMarker.size()) == kSpaceMarker) {
          text += ' ';
          pos += kSpaceMarker.size();
        } else {
          text += piece[pos++];
        }
      }
      return text;
    }
    if (token < static_cast<int32_t>(types_.size()) &&
        types_[token] == kUserDefined)
      return std::string(piece); // Added tokens are stored as plain text.
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
  std::unique_ptr<PreTokenizer> pre;
  bool ignoreMerges, byteEncode;
  absl::flat_hash_map<uint64_t, Merge> merges;
};

} // namespace

Tokenizer::Tokenizer(const schema::Tokenizer &t)
    : bos_(t.bos_id()), eos_(t.eos_id()), addBos_(t.add_bos()),
      addEos_(t.add_eos()) {
  if (t.token_types())
    types_.assign(t.token_types()->begin(), t.token_types()->end());
  tokens_.reserve(t.tokens()->size());
  for (const flatbuffers::String *token : *t.tokens())
    tokens_.push_back(token->string_view());
  for (int32_t id = 0; id < size(); ++id)
    ids_.try_emplace(tokens_[id], id);
  for (int32_t id = 0; id < static_cast<int32_t>(types_.size()) && id < size();
       ++id)
    if ((types_[id] == kControl || types_[id] == kUserDefined ||
         types_[id] == kUnknown) &&
        !tokens_[id].empty())
      specials_.push_back(id);
  std::stable_sort(specials_.begin(), specials_.end(),
                   [&](int32_t a, int32_t b) {
                     return tokens_[a].size() > tokens_[b].size();
                   });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text,
                                       bool parseSpecial) const {
  std::vector<PromptPiece> pieces;
  if (!text.empty())
    pieces.push_back({std::string(text), parseSpecial});
  return encode(pieces);
}

std::vector<int32_t>
Tokenizer::encode(const std::vector<PromptPiece> &pieces) const {
  // Split the text at special tokens' text, longest token first, as
  // llama.cpp's tokenizer_st_partition: a fragment is a token (id >= 0) or
  // text still to encode, whose control tokens' text counts only when
  // `parseSpecial`.
  struct Fragment {
    int32_t id;
    std::string_view text;
    bool parseSpecial;
  };
  std::vector<Fragment> fragments, next;
  for (const PromptPiece &piece : pieces)
    if (piece.token >= 0)
      fragments.push_back({piece.token, {}, false});
    else if (!piece.text.empty())
      fragments.push_back({-1, piece.text, piece.parseSpecial});
  for (int32_t special : specials_) {
    bool control = types_[special] != kUserDefined;
    std::string_view spelled = tokens_[special];
    next.clear();
    for (const Fragment &fragment : fragments) {
      if (fragment.id >= 0 || (control && !fragment.parseSpecial)) {
        next.push_back(fragment);
        continue;
      }
      std::string_view rest = fragment.text;
      for (size_t at; (at = rest.find(spelled)) != std::string_view::npos;) {
        if (at > 0)
          next.push_back({-1, rest.substr(0, at), fragment.parseSpecial});
        next.push_back({special, spelled, false});
        rest.remove_prefix(at + spelled.size());
      }
      if (!rest.empty())
        next.push_back({-1, rest, fragment.parseSpecial});
    }
    fragments.swap(next);
  }
  // Adjacent texts (of different pieces) are encoded as one.
  std::vector<int32_t> out;
  bool afterSpecial = true;
  std::string joined;
  for (size_t i = 0; i < fragments.size();) {
    if (fragments[i].id >= 0) {
      out.push_back(fragments[i++].id);
      afterSpecial = true;
      continue;
    }
    size_t end = i + 1;
    while (end < fragments.size() && fragments[end].id < 0)
      ++end;
    if (end == i + 1) {
      encodeText(fragments[i].text, afterSpecial, out);
    } else {
      joined.clear();
      for (size_t k = i; k < end; ++k)
        joined.append(fragments[k].text);
      encodeText(joined, afterSpecial, out);
    }
    afterSpecial = false;
    i = end;
  }
  return out;
}

std::vector<int32_t> Tokenizer::encodePrompt(std::string_view text,
                                             bool addSpecial,
                                             bool parseSpecial) const {
  std::vector<int32_t> out;
  if (addSpecial && addBos_ && bos_ >= 0)
    out.push_back(bos_);
  std::vector<int32_t> ids = encode(text, parseSpecial);
  out.insert(out.end(), ids.begin(), ids.end());
  if (addSpecial && addEos_ && eos_ >= 0)
    out.push_back(eos_);
  return out;
}

std::string Tokenizer::textBytes(int32_t token) const {
  if (token < 0 || token >= size() || isControl(token) ||
      (token < static_cast<int32_t>(types_.size()) &&
       types_[token] == kUnknown))
    return "";
  // Following itself (not BOS): no SentencePiece dummy-prefix removal.
  return decode(token, token);
}

std::string Tokenizer::pieceText(int32_t token) const {
  if (token < 0 || token >= size())
    return "";
  if (isControl(token))
    return std::string(tokens_[token]);
  return decode(token, token);
}

absl::StatusOr<std::unique_ptr<Tokenizer>>
Tokenizer::create(const schema::Tokenizer &t) {
  switch (t.kind()) {
  case schema::TokenizerKind::SentencePiece:
    return std::unique_ptr<Tokenizer>(new SentencePiece(t));
  case schema::TokenizerKind::ByteLevelBPE: {
    absl::StatusOr<std::unique_ptr<PreTokenizer>> pre =
        PreTokenizer::create(t.pre_tokenizer());
    if (!pre.ok())
      return pre.status();
    return std::unique_ptr<Tokenizer>(new ByteLevelBpe(t, std::move(*pre)));
  }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown tokenizer kind ", static_cast<int>(t.kind())));
}

} // namespace fmc
