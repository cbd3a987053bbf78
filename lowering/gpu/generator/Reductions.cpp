//===- Reductions.cpp - sums and maxima across lanes of a workgroup -------===//

#include "lowering/gpu/generator/Reductions.h"

using namespace mlir;

namespace fmc::gpu {

SmallVector<Value> teamReduce(KernelBuilder &kb, ValueRange values,
                              Value partials, int64_t teamSize,
                              int64_t workgroupSize, bool max) {
  int64_t slots = kPartialsPerValue(workgroupSize);
  Value tid = kb.threadId();
  Value sg = kb.subgroupSize();
  Value subgroup = kb.div(tid, sg);
  Value leader = kb.eq(kb.rem(tid, sg), 0);
  SmallVector<Value> reduced;
  for (Value v : values)
    reduced.push_back(max ? kb.subgroupMax(v) : kb.subgroupSum(v));
  kb.ifThen(leader, [&] {
    for (auto [i, v] : llvm::enumerate(reduced))
      kb.store(v, partials,
               kb.add(subgroup, kb.index(static_cast<int64_t>(i) * slots)));
  });
  kb.barrier();
  // The team's subgroups: teamSize / sg of them, from team * that on.
  Value perTeam = kb.div(kb.index(teamSize), sg);
  Value first = kb.mul(kb.div(tid, teamSize), perTeam);
  SmallVector<Value> init;
  for (size_t i = 0; i < reduced.size(); ++i)
    init.push_back(kb.f32(0.0));
  SmallVector<Value> result = kb.loop(
      kb.index(0), perTeam, kb.index(1), init,
      [&](Value j, ValueRange acc) -> SmallVector<Value> {
        SmallVector<Value> next;
        for (size_t i = 0; i < reduced.size(); ++i) {
          Value part = kb.load(
              partials, kb.add(kb.add(first, j),
                               kb.index(static_cast<int64_t>(i) * slots)));
          next.push_back(max ? kb.fmax(acc[i], part) : kb.fadd(acc[i], part));
        }
        return next;
      });
  kb.barrier();
  return result;
}

Value workgroupSum(KernelBuilder &kb, Value value, Value partials,
                   int64_t workgroupSize) {
  return teamReduce(kb, {value}, partials, workgroupSize, workgroupSize,
                    /*max=*/false)[0];
}

Value workgroupMax(KernelBuilder &kb, Value value, Value partials,
                   int64_t workgroupSize) {
  return teamReduce(kb, {value}, partials, workgroupSize, workgroupSize,
                    /*max=*/true)[0];
}

} // namespace fmc::gpu
