//===- FormDispatches.cpp - group a program's kernels into dispatches -----===//
//
// Decides what one GPU launch computes (DESIGN.md, phase 4). Products are
// the roots: each linear or logits kernel gathers its siblings (products of
// the same input and weight format), the norm that computed their input,
// and per product the chain of kernels that alone read its rows. Everything
// else becomes a dispatch of its own. A group is placed where its last
// kernel was; the kernels that move past others must not depend on them,
// which the single-reader chains guarantee and checkMove verifies.
//
//===----------------------------------------------------------------------===//

#include "lowering/plan/Passes.h"

#include "dialects/plan/IR/PlanDispatch.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <numeric>

namespace mlir::plan {
#define GEN_PASS_DEF_FORMDISPATCHES
#include "lowering/plan/Passes.h.inc"
} // namespace mlir::plan

using namespace mlir;
using namespace mlir::plan;

namespace {

/// The matvec configuration (PlanDispatch.h); a workgroup's rows are a
/// multiple of its teams.
constexpr int64_t kWorkgroupSize = kMatvecWorkgroupSize;
constexpr int64_t kThreadsPerRow = kMatvecThreadsPerRow;
constexpr int64_t kTeams = kWorkgroupSize / kThreadsPerRow;
constexpr int64_t kTargetWorkgroups = kMatvecTargetWorkgroups;
constexpr int64_t kMaxRowsPerWorkgroup = 64;
/// Tokens that share each decoded weight in programs of several rows.
constexpr int64_t kPrefillTokensPerPass = 4;

int64_t widthOf(Value buffer) {
  return cast<RowsType>(buffer.getType()).getWidth();
}

/// Who writes and reads each buffer of a program (kernels at the program's
/// top level, before any dispatch is formed).
class Dataflow {
public:
  explicit Dataflow(ProgramOp program) {
    for (Operation &op : program.getBody().front()) {
      auto kernel = dyn_cast<KernelOpInterface>(op);
      if (!kernel)
        continue;
      position[kernel] = kernels.size();
      kernels.push_back(kernel);
      for (Value v : kernel.getWrittenBuffers())
        writers[v] = kernel;
      for (Value v : getReadBuffers(kernel))
        readers[v].insert(kernel);
    }
  }

  Operation *writer(Value buffer) const { return writers.lookup(buffer); }
  /// The one kernel that reads `buffer`, if exactly one does.
  Operation *soleReader(Value buffer) const {
    auto it = readers.find(buffer);
    return it != readers.end() && it->second.size() == 1 ? it->second.front()
                                                         : nullptr;
  }
  ArrayRef<Operation *> readersOf(Value buffer) const {
    auto it = readers.find(buffer);
    return it == readers.end() ? ArrayRef<Operation *>()
                               : it->second.getArrayRef();
  }

  SmallVector<Operation *> kernels;
  llvm::DenseMap<Operation *, size_t> position;

private:
  llvm::DenseMap<Value, Operation *> writers;
  llvm::DenseMap<Value, llvm::SetVector<Operation *>> readers;
};

/// The caches a kernel reads and writes.
std::pair<FlatSymbolRefAttr, FlatSymbolRefAttr> cachesOf(Operation *op) {
  if (auto attention = dyn_cast<AttentionOp>(op))
    return {attention.getReadsAttr(), attention.getWritesAttr()};
  if (auto append = dyn_cast<KVAppendOp>(op))
    return {nullptr, append.getCacheAttr()};
  return {nullptr, nullptr};
}

/// Whether `member` can run after every kernel of `between` (kernels that
/// ran after it and before the group's position, not in the group).
bool canMovePast(Operation *member, ArrayRef<Operation *> between) {
  auto memberKernel = cast<KernelOpInterface>(member);
  SmallVector<Value> writes = memberKernel.getWrittenBuffers();
  SmallVector<Value> reads = getReadBuffers(memberKernel);
  auto [memberReadsCache, memberWritesCache] = cachesOf(member);
  for (Operation *other : between) {
    auto kernel = cast<KernelOpInterface>(other);
    for (Value v : getReadBuffers(kernel))
      if (llvm::is_contained(writes, v))
        return false;
    for (Value v : kernel.getWrittenBuffers())
      if (llvm::is_contained(reads, v) || llvm::is_contained(writes, v))
        return false;
    auto [otherReads, otherWrites] = cachesOf(other);
    if (memberWritesCache &&
        (otherReads == memberWritesCache || otherWrites == memberWritesCache))
      return false;
    if (otherWrites && memberReadsCache == otherWrites)
      return false;
  }
  return true;
}

/// A candidate matvec: products, an optional prologue, and the epilogue
/// chains that follow each product.
struct MatvecGroup {
  Operation *prologue = nullptr;
  SmallVector<Operation *> products;
  SmallVector<Operation *> epilogues;
  int64_t rows = 0;    ///< Output rows (gate/up pairs once).
  /// Of the per-head epilogues: 0 without, -1 when they disagree.
  int64_t headDim = 0;
  SmallVector<int64_t> segmentRows;

