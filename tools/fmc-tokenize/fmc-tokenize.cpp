//===- fmc-tokenize.cpp - how fmc tokenizes a text ------------------------===//
//
// Reads the tokenizer of a model file (GGUF, Hugging Face directory, llama2.c
// tokenizer) or of a compiled .fmc artifact and prints the ids of a text,
// with the runtime's tokenizer: the ids fmc-run feeds the model. Vocabulary-
// only GGUF files work: nothing but the tokenizer is read. Any error is one
// line, `fmc-tokenize: error: <what>`, with exit status 1.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ChatTemplate.h"
#include "runtime/Tokenizer.h"
#include "support/Version.h"
#include "tools/common/LoadTokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {

cl::OptionCategory category("fmc-tokenize options");

cl::opt<std::string>
    modelPath(cl::Positional, cl::Required,
              cl::desc("<model: .gguf, Hugging Face directory, .fmc, or a "
                       "llama2.c checkpoint with --tokenizer>"),
              cl::cat(category));
cl::opt<std::string> text("text", cl::desc("The text to tokenize"),
                          cl::value_desc("text"), cl::cat(category));
cl::opt<std::string> file("file",
                          cl::desc("Tokenize the bytes of this file ('-' for "
                                   "stdin)"),
                          cl::value_desc("path"), cl::cat(category));
cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("The llama2.c tok*.bin of a llama2.c checkpoint"),
                  cl::value_desc("file"), cl::cat(category));
cl::opt<bool> noBos("no-bos",
                    cl::desc("Add neither BOS nor the EOS some vocabularies "
                             "append (by default both as the vocabulary says)"),
                    cl::cat(category));
cl::opt<bool> parseSpecial(
    "parse-special",
    cl::desc("Let the text of control tokens (<|eot_id|>, <s>, ...) stand for "
             "them; by default it is plain text"),
    cl::cat(category));
