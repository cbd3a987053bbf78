//===- SpirvEntryPoints.cpp - one entry point of a SPIR-V module ----------===//

#include "lowering/metal/SpirvEntryPoints.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <spirv-tools/libspirv.hpp>
#include <spirv-tools/optimizer.hpp>

namespace fmc::metal {

namespace {

constexpr uint32_t kMagic = 0x07230203;
constexpr size_t kHeaderWords = 5;
constexpr uint16_t kOpEntryPoint = 15;
constexpr uint16_t kOpExecutionMode = 16;
constexpr uint16_t kOpExecutionModeId = 331;
constexpr uint32_t kExecutionModelGLCompute = 5;

llvm::Error spirvError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "SPIR-V: " + message);
}

/// One instruction: its opcode and its words (the first is the opcode word).
struct Instruction {
  uint16_t opcode;
  llvm::ArrayRef<uint32_t> words;
};

/// Splits the module into instructions after checking the header.
llvm::Expected<std::vector<Instruction>>
instructions(llvm::ArrayRef<uint32_t> words) {
  if (words.size() < kHeaderWords || words[0] != kMagic)
    return spirvError("not a SPIR-V module (no magic number " +
                      llvm::utohexstr(kMagic) + " in a 5-word header)");
  std::vector<Instruction> result;
  for (size_t at = kHeaderWords; at < words.size();) {
    uint32_t count = words[at] >> 16;
    if (count == 0 || at + count > words.size())
      return spirvError("instruction at word " + llvm::Twine(at) +
                        " runs past the end of the module");
    result.push_back(
        {static_cast<uint16_t>(words[at] & 0xffff), words.slice(at, count)});
    at += count;
  }
  return result;
}

/// The literal string starting at `words` (nul-terminated, packed 4 bytes a
/// word, little-endian).
std::string literalString(llvm::ArrayRef<uint32_t> words) {
  std::string s;
  for (uint32_t w : words)
    for (int b = 0; b < 4; ++b) {
      char c = static_cast<char>((w >> (8 * b)) & 0xff);
      if (c == '\0')
        return s;
      s.push_back(c);
    }
  return s;
}

/// OpEntryPoint: execution model, function id, name, interface ids.
bool isComputeEntry(const Instruction &inst) {
  return inst.opcode == kOpEntryPoint && inst.words.size() >= 4 &&
         inst.words[1] == kExecutionModelGLCompute;
}

} // namespace

llvm::Error validateSpirv(llvm::ArrayRef<uint32_t> words) {
  spvtools::SpirvTools tools(SPV_ENV_UNIVERSAL_1_6);
  std::string messages;
  tools.SetMessageConsumer([&](spv_message_level_t level, const char *,
                               const spv_position_t &position,
                               const char *message) {
    if (level > SPV_MSG_ERROR)
      return;
    if (!messages.empty())
      messages += "; ";
    // The validator appends the offending instruction on lines of its own.
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(message).split(lines, '\n', -1, /*KeepEmpty=*/false);
    std::string text;
    for (llvm::StringRef line : lines)
      text += (text.empty() ? "" : " | ") + line.trim().str();
    messages += "at word " + std::to_string(position.index) + ": " + text;
  });
  if (tools.Validate(words.data(), words.size()))
    return llvm::Error::success();
  return spirvError("validation failed: " +
                    (messages.empty() ? std::string("(no message)")
                                      : messages));
}

llvm::Expected<std::vector<std::string>>
spirvComputeEntryPoints(llvm::ArrayRef<uint32_t> words) {
  llvm::Expected<std::vector<Instruction>> insts = instructions(words);
  if (!insts)
    return insts.takeError();
  std::vector<std::string> names;
  for (const Instruction &inst : *insts)
    if (isComputeEntry(inst))
      names.push_back(literalString(inst.words.drop_front(3)));
  return names;
}

llvm::Expected<std::vector<uint32_t>>
extractSpirvEntryPoint(llvm::ArrayRef<uint32_t> words, llvm::StringRef name) {
  llvm::Expected<std::vector<Instruction>> insts = instructions(words);
  if (!insts)
    return insts.takeError();
  // The function ids of the entry points to drop, and of the one to keep.
  std::vector<uint32_t> dropped;
  std::vector<std::string> names;
  bool found = false;
  for (const Instruction &inst : *insts) {
    if (inst.opcode != kOpEntryPoint || inst.words.size() < 4)
      continue;
    std::string entry = literalString(inst.words.drop_front(3));
    if (isComputeEntry(inst) && entry == name && !found) {
      found = true;
      continue;
    }
    dropped.push_back(inst.words[2]);
    if (isComputeEntry(inst))
      names.push_back(entry);
  }
  if (!found)
    return spirvError("the module has no compute entry point '" + name +
                      "' (it has: " +
                      (names.empty() ? std::string("none")
                                     : llvm::join(names, ", ")) +
                      ")");

  std::vector<uint32_t> kept(words.begin(), words.begin() + kHeaderWords);
  kept.reserve(words.size());
  for (const Instruction &inst : *insts) {
    bool drop = false;
    if (inst.opcode == kOpEntryPoint)
      drop = llvm::is_contained(dropped, inst.words[2]);
    else if ((inst.opcode == kOpExecutionMode ||
              inst.opcode == kOpExecutionModeId) &&
             inst.words.size() >= 2)
      drop = llvm::is_contained(dropped, inst.words[1]);
    if (!drop)
      kept.insert(kept.end(), inst.words.begin(), inst.words.end());
  }

  // Functions no entry point calls any more, then the module-scope
  // variables only they used (Workgroup memory in particular).
  spvtools::Optimizer optimizer(SPV_ENV_UNIVERSAL_1_6);
  std::string messages;
  optimizer.SetMessageConsumer(
      [&](spv_message_level_t level, const char *, const spv_position_t &,
          const char *message) {
        if (level <= SPV_MSG_ERROR)
          messages += std::string(messages.empty() ? "" : "; ") + message;
      });
  optimizer.RegisterPass(spvtools::CreateEliminateDeadFunctionsPass());
  optimizer.RegisterPass(spvtools::CreateDeadVariableEliminationPass());
  spvtools::OptimizerOptions options;
  options.set_run_validator(false); // The caller validated the whole module.
  std::vector<uint32_t> result;
  if (!optimizer.Run(kept.data(), kept.size(), &result, options))
    return spirvError("cannot cut entry point '" + name +
                      "' out of the module: " + messages);
  return result;
}

} // namespace fmc::metal
