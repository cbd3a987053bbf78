//===- SpirvEntryPoints.cpp - one entry point of a SPIR-V module ----------===//

#include "lowering/metal/SpirvEntryPoints.h"

#include "llvm/ADT/StringExtras.h"

#include <spirv-tools/libspirv.h>
#include <spirv-tools/libspirv.hpp>

#include <memory>

namespace fmc::metal {

namespace {

constexpr size_t kHeaderWords = 5;
constexpr uint16_t kOpName = 5;
constexpr uint16_t kOpMemberName = 6;
constexpr uint16_t kOpEntryPoint = 15;
constexpr uint16_t kOpExecutionMode = 16;
constexpr uint16_t kOpFunction = 54;
constexpr uint16_t kOpFunctionEnd = 56;
constexpr uint16_t kOpFunctionCall = 57;
constexpr uint16_t kOpVariable = 59;
constexpr uint16_t kOpDecorate = 71;
constexpr uint16_t kOpMemberDecorate = 72;
constexpr uint16_t kOpExecutionModeId = 331;
constexpr uint16_t kOpDecorateId = 332;
constexpr uint16_t kOpDecorateString = 5632;
constexpr uint16_t kOpMemberDecorateString = 5633;
constexpr uint32_t kExecutionModelGLCompute = 5;

llvm::Error spirvError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "SPIR-V: " + message);
}

/// Instructions whose first operand is the id they describe or configure.
bool describesAnId(uint16_t opcode) {
  switch (opcode) {
  case kOpName:
  case kOpMemberName:
  case kOpDecorate:
  case kOpMemberDecorate:
  case kOpDecorateId:
  case kOpDecorateString:
  case kOpMemberDecorateString:
  case kOpExecutionMode:
  case kOpExecutionModeId:
    return true;
  default:
    return false;
  }
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

bool isIdOperand(spv_operand_type_t type) {
  return type == SPV_OPERAND_TYPE_ID || type == SPV_OPERAND_TYPE_TYPE_ID ||
         type == SPV_OPERAND_TYPE_SCOPE_ID ||
         type == SPV_OPERAND_TYPE_MEMORY_SEMANTICS_ID;
}

/// A message consumer gathering SPIRV-Tools' errors into one line (the
/// validator appends the offending instruction on lines of its own).
struct Messages {
  std::string text;
  void add(const spv_position_t &position, const char *message) {
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(message).split(lines, '\n', -1, /*KeepEmpty=*/false);
    std::string joined;
    for (llvm::StringRef line : lines)
      joined += (joined.empty() ? "" : " | ") + line.trim().str();
    if (!text.empty())
      text += "; ";
    text += "at word " + std::to_string(position.index) + ": " + joined;
  }
};

} // namespace

llvm::Error validateSpirv(llvm::ArrayRef<uint32_t> words) {
  spvtools::SpirvTools tools(SPV_ENV_UNIVERSAL_1_6);
  Messages messages;
  tools.SetMessageConsumer([&](spv_message_level_t level, const char *,
                               const spv_position_t &position,
                               const char *message) {
    if (level <= SPV_MSG_ERROR)
      messages.add(position, message);
  });
  if (tools.Validate(words.data(), words.size()))
    return llvm::Error::success();
  return spirvError("validation failed: " + (messages.text.empty()
                                                 ? std::string("(no message)")
                                                 : messages.text));
}