cl::opt<std::string> chat(
    "chat",
    cl::desc("Render the conversation in this JSON file ([{\"role\": "
             "\"system\"|\"user\"|\"assistant\", \"content\": ...}, "
             "...]) with the model's chat template, as fmc-run -i does, and "
             "tokenize it with the generation prompt"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> chatTemplate(
    "chat-template",
    cl::desc("With --chat: render this family's template instead of the "
             "model's"),
    cl::value_desc("name"), cl::cat(category));
cl::opt<bool> showChatTemplate(
    "show-chat-template",
    cl::desc("Print the chat-template family recognised in the model "
             "(\"none\" when none) and the template's text"),
    cl::cat(category));
enum class Output { Ids, Pieces, Rendered };
cl::opt<Output> output(
    cl::desc("Output:"),
    cl::values(clEnumValN(Output::Ids, "ids",
                          "Token ids on one line, space-separated (default)"),
               clEnumValN(Output::Pieces, "pieces",
                          "One token per line: its id and its text, quoted "
                          "with C escapes"),
               clEnumValN(Output::Rendered, "rendered",
                          "With --chat: the rendered text, tokens by their "
                          "text")),
    cl::init(Output::Ids), cl::cat(category));
cl::opt<std::string> batchSeparator(
    "batch-separator",
    cl::desc("The input holds several texts separated by lines that read "
             "<line> (the newline before such a line belongs to it, as in "
             "llama.cpp's tokenizer test files); print one line of ids per "
             "text"),
    cl::value_desc("line"), cl::cat(category));

int fail(const Twine &message) {
  WithColor::error(errs(), "fmc-tokenize") << message << "\n";
  return 1;
}

const char *kOverview =
    "fmc-tokenize: how fmc tokenizes a text\n\n"
    "Prints the token ids of a text (--text or --file) as fmc-run would feed\n"
    "them to the model: BOS first when the vocabulary adds it (and EOS last\n"
    "when it appends one) unless --no-bos. <model> is\n"
    "  - a GGUF file (a vocabulary-only one is enough): tokenizer.ggml.*,\n"
    "    with the pre-tokenizer tokenizer.ggml.pre names;\n"
    "  - a Hugging Face directory: its tokenizer.json (and\n"
    "    tokenizer_config.json for BOS/EOS);\n"
    "  - a compiled .fmc artifact: the tokenizer stored in it;\n"
    "  - a llama2.c checkpoint, with its tok*.bin given by --tokenizer.\n"
    "Special tokens: the text of a control token (<s>, <|eot_id|>, ...) is\n"
    "plain text unless --parse-special; a user-defined added token's text\n"
    "always stands for it, as in llama.cpp and Hugging Face tokenizers.\n"
    "--chat renders a conversation with the model's chat template (the\n"
    "family recognised in it, or --chat-template's) as fmc-run -i does.\n";

/// Quotes `bytes` for one line: printable ASCII and well-formed UTF-8 as
/// they are, the rest as C escapes.
std::string quote(StringRef bytes) {
  std::string out = "'";
  for (size_t i = 0; i < bytes.size();) {
    unsigned char c = bytes[i];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                          : (c & 0xf8) == 0xf0   ? 4
                                                 : 0;
    bool wellFormed = n > 1 && i + n <= bytes.size();
    for (size_t k = 1; wellFormed && k < n; ++k)
      wellFormed = (static_cast<unsigned char>(bytes[i + k]) & 0xc0) == 0x80;
    if (wellFormed) {
      out.append(bytes.substr(i, n).str());
      i += n;
      continue;
    }
    switch (c) {
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\'':
      out += "\\'";
      break;
    default:
      if (c < 0x20 || c >= 0x7f) {
        char hex[8];
        snprintf(hex, sizeof(hex), "\\x%02x", c);
        out += hex;
      } else {
        out += static_cast<char>(c);
      }
    }
    ++i;
  }
  return out + "'";
}

void print(const fmc::Tokenizer &tokenizer, const std::vector<int32_t> &ids) {
  if (output == Output::Pieces) {
    for (int32_t id : ids)
      outs() << id << " " << quote(tokenizer.pieceText(id)) << "\n";
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i)
    outs() << (i ? " " : "") << ids[i];
  outs() << "\n";
}

/// The messages of a --chat file.
Expected<std::vector<fmc::ChatMessage>> readConversation(StringRef path) {
  auto error = [&](const Twine &message) {
    return createStringError(inconvertibleErrorCode(),
                             "'" + path + "': " + message);
  };
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buffer)
    return error(buffer.getError().message());
  Expected<json::Value> root = json::parse((*buffer)->getBuffer());
  if (!root)
    return error(toString(root.takeError()));
  const json::Array *array = root->getAsArray();
  if (!array)
    return error("expected a JSON array of messages");
  std::vector<fmc::ChatMessage> messages;
  for (auto [i, value] : llvm::enumerate(*array)) {
    const json::Object *object = value.getAsObject();
    std::optional<StringRef> role =
        object ? object->getString("role") : std::nullopt;
    std::optional<StringRef> content =
        object ? object->getString("content") : std::nullopt;
    if (!role || !content)
      return error("message " + Twine(i + 1) +
                   ": expected {\"role\": ..., \"content\": ...} strings");
    fmc::ChatRole chatRole;
    if (*role == "system")
      chatRole = fmc::ChatRole::System;
    else if (*role == "user")
      chatRole = fmc::ChatRole::User;
    else if (*role == "assistant")
      chatRole = fmc::ChatRole::Assistant;
    else
      return error("message " + Twine(i + 1) + ": unknown role '" + *role +
                   "' (system, user or assistant)");
    messages.push_back({chatRole, content->str()});
  }
  return messages;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << fmc::versionLine("fmc-tokenize") << "\n";
  });
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, kOverview);

  bool chatting = chat.getNumOccurrences() || showChatTemplate;
  if (text.getNumOccurrences() + file.getNumOccurrences() +
          chat.getNumOccurrences() >
      1)
    return fail("give one of --text, --file and --chat");
  if (!text.getNumOccurrences() && !file.getNumOccurrences() && !chatting)
    return fail("no text: give it with --text, --file or --chat");
  if (chatTemplate.getNumOccurrences() && !chat.getNumOccurrences())
    return fail("--chat-template applies to --chat");
  if (output == Output::Rendered && !chat.getNumOccurrences())
    return fail("--rendered shows a conversation: give it with --chat");
  std::string input = text;
  if (file.getNumOccurrences()) {
    ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
        MemoryBuffer::getFileOrSTDIN(file, /*IsText=*/false);
    if (!buffer)
      return fail("'" + file + "': " + buffer.getError().message());
    input = (*buffer)->getBuffer().str();
  }

  fmc::tools::LoadedTokenizer loaded;
  if (Error error = fmc::tools::loadTokenizer(modelPath, tokenizerPath, loaded))
    return fail(toString(std::move(error)));
  const fmc::Tokenizer &tokenizer = *loaded.tokenizer;

  if (showChatTemplate) {
    const flatbuffers::String *source = loaded.schema->chat_template();
    outs() << "chat template: "
           << fmc::ChatTemplate::familyName(loaded.schema->chat_family())
           << "\n";
    if (source)
      outs() << source->string_view() << "\n";
    if (!chat.getNumOccurrences())
      return 0;
  }
  if (chat.getNumOccurrences()) {
    Expected<std::vector<fmc::ChatMessage>> messages = readConversation(chat);
    if (!messages)
      return fail(toString(messages.takeError()));
    absl::StatusOr<fmc::ChatTemplate> made =
        fmc::ChatTemplate::create(*loaded.schema, tokenizer, chatTemplate);
    if (!made.ok())
      return fail(std::string(made.status().message()));
    absl::StatusOr<std::vector<fmc::PromptPiece>> pieces =
        made->render(*messages, /*addGenerationPrompt=*/true);
    if (!pieces.ok())
      return fail("'" + chat + "': " + std::string(pieces.status().message()));
    if (output == Output::Rendered)
      outs() << made->text(*pieces);
    else
      print(tokenizer, tokenizer.encode(*pieces));
    return 0;
  }

  std::vector<StringRef> texts;
  if (batchSeparator.getNumOccurrences()) {
    std::string separator = "\n" + batchSeparator + "\n";
    StringRef rest(input);
    while (!rest.empty()) {
      size_t at = rest.find(separator);
      texts.push_back(rest.take_front(at));
      if (at == StringRef::npos)
        break;
      rest = rest.drop_front(at + separator.size());
    }
  } else {
    texts.push_back(input);
  }
  for (StringRef one : texts)
    print(tokenizer, tokenizer.encodePrompt(std::string_view(one.data(),
                                                             one.size()),
                                            /*addSpecial=*/!noBos,
                                            parseSpecial));
  return 0;
}
