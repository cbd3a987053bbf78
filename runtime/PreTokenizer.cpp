//===- PreTokenizer.cpp - llama.cpp's pre-tokenizer regexes with PCRE2 ----===//

#include "runtime/PreTokenizer.h"

#include "absl/strings/str_cat.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace fmc {

namespace {

// The regexes as llama.cpp writes them (its "adapted" forms: (?i:...)
// spelled out as case classes). Non-ASCII classes are written as \x{...}
// code points so that no editor or normalization can change them.
constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr std::string_view kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen35 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek's cased letters (Unicode LC), CJK and punctuation classes.
constexpr std::string_view kDeepseekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF})"
    R"(\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D})"
    R"(\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5})"
    R"(\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5})"
    R"(\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF})"
    R"(\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15})"
    R"(\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57})"
    R"(\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC})"
    R"(\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB})"
    R"(\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})"
    R"(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128})"
    R"(\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149})"
    R"(\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE})"
    R"(\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06})"
    R"(\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F})"
    R"(\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})"
    R"(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr std::string_view kDeepseekPunctuation =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
constexpr std::string_view kDeepseekCjk =
    R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

struct Pcre2Deleter {
  void operator()(pcre2_code *code) const { pcre2_code_free(code); }
  void operator()(pcre2_match_data *data) const {
    pcre2_match_data_free(data);
  }
};

/// Decodes one code point as llama.cpp's unicode_cpt_from_utf8 does; false
/// for a malformed sequence (then one byte is skipped).
bool decodeUtf8(std::string_view text, size_t pos, uint32_t *cp,
                size_t *length) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(pos);
  auto continuation = [&](size_t n) {
    if (pos + n > text.size())
      return false;
    for (size_t i = 1; i < n; ++i)
      if ((byte(pos + i) & 0xc0) != 0x80)
        return false;
    return true;
  };
  if (c < 0x80) {
    *cp = c;
    *length = 1;
    return true;
  }
  size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                  : (c & 0xf8) == 0xf0   ? 4
                                                         : 0;
  if (n == 0 || !continuation(n))
    return false;
  uint32_t value = c & (0x7f >> n);
  for (size_t i = 1; i < n; ++i)
    value = (value << 6) | (byte(pos + i) & 0x3f);
  *cp = value;
  *length = n;
  return true;
}


} // namespace

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

std::string sanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp;
    size_t length;
    if (!decodeUtf8(text, pos, &cp, &length)) {
      cp = 0xfffd;
      length = 1;
    }
    // llama.cpp re-encodes what it decoded (an overlong form shrinks); a
    // surrogate or a value past U+10FFFF, which PCRE2 rejects, becomes
    // U+FFFD as well.
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      cp = 0xfffd;
    appendUtf8(out, cp);
    pos += length;
  }
  return out;
}

struct PreTokenizer::Compiled {
  std::unique_ptr<pcre2_code, Pcre2Deleter> code;
};

std::vector<std::string_view>
PreTokenizer::regexes(schema::PreTokenizer type) {
  switch (type) {
  case schema::PreTokenizer::Gpt2:
    return {kGpt2};
  case schema::PreTokenizer::Llama3:
    return {kLlama3};
  case schema::PreTokenizer::Qwen2:
    return {kQwen2};
  case schema::PreTokenizer::Qwen35:
    return {kQwen35};
  case schema::PreTokenizer::DeepseekLlm:
    return {"[\r\n]", kDeepseekLetters, kDeepseekPunctuation, R"(\s+$)",
            kDeepseekCjk, R"(\p{N}+)"};
  case schema::PreTokenizer::DeepseekCoder:
    return {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kDeepseekCjk,
            R"(\p{N})"};
  case schema::PreTokenizer::Falcon:
    return {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"};
  case schema::PreTokenizer::Starcoder:
    return {R"(\p{N})", kGpt2};
  case schema::PreTokenizer::Default:
    return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
  case schema::PreTokenizer::Gemma4:
    return {R"([^\n]+|[\n]+)"};
  }
  return {};
}

absl::StatusOr<std::unique_ptr<PreTokenizer>>
PreTokenizer::create(schema::PreTokenizer type) {
  std::vector<std::string_view> patterns = regexes(type);
  if (patterns.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("unknown pre-tokenizer ", static_cast<int>(type)));
  std::unique_ptr<PreTokenizer> result(new PreTokenizer());
  for (std::string_view pattern : patterns) {
    int error;
    PCRE2_SIZE offset;
    // UTF + UCP: \p{..}, \s and classes by Unicode code point; $ only at
    // the end of the piece, as in std::regex's ECMAScript grammar.
    pcre2_code *code = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
        PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &offset,
        nullptr);
    if (!code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      return absl::InternalError(absl::StrCat(
          "pre-tokenizer regex '", std::string(pattern),
          "' does not compile at offset ",
          static_cast<uint64_t>(offset), ": ",
          reinterpret_cast<const char *>(message)));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // Falls back to the interpreter.
    auto compiled = std::make_unique<Compiled>();
    compiled->code.reset(code);
    result->compiled_.push_back(std::move(compiled));
  }
  return result;
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view>
PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty())
    return pieces;
  pieces.push_back(text);
  std::vector<std::string_view> next;
  for (const std::unique_ptr<Compiled> &regex : compiled_) {
    std::unique_ptr<pcre2_match_data, Pcre2Deleter> match(
        pcre2_match_data_create_from_pattern(regex->code.get(), nullptr));
    next.clear();
    for (std::string_view piece : pieces) {
      // Each piece is its own subject: lookaheads and $ stop at its end.
      auto subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t start = 0, done = 0;
      while (start < piece.size()) {
        int rc = pcre2_match(regex->code.get(), subject, piece.size(), start,
                             PCRE2_NO_UTF_CHECK, match.get(), nullptr);
        if (rc < 0)
          break;
        PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match.get());
        size_t begin = ovector[0], end = ovector[1];
        if (end == begin) {
          // An empty match splits nothing; step over one code point.
          start = begin + 1;
          while (start < piece.size() && (piece[start] & 0xc0) == 0x80)
            ++start;
          continue;
        }
        if (begin > done)
          next.push_back(piece.substr(done, begin - done));
        next.push_back(piece.substr(begin, end - begin));
        done = start = end;
      }
      if (done < piece.size())
        next.push_back(piece.substr(done));
    }
    pieces.swap(next);
  }
  return pieces;
}

} // namespace fmc