  SmallVector<Operation *> members() const {
    SmallVector<Operation *> all;
    if (prologue)
      all.push_back(prologue);
    llvm::append_range(all, products);
    llvm::append_range(all, epilogues);
    return all;
  }
};

class ProgramFormer {
public:
  ProgramFormer(ProgramOp program, bool fuse, int64_t splits)
      : program(program), flow(program), fuse(fuse), splitsOption(splits) {}

  LogicalResult run();

private:
  /// How much a matvec group may gather around its root product.
  enum class Reach { Alone, Chain, Siblings };
  /// Grows the matvec group rooted at product `root`: alone, with its
  /// prologue and epilogue chain, or also with its siblings.
  MatvecGroup growMatvec(Operation *root, Reach reach);
  /// Follows the kernels that alone read `product`'s rows (after `glu`,
  /// the GLU of a gate/up pair, when it is a gate) into `group`.
  void followEpilogues(Operation *product, GluOp glu, MatvecGroup &group);
  /// Whether the group's kernels can all run where its last one is.
  bool movable(ArrayRef<Operation *> members) const;
  Attribute matvecConfig(const MatvecGroup &group, Operation *anyWeightUser);
  Attribute singletonConfig(Operation *kernel);
  bool taken(Operation *op) const { return assigned.contains(op); }

