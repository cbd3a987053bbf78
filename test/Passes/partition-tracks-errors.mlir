// fm-partition-tracks refuses what it cannot split evenly, a rank outside
// the world, a model without parallel tracks and a model split already.
// RUN: fmc-opt %s --split-input-file --fm-partition-tracks="ranks=2 rank=1" --verify-diagnostics
// RUN: not fmc-opt %S/partition-tracks.mlir --fm-partition-tracks="ranks=3 rank=0" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not fmc-opt %S/partition-tracks.mlir --fm-partition-tracks="ranks=2 rank=2" 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not fmc-opt %S/partition-tracks.mlir --fm-partition-tracks="ranks=0" 2>&1 | FileCheck %s --check-prefix=RANKS
// DIVIDE: error: 'fm.parallel_tracks' op (block 0) has 4 tracks, which ranks = 3 does not divide: give a divisor of 4
// RANK: error: rank must be from 0 to 1, got 2
// RANKS: error: ranks must be 1 or more, got 0

// expected-error @+1 {{ranks splits the tracks of fm.parallel_tracks blocks over ranks (the AFM server model's parallel-track blocks), and this model has none}}
module {
  func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
    return %h : tensor<?x8xf32>
  }
}

// -----

// expected-error @+1 {{the model is already partitioned over ranks (fm.track_partition)}}
module attributes {fm.track_partition = array<i64: 0, 3>} {
  func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
    return %h : tensor<?x8xf32>
  }
}

// -----

module {
  fm.kv_cache @c0 linear capacity = 8, kv_heads = 1, head_dim = 8 : f32
  func.func @f(%h: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
    // expected-error @+1 {{is already split over 2 ranks}}
    %y = fm.parallel_tracks mean depth = 1 ranks = 2 %h : tensor<?x8xf32> {
    ^bb0(%x: tensor<?x8xf32>):
      %a = fm.attention global %x, %x, %x at %pos reads @c0 writes @c0 heads = 1, kv_heads = 1, head_dim = 8
          : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
      fm.yield %a : tensor<?x8xf32>
    }
    return %y : tensor<?x8xf32>
  }
}
