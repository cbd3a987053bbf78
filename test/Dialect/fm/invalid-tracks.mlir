// Diagnostics of fm.parallel_tracks.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs at least one track}}
  %y = "fm.parallel_tracks"(%h) <{combine = #fm<track_combine mean>, depth = 1 : i64}> : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{depth must be positive, got 0}}
  %y = fm.parallel_tracks mean depth = 0 %h : tensor<?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>):
    fm.yield %x : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%h: tensor<?x8xf32>, %g: tensor<?x4xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{track 1 must take one argument of type 'tensor<?x8xf32>'}}
  %y = fm.parallel_tracks sum depth = 1 %h : tensor<?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>):
    fm.yield %x : tensor<?x8xf32>
  }, {
  ^bb0(%x: tensor<?x4xf32>):
    fm.yield %h : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%h: tensor<?x8xf32>, %g: tensor<?x4xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{track 0 must yield one 'tensor<?x8xf32>'}}
  %y = fm.parallel_tracks sum depth = 1 %h : tensor<?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>):
    fm.yield %g : tensor<?x4xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

fm.kv_cache @c linear capacity = 16, kv_heads = 1, head_dim = 8 : f32
func.func @f(%h: tensor<?x8xf32>, %p: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{track 0 has 1 attention layers, expected depth 2}}
  %y = fm.parallel_tracks mean depth = 2 %h : tensor<?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>):
    %a = fm.attention global %x, %x, %x at %p reads @c writes @c heads = 1, kv_heads = 1, head_dim = 8
        : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
    fm.yield %a : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'fm.yield' op expects parent op 'fm.parallel_tracks'}}
  fm.yield %h : tensor<?x8xf32>
}

// -----

func.func @f(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{ranks must be at least 2 when given, got 1}}
  %y = fm.parallel_tracks mean depth = 1 ranks = 1 %h : tensor<?x8xf32> {
  ^bb0(%x: tensor<?x8xf32>):
    fm.yield %x : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}