  ProgramOp program;
  Dataflow flow;
  bool fuse;
  int64_t splitsOption;
  llvm::DenseSet<Operation *> assigned;
  /// Groups in the order their dispatches will appear.
  SmallVector<std::pair<SmallVector<Operation *>, Attribute>> groups;
};

void ProgramFormer::followEpilogues(Operation *product, GluOp glu,
                                    MatvecGroup &group) {
  Value y = cast<KernelOpInterface>(product).getWrittenBuffers().front();
  group.segmentRows.push_back(widthOf(y));
  auto next = [&](Value v) -> Operation * {
    Operation *op = flow.soleReader(v);
    return op && !taken(op) ? op : nullptr;
  };
  Operation *op = next(y);
  if (glu) {
    group.epilogues.push_back(glu);
    y = glu.getOutput();
    op = next(y);
  }
  if (auto add = dyn_cast_or_null<AddOp>(op)) {
    if (add.getLhs() == add.getRhs())
      return;
    group.epilogues.push_back(add);
    y = add.getOutput();
    op = next(y);
  }
  int64_t headDim = 0;
  if (auto norm = dyn_cast_or_null<RMSNormOp>(op)) {
    if (static_cast<int64_t>(norm.getGroupSize()) >= widthOf(y))
      return;
    group.epilogues.push_back(norm);
    headDim = norm.getGroupSize();
    y = norm.getOutput();
    op = next(y);
  }
  if (auto rope = dyn_cast_or_null<RopeOp>(op)) {
    if (headDim && headDim != static_cast<int64_t>(rope.getHeadDim()))
      return;
    group.epilogues.push_back(rope);
    headDim = rope.getHeadDim();
    y = rope.getOutput();
    op = next(y);
  }
  if (headDim && group.headDim && headDim != group.headDim)
    group.headDim = -1; // Mixed head sizes: no per-head tiles.
  else if (headDim)
    group.headDim = headDim;
  if (auto append = dyn_cast_or_null<KVAppendOp>(op))
    if (!llvm::is_contained(group.epilogues, append.getOperation()))
      group.epilogues.push_back(append);
}

MatvecGroup ProgramFormer::growMatvec(Operation *root, Reach reach) {
  MatvecGroup group;
  Value x = root->getOperand(0);
  fm::ParamOp rootWeight =
      lookupParam(root, root->getAttrOfType<FlatSymbolRefAttr>("weight"));
  group.products.push_back(root);
  if (reach == Reach::Alone) {
    group.segmentRows.push_back(
        widthOf(cast<KernelOpInterface>(root).getWrittenBuffers().front()));
    group.rows = group.segmentRows.front();
    return group;
  }
  if (reach == Reach::Siblings && isa<LinearOp>(root))
    for (size_t i = flow.position.lookup(root) + 1; i < flow.kernels.size();
         ++i) {
      auto linear = dyn_cast<LinearOp>(flow.kernels[i]);
      if (linear && !taken(linear) && linear.getInput() == x &&
          sameWeightFormat(rootWeight,
                           lookupParam(linear, linear.getWeightAttr())))
        group.products.push_back(linear);
    }
  llvm::SmallPtrSet<Operation *, 8> products(group.products.begin(),
                                             group.products.end());

  // The norm of whole rows that computed x, if only these products read it.
  Operation *def = flow.writer(x);
  auto rms = dyn_cast_or_null<RMSNormOp>(def);
  if (def && !taken(def) &&
      ((rms && static_cast<int64_t>(rms.getGroupSize()) == widthOf(x)) || isa<LayerNormOp>(def)) &&
      llvm::all_of(flow.readersOf(x),
                   [&](Operation *r) { return products.contains(r); }))
    group.prologue = def;

  // Gate/up pairs: a GLU that alone reads two products' rows.
  llvm::DenseMap<Operation *, GluOp> gluOfGate;
  llvm::SmallPtrSet<Operation *, 8> ups;
  for (Operation *p : group.products) {
    auto linear = dyn_cast<LinearOp>(p);
    if (!linear)
      continue;
    Value out = linear.getOutput();
    auto glu = dyn_cast_or_null<GluOp>(flow.soleReader(out));
    if (!glu || taken(glu) || glu.getGate() != out || glu.getUp() == out)
      continue;
    Operation *up = flow.writer(glu.getUp());
    if (up && products.contains(up) &&
        flow.soleReader(glu.getUp()) == glu.getOperation()) {
      gluOfGate[p] = glu;
      ups.insert(up);
    }
  }
  for (Operation *p : group.products)
    if (!ups.contains(p))
      followEpilogues(p, gluOfGate.lookup(p), group);

  // An append fuses only with both its keys and its values.
  auto computedHere = [&](Value v) {
    Operation *w = flow.writer(v);
    return w && (products.contains(w) ||
                 llvm::is_contained(group.epilogues, w));
  };
  llvm::erase_if(group.epilogues, [&](Operation *op) {
    auto append = dyn_cast<KVAppendOp>(op);
    return append &&
           (!computedHere(append.getK()) || !computedHere(append.getV()));
  });
  for (Operation *op : group.epilogues)
    if (auto append = dyn_cast<KVAppendOp>(op))
      if (auto cache = SymbolTable::lookupNearestSymbolFrom<fm::KVCacheOp>(
              append, append.getCacheAttr().getAttr())) {
        int64_t d = cache.getHeadDim();
        group.headDim = group.headDim && group.headDim != d ? -1 : d;
      }
  group.rows = std::accumulate(group.segmentRows.begin(),
                               group.segmentRows.end(), int64_t(0));
  return group;
}

bool ProgramFormer::movable(ArrayRef<Operation *> members) const {
  size_t last = 0;
  for (Operation *m : members)
    last = std::max(last, flow.position.lookup(m));
  llvm::SmallPtrSet<Operation *, 16> inGroup(members.begin(), members.end());
  for (Operation *m : members) {
    SmallVector<Operation *> between;
    for (size_t i = flow.position.lookup(m) + 1; i < last; ++i)
      if (!inGroup.contains(flow.kernels[i]))
        between.push_back(flow.kernels[i]);
    if (!canMovePast(m, between))
      return false;
  }
  return true;
}

int64_t largestPowerOfTwoAtMost(int64_t v) {
  int64_t p = 1;
  while (p * 2 <= v)
    p *= 2;
  return p;
}

/// Bytes of one row of `weight` (packed codes, or dense elements).
int64_t rowBytesOf(fm::ParamOp weight) {
  ArrayRef<int64_t> shape = weight.getTensorType().getShape();
  int64_t k = shape.back();
  if (fm::QuantAttr quant = weight.getQuant())
    return (k * quant.getBits() + 7) / 8;
  switch (weight.getStorageType()) {
  case fm::StorageType::f16:
  case fm::StorageType::bf16:
    return 2 * k;
  default:
    return 4 * k;
  }
}

Attribute ProgramFormer::matvecConfig(const MatvecGroup &group,
                                      Operation *root) {
  MLIRContext *ctx = program.getContext();
  int64_t rowsPerWorkgroup;
  RowTiles tiles = RowTiles::rows;
  if (group.headDim) {
    tiles = RowTiles::heads;
    rowsPerWorkgroup = group.headDim;
  } else {
    rowsPerWorkgroup = std::clamp<int64_t>(
        largestPowerOfTwoAtMost(std::max<int64_t>(
            1, group.rows / kTargetWorkgroups)),
        kTeams, kMaxRowsPerWorkgroup);
    // Fused products each fill whole workgroups.
    if (group.segmentRows.size() > 1)
      while (rowsPerWorkgroup > kTeams &&
             llvm::any_of(group.segmentRows, [&](int64_t rows) {
               return rows % rowsPerWorkgroup != 0;
             }))
        rowsPerWorkgroup /= 2;
  }
  fm::ParamOp weight =
      lookupParam(root, root->getAttrOfType<FlatSymbolRefAttr>("weight"));
  int64_t rowBytes = weight ? rowBytesOf(weight) : 4;
  int64_t vectorBytes = rowBytes % 16 == 0 ? 16 : rowBytes % 8 == 0 ? 8 : 4;
  bool packed = weight && weight.getQuant();
  int64_t k = widthOf(root->getOperand(0));
  Activations activations =
      packed && k >= 128 ? Activations::i8 : Activations::f32;
  int64_t tokens = program.getMaxTokens() > 1 ? kPrefillTokensPerPass : 1;
  Products products = Products::reduce;
  if (program.getMaxTokens() > 1 && matrixUnitsUnfit(weight, k).empty()) {
    // Prefill on matrix units: 16-token x 8-row tiles. A gate/up pair
    // stages both weights, so it takes half the rows; the tokens per pass
    // (32, else 16) keep the workgroup memory within what every GPU has.
    int64_t parts = llvm::any_of(group.epilogues,
                                 [](Operation *op) { return isa<GluOp>(op); })
                        ? 2
                        : 1;
    int64_t rows = tiles == RowTiles::heads
                       ? group.headDim
                       : kMatrixUnitsRowsPerWorkgroup / parts;
    if (tiles == RowTiles::rows)
      while (rows > kTeams &&
             llvm::any_of(group.segmentRows, [&](int64_t segment) {
               return group.segmentRows.size() > 1 && segment % rows != 0;
             }))
        rows /= 2;
    int64_t passTokens = matrixUnitsTokensPerPass(
        rows, parts, weight.getQuant() ? weight.getQuant().getBits() : 16,
        kWorkgroupSize);
    if (rows % 8 == 0 && passTokens > 0) {
      products = Products::mma;
      rowsPerWorkgroup = rows;
      tokens = passTokens;
    }
  }
  return MatvecConfigAttr::get(ctx, kWorkgroupSize, rowsPerWorkgroup,
                               kThreadsPerRow, vectorBytes, tokens, activations,
                               tiles, products);
}

Attribute ProgramFormer::singletonConfig(Operation *kernel) {
  MLIRContext *ctx = program.getContext();
  if (isa<RMSNormOp, LayerNormOp, RopeOp, AddOp, MulOp, ActivationOp, GluOp>(
          kernel))
    return RowwiseConfigAttr::get(ctx, kWorkgroupSize);
  if (auto attention = dyn_cast<AttentionOp>(kernel);
      attention && !attention.getK() && program.getMaxTokens() == 1) {
    int64_t splits = splitsOption;
    if (splits <= 0) {
      auto cache = SymbolTable::lookupNearestSymbolFrom<fm::KVCacheOp>(
          attention, attention.getReadsAttr().getAttr());
      splits = cache ? defaultDecodeAttentionSplits(cache) : 1;
    }
    return DecodeAttentionConfigAttr::get(ctx, splits);
  }
  if (isa<AllReduceOp>(kernel))
    return CollectiveConfigAttr::get(ctx);
  return LibraryConfigAttr::get(ctx);
}

LogicalResult ProgramFormer::run() {
  // Products first: they claim their prologues and epilogues.
  for (Operation *kernel : flow.kernels) {
    if (taken(kernel) || !isa<LinearOp, LogitsOp, GroupedLinearOp>(kernel))
      continue;
    if (isa<GroupedLinearOp>(kernel)) {
      MatvecGroup single;
      single.products.push_back(kernel);
      single.rows = widthOf(cast<GroupedLinearOp>(kernel).getOutputs().front());
      assigned.insert(kernel);
      groups.push_back({{kernel}, matvecConfig(single, kernel)});
      continue;
    }
    // The widest group that fits and can move, down to the product alone.
    MatvecGroup group = growMatvec(kernel, fuse ? Reach::Siblings : Reach::Alone);
    // Siblings and per-head tiles need whole workgroups per product.
    auto fits = [&](const MatvecGroup &g) {
      if (g.headDim < 0)
        return false;
      if (g.headDim)
        return g.headDim % kTeams == 0 &&
               llvm::all_of(g.segmentRows,
                            [&](int64_t r) { return r % g.headDim == 0; });
      return g.segmentRows.size() == 1 ||
             llvm::all_of(g.segmentRows,
                          [](int64_t r) { return r % kTeams == 0; });
    };
    if (!movable(group.members()) || !fits(group))
      group = growMatvec(kernel, Reach::Chain);
    if (!movable(group.members()) || !fits(group))
      group = growMatvec(kernel, Reach::Alone);
    SmallVector<Operation *> members = group.members();
    llvm::sort(members, [&](Operation *a, Operation *b) {
      return flow.position.lookup(a) < flow.position.lookup(b);
    });
    for (Operation *m : members)
      assigned.insert(m);
    groups.push_back({members, matvecConfig(group, kernel)});
  }
  for (Operation *kernel : flow.kernels)
    if (!taken(kernel)) {
      assigned.insert(kernel);
      groups.push_back({{kernel}, singletonConfig(kernel)});
    }

  // Each group becomes a dispatch where its last kernel is.
  for (auto &[members, config] : groups) {
    Operation *last = members.front();
    for (Operation *m : members)
      if (flow.position.lookup(m) > flow.position.lookup(last))
        last = m;
    OpBuilder builder(last);
    auto dispatch = DispatchOp::create(
        builder, last->getLoc(), cast<KernelConfigAttrInterface>(config));
    Block *body = builder.createBlock(&dispatch.getBody());
    for (Operation *m : members)
      m->moveBefore(body, body->end());
  }
  // Dispatches of one kernel each leave every live range as it was.
  return fuse ? assignBuffers(program) : success();
}

struct FormDispatchesPass
    : public plan::impl::FormDispatchesBase<FormDispatchesPass> {
  using FormDispatchesBase::FormDispatchesBase;
  void runOnOperation() override {
    for (ProgramOp program : getOperation().getOps<ProgramOp>()) {
      bool formed = llvm::any_of(program.getBody().front(), [](Operation &op) {
        return isa<DispatchOp>(op);
      });
      if (formed)
        continue; // Idempotent: a formed program is left as it is.
      if (failed(ProgramFormer(program, fuse, decodeAttentionSplits).run()))
        return signalPassFailure();
    }
  }
};

} // namespace
