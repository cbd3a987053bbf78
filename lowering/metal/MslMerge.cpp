//===- MslMerge.cpp - one MSL source from per-kernel translations ---------===//

#include "lowering/metal/MslMerge.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <vector>

namespace fmc::metal {

namespace {

/// A unit split into its leading directives (`#pragma`, `#include`,
/// `using namespace`) and its top-level blocks: the runs of lines that
/// SPIRV-Cross separates with blank lines at brace depth 0.
struct SplitUnit {
  std::vector<std::string> directives;
  std::vector<std::string> blocks;
};

SplitUnit split(llvm::StringRef source) {
  SplitUnit unit;
  llvm::SmallVector<llvm::StringRef> lines;
  source.split(lines, '\n');
  std::string block;
  int depth = 0;
  bool inPreamble = true;
  for (llvm::StringRef line : lines) {
    llvm::StringRef trimmed = line.trim();
    if (inPreamble) {
      if (trimmed.empty())
        continue;
      if (trimmed.starts_with("#") || trimmed.starts_with("using namespace")) {
        unit.directives.push_back(trimmed.str());
        continue;
      }
      inPreamble = false;
    }
    if (trimmed.empty() && depth == 0) {
      if (!block.empty())
        unit.blocks.push_back(std::move(block));
      block.clear();
      continue;
    }
    block += line.rtrim().str();
    block += '\n';
    depth += static_cast<int>(line.count('{')) -
             static_cast<int>(line.count('}'));
  }
  if (!block.empty())
    unit.blocks.push_back(std::move(block));
  return unit;
}

/// The last identifier in `text`, or "".
llvm::StringRef lastIdentifier(llvm::StringRef text) {
  text = text.rtrim();
  size_t end = text.size();
  while (end > 0 && (llvm::isAlnum(text[end - 1]) || text[end - 1] == '_'))
    --end;
  return text.substr(end);
}

/// What the top-level line `line` declares, as a key that two blocks must
/// not share unless they are the same block: "struct NAME" for types, the
/// whole signature for functions (overloads differ in it), "constant NAME"
/// for program-scope constants; "" for lines that declare nothing
/// (templates' headers, braces, comments).
std::string declarationKey(llvm::StringRef line) {
  line = line.trim();
  if (line.empty() || line.starts_with("//") || line.starts_with("template") ||
      line.starts_with("{") || line.starts_with("}"))
    return "";
  for (llvm::StringRef keyword : {"struct ", "union ", "enum "})
    if (line.starts_with(keyword)) {
      llvm::StringRef name = line.drop_front(keyword.size());
      name = name.take_while(
          [](char c) { return llvm::isAlnum(c) || c == '_'; });
      return (keyword + name).str();
    }
  if (line.starts_with("constant ") || line.starts_with("constexpr ")) {
    llvm::StringRef declarator = line.take_until(
        [](char c) { return c == '=' || c == ';' || c == '['; });
    return ("constant " + lastIdentifier(declarator)).str();
  }
  if (line.contains('('))
    return line.str();
  return "";
}

} // namespace

llvm::Expected<std::string> mergeMslUnits(llvm::ArrayRef<MslUnit> units) {
  std::vector<std::string> pragmas, includes, usings;
  llvm::StringSet<> seenDirectives, seenBlocks;
  std::vector<std::string> blocks;
  // Declaration key -> the entry point whose unit first declared it.
  llvm::StringMap<std::string> declaredBy;
  for (const MslUnit &unit : units) {
    SplitUnit parts = split(unit.source);
    for (std::string &d : parts.directives) {
      if (!seenDirectives.insert(d).second)
        continue;
      llvm::StringRef ref(d);
      (ref.starts_with("#pragma") ? pragmas
       : ref.starts_with("#")     ? includes
                                  : usings)
          .push_back(d);
    }
    for (std::string &block : parts.blocks) {
      if (seenBlocks.contains(block))
        continue;
      // Lines at depth 0 of the block are its declarations.
      int depth = 0;
      llvm::SmallVector<llvm::StringRef> lines;
      llvm::StringRef(block).split(lines, '\n');
      for (llvm::StringRef line : lines) {
        if (depth == 0) {
          std::string key = declarationKey(line);
          if (!key.empty()) {
            auto [it, inserted] = declaredBy.try_emplace(key, unit.entryPoint);
            if (!inserted)
              return llvm::createStringError(
                  llvm::inconvertibleErrorCode(),
                  "MSL: the translations of entry points '" + it->second +
                      "' and '" + unit.entryPoint +
                      "' define '" + key +
                      "' differently; they cannot share one Metal library");
          }
        }
        depth += static_cast<int>(line.count('{')) -
                 static_cast<int>(line.count('}'));
      }
      seenBlocks.insert(block);
      blocks.push_back(std::move(block));
    }
  }
  std::string out;
  for (const auto *group : {&pragmas, &includes, &usings}) {
    for (const std::string &d : *group)
      out += d + "\n";
    if (!group->empty())
      out += "\n";
  }
  for (const std::string &block : blocks)
    out += block + "\n";
  return out;
}

} // namespace fmc::metal