llvm::Expected<SpirvModule> SpirvModule::parse(llvm::ArrayRef<uint32_t> words) {
  SpirvModule m;
  m.module.assign(words.begin(), words.end());

  struct State {
    SpirvModule *m;
    uint32_t at = kHeaderWords;
    uint32_t function = 0;
  } state{&m};
  auto onInstruction = [](void *user,
                          const spv_parsed_instruction_t *parsed)
      -> spv_result_t {
    State &s = *static_cast<State *>(user);
    SpirvModule &m = *s.m;
    Instruction inst;
    inst.begin = s.at;
    inst.words = parsed->num_words;
    inst.opcode = parsed->opcode;
    inst.result = parsed->result_id;
    s.at += parsed->num_words;
    if (inst.opcode == kOpFunction)
      s.function = inst.result;
    inst.function = s.function;
    llvm::ArrayRef<uint32_t> words(parsed->words, parsed->num_words);
    if (describesAnId(inst.opcode) && parsed->num_operands > 0)
      inst.target = words[parsed->operands[0].offset];

    if (s.function == 0) {
      if (inst.opcode == kOpVariable)
        m.globals.insert(inst.result);
      if (inst.opcode == kOpEntryPoint && parsed->num_operands >= 3 &&
          words[parsed->operands[0].offset] == kExecutionModelGLCompute) {
        EntryPoint entry;
        entry.function = words[parsed->operands[1].offset];
        entry.name = literalString(words.slice(parsed->operands[2].offset,
                                               parsed->operands[2].num_words));
        for (uint16_t i = 3; i < parsed->num_operands; ++i)
          entry.interface.push_back(words[parsed->operands[i].offset]);
        entry.instruction = m.instructions.size();
        m.entryNames.push_back(entry.name);
        m.entries.push_back(std::move(entry));
      }
    } else {
      Function &f = m.functions[s.function];
      if (inst.result)
        f.ids.push_back(inst.result);
      if (inst.opcode == kOpFunctionCall && parsed->num_operands >= 3)
        f.callees.push_back(words[parsed->operands[2].offset]);
      // The result type and result id are operands 0 and 1 of most
      // instructions; only referencing operands can name a variable.
      for (uint16_t i = 0; i < parsed->num_operands; ++i) {
        const spv_parsed_operand_t &op = parsed->operands[i];
        if (isIdOperand(op.type) && m.globals.contains(words[op.offset]))
          f.globals.insert(words[op.offset]);
      }
    }
    m.instructions.push_back(inst);
    if (inst.opcode == kOpFunctionEnd)
      s.function = 0;
    return SPV_SUCCESS;
  };

  std::unique_ptr<spv_context_t, void (*)(spv_context)> context(
      spvContextCreate(SPV_ENV_UNIVERSAL_1_6), spvContextDestroy);
  spv_diagnostic diagnostic = nullptr;
  spv_result_t result =
      spvBinaryParse(context.get(), &state, m.module.data(), m.module.size(),
                     nullptr, onInstruction, &diagnostic);
  if (result != SPV_SUCCESS) {
    std::string message = diagnostic && diagnostic->error
                              ? diagnostic->error
                              : "cannot parse the module";
    spvDiagnosticDestroy(diagnostic);
    return spirvError(message);
  }
  spvDiagnosticDestroy(diagnostic);
  return m;
}

llvm::Expected<std::vector<uint32_t>>
SpirvModule::extractEntryPoint(llvm::StringRef name) const {
  const EntryPoint *kept = nullptr;
  for (const EntryPoint &e : entries)
    if (e.name == name) {
      kept = &e;
      break;
    }
  if (!kept)
    return spirvError("the module has no compute entry point '" + name +
                      "' (it has: " +
                      (entryNames.empty() ? std::string("none")
                                          : llvm::join(entryNames, ", ")) +
                      ")");

  // The functions the entry point reaches and the variables they use.
  llvm::DenseSet<uint32_t> reached;
  llvm::SmallVector<uint32_t> work = {kept->function};
  while (!work.empty()) {
    uint32_t f = work.pop_back_val();
    if (!reached.insert(f).second)
      continue;
    auto it = functions.find(f);
    if (it != functions.end())
      work.append(it->second.callees.begin(), it->second.callees.end());
  }
  llvm::DenseSet<uint32_t> used(kept->interface.begin(),
                                kept->interface.end());
  for (uint32_t f : reached) {
    auto it = functions.find(f);
    if (it != functions.end())
      used.insert(it->second.globals.begin(), it->second.globals.end());
  }
  llvm::DenseSet<uint32_t> removed;
  for (const auto &[id, f] : functions)
    if (!reached.contains(id)) {
      removed.insert(id);
      removed.insert(f.ids.begin(), f.ids.end());
    }
  for (uint32_t g : globals)
    if (!used.contains(g))
      removed.insert(g);

  std::vector<uint32_t> result(module.begin(), module.begin() + kHeaderWords);
  result.reserve(module.size());
  for (size_t i = 0; i < instructions.size(); ++i) {
    const Instruction &inst = instructions[i];
    bool drop = false;
    if (inst.function != 0)
      drop = !reached.contains(inst.function);
    else if (inst.opcode == kOpEntryPoint)
      drop = i != kept->instruction;
    else if (inst.opcode == kOpVariable)
      drop = removed.contains(inst.result);
    else if (inst.target != 0)
      drop = removed.contains(inst.target);
    if (!drop)
      result.insert(result.end(), module.begin() + inst.begin,
                    module.begin() + inst.begin + inst.words);
  }
  return result;
}

} // namespace fmc::metal
